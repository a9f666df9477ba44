package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a config error at a place in the file: it prints as
// "FILE:LINE: PATH: MSG" (parts that are unknown are left out).
type Error struct {
	File string
	Line int
	// Path is the key path ("scopes[0].cadence"), "" for the whole file.
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(":")
	}
	if e.Line > 0 {
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteString(":")
	}
	if b.Len() > 0 {
		b.WriteString(" ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldError is what Validate returns: a rule broken at a key path.
type FieldError struct {
	Path string
	Msg  string
	// Line, when set, is the exact line (decode-time errors); otherwise
	// the line is that of Path's key in the file.
	Line int
}

func (e *FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func fieldErr(path, format string, args ...any) *FieldError {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// under prefixes a FieldError's path (other errors pass through).
func under(prefix string, err error) error {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return err
	}
	p := prefix
	if fe.Path != "" && prefix == "" {
		p = fe.Path
	} else if fe.Path != "" {
		if strings.HasPrefix(fe.Path, "[") {
			p += fe.Path
		} else {
			p += "." + fe.Path
		}
	}
	return &FieldError{Path: p, Msg: fe.Msg, Line: fe.Line}
}

// Parse decodes a config from YAML, applies defaults and validates it.
// name is used in error messages and to resolve relative paths.
func Parse(data []byte, name string) (*Config, error) {
	root, err := parseNode(data, name)
	if err != nil {
		return nil, err
	}
	if err := checkNode(root, reflect.TypeOf(Config{}), ""); err != nil {
		return nil, located(err, name, root)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, located(err, name, root)
	}
	c.File = name
	c.ApplyDefaults()
	if err := c.Validate(); err != nil {
		return nil, located(err, name, root)
	}
	return &c, nil
}

// parseNode reads exactly one YAML document holding a mapping.
func parseNode(data []byte, name string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: name, Msg: "the file is empty (see leakwatch.example.yaml)"}
		}
		return nil, syntaxError(err, name)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, syntaxError(err, name)
		}
		return nil, &Error{File: name, Line: line, Msg: "more than one YAML document (remove the second \"---\")"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
			return nil, &Error{File: name, Msg: "the file is empty (see leakwatch.example.yaml)"}
		}
		return nil, &Error{File: name, Line: root.Line, Msg: "want a mapping of keys (scopes:, notifiers:, ...) at the top, not a " + kindName(root)}
	}
	return root, nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func syntaxError(err error, name string) error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: name, Line: line, Msg: "syntax error: " + m[2]}
	}
	return &Error{File: name, Msg: "syntax error: " + strings.TrimPrefix(msg, "yaml: ")}
}

// located turns any decode or validation error into an *Error with the
// file, line and path.
func located(err error, name string, root *yaml.Node) error {
	var fe *FieldError
	var pe *posError
	var te *yaml.TypeError
	switch {
	case errors.As(err, &fe):
		line := fe.Line
		if line == 0 {
			line = lookup(root, fe.Path)
		}
		return &Error{File: name, Line: line, Path: fe.Path, Msg: fe.Msg}
	case errors.As(err, &pe):
		return &Error{File: name, Line: pe.line, Msg: pe.msg}
	case errors.As(err, &te) && len(te.Errors) > 0:
		if m := yamlLine.FindStringSubmatch(te.Errors[0]); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{File: name, Line: line, Msg: m[2]}
		}
		return &Error{File: name, Msg: te.Errors[0]}
	}
	return &Error{File: name, Msg: err.Error()}
}

// lookup finds the line of path's key, or of its deepest existing
// ancestor's.
func lookup(root *yaml.Node, path string) int {
	n, line := root, root.Line
	for _, seg := range splitPath(path) {
		key, next := child(n, seg)
		if next == nil {
			return line
		}
		n, line = next, key.Line
	}
	return line
}

// splitPath turns "scopes[0].cadence" into ["scopes", "[0]", "cadence"].
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.Index(part, "[")
			switch {
			case i < 0:
				out, part = append(out, part), ""
			case i > 0:
				out, part = append(out, part[:i]), part[i:]
			default:
				j := strings.Index(part, "]")
				if j < 0 {
					return append(out, part)
				}
				out, part = append(out, part[:j+1]), part[j+1:]
			}
		}
	}
	return out
}

// child returns the key (the element itself in a list) and value nodes
// of one path segment.
func child(n *yaml.Node, seg string) (key, val *yaml.Node) {
	if strings.HasPrefix(seg, "[") {
		i, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil, nil
		}
		return n.Content[i], n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkNode walks the document against the Go type: unknown and duplicate
// keys, mappings where lists belong and scalars of the wrong type are
// reported with their path.
func checkNode(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.AliasNode {
		return fieldErr(path, "YAML aliases are not supported in leakwatch.yaml")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		err := n.Decode(reflect.New(t).Interface())
		var pe *posError
		if errors.As(err, &pe) {
			return &FieldError{Path: path, Line: pe.line, Msg: pe.msg}
		}
		return err
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkNode(n, t.Elem(), path)
	case reflect.Struct:
		return checkStruct(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return fieldErr(path, "want a list, not a %s", kindName(n))
		}
		for i, c := range n.Content {
			if err := checkNode(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return fieldErr(path, "want a mapping, not a %s", kindName(n))
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if prev, dup := seen[k.Value]; dup {
				return &FieldError{Path: join(path, k.Value), Line: k.Line, Msg: fmt.Sprintf("duplicate key (first at line %d)", prev)}
			}
			seen[k.Value] = k.Line
			if err := checkNode(n.Content[i+1], t.Elem(), join(path, k.Value)); err != nil {
				return err
			}
		}
		return nil
	}
	return checkScalar(n, t, path)
}

func checkStruct(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.MappingNode {
		return fieldErr(path, "want a mapping of keys, not a %s", kindName(n))
	}
	fields := map[string]reflect.Type{}
	var known []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
		known = append(known, name)
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			return &FieldError{Path: join(path, k.Value), Line: k.Line, Msg: unknownKey(k.Value, known, path)}
		}
		if prev, dup := seen[k.Value]; dup {
			return &FieldError{Path: join(path, k.Value), Line: k.Line, Msg: fmt.Sprintf("duplicate key (first at line %d)", prev)}
		}
		seen[k.Value] = k.Line
		if err := checkNode(n.Content[i+1], ft, join(path, k.Value)); err != nil {
			return err
		}
	}
	return nil
}

// unknownKey explains an unknown key, suggesting the closest known one.
func unknownKey(key string, known []string, path string) string {
	where := "at the top level"
	if path != "" {
		where = "in " + path
	}
	msg := fmt.Sprintf("unknown key %q %s", key, where)
	if s := closest(key, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return msg + "; known keys: " + strings.Join(sorted, ", ")
}

func checkScalar(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind != yaml.ScalarNode {
		return fieldErr(path, "want a %s, not a %s", typeName(t), kindName(n))
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return fieldErr(path, "want a %s, not %q", typeName(t), n.Value)
	}
	if t.Kind() == reflect.String && n.Tag != "!!str" && n.Style == 0 {
		// yes/no, numbers and the like silently becoming strings is fine,
		// but a bool where a string belongs is almost always a mistake.
		if n.Tag == "!!bool" {
			return fieldErr(path, "want a string, not the boolean %s (quote it)", n.Value)
		}
	}
	return nil
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "whole number"
	case reflect.Float64, reflect.Float32:
		return "number"
	case reflect.Bool:
		return "boolean (true or false)"
	case reflect.String:
		return "string"
	}
	return t.String()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// closest returns the known key within edit distance 2 of key, if any.
func closest(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(key, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
