package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/leakwatch/leakwatch/internal/limits"
)

// Duration is a time.Duration written as "30s", "1m30s", "250ms".
type Duration struct{ D time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n, "want a duration such as 30s, not a %s", kindName(n))
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return lineErr(n, "invalid duration %q (use e.g. 30s, 1m, 250ms)", n.Value)
	}
	d.D = v
	return nil
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.D.String(), nil }

func (d Duration) String() string { return d.D.String() }

// Size is a byte count written as 1048576, "1MiB", "512KiB", "2MB".
type Size int64

// UnmarshalYAML parses a byte size.
func (s *Size) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n, "want a size such as 1MiB, not a %s", kindName(n))
	}
	v, err := limits.ParseSize(n.Value)
	if errors.Is(err, limits.ErrSize) {
		return lineErr(n, "invalid size %q (use e.g. 1MiB, 512KiB, 65536)", n.Value)
	}
	if err != nil {
		return lineErr(n, "%v", err)
	}
	*s = Size(v)
	return nil
}

// PortList is a list of ports: [6379, 9200, "8000-8010"] or "6379,9200".
type PortList []int

// UnmarshalYAML reads a sequence of ports/ranges or one comma-separated
// string.
func (p *PortList) UnmarshalYAML(n *yaml.Node) error {
	var parts []*yaml.Node
	switch n.Kind {
	case yaml.ScalarNode:
		for _, s := range strings.Split(n.Value, ",") {
			parts = append(parts, &yaml.Node{Kind: yaml.ScalarNode, Value: strings.TrimSpace(s), Line: n.Line, Column: n.Column})
		}
	case yaml.SequenceNode:
		parts = n.Content
	default:
		return lineErr(n, "want a list of ports, not a %s", kindName(n))
	}
	var ps limits.Ports
	for _, c := range parts {
		if c.Kind != yaml.ScalarNode {
			return lineErr(c, "want a port or a range such as 8000-8010, not a %s", kindName(c))
		}
		if err := ps.Add(c.Value); err != nil {
			return lineErr(c, "%v", err)
		}
	}
	*p = ps.List()
	return nil
}

// Secret is a value that may come from the environment (${NAME}) and is
// never printed.
type Secret struct {
	Value string
	// FromEnv names the variables the value was built from.
	FromEnv []string
}

var envRef = regexp.MustCompile(`\$\$\{|\$\{([^}]*)\}`)
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// lookupEnv is os.LookupEnv (a variable for tests).
var lookupEnv = os.LookupEnv

// UnmarshalYAML expands ${NAME} references; an unset variable is an error.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return lineErr(n, "want a string, not a %s", kindName(n))
	}
	var err error
	var from []string
	v := envRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$${" {
			return "${"
		}
		name := m[2 : len(m)-1]
		if !envName.MatchString(name) {
			if err == nil {
				err = lineErr(n, "invalid environment variable reference %q", m)
			}
			return ""
		}
		val, ok := lookupEnv(name)
		if !ok && err == nil {
			err = lineErr(n, "environment variable %s is not set", name)
		}
		from = append(from, name)
		return val
	})
	if err != nil {
		return err
	}
	s.Value, s.FromEnv = v, from
	return nil
}

// String never shows the value.
func (s Secret) String() string {
	switch {
	case s.Value == "":
		return ""
	case len(s.FromEnv) > 0:
		return "*** (from $" + strings.Join(s.FromEnv, ", $") + ")"
	}
	return "***"
}

// MarshalYAML never writes the value.
func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

// posError is an error at a line of the file.
type posError struct {
	line int
	msg  string
}

func (e *posError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func lineErr(n *yaml.Node, format string, args ...any) error {
	return &posError{line: n.Line, msg: fmt.Sprintf(format, args...)}
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.AliasNode:
		return "alias"
	}
	return "scalar"
}
