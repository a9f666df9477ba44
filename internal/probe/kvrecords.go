package probe

import (
	"strings"
	"unicode"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// Key/value stores (redis, memcached, etcd, zookeeper, NATS, MQTT) turn
// each sampled value into a classify.Record the same way: a JSON object or
// array gives its fields, anything else is one text value under the key's
// pattern, and the raw key is kept too so the classifier also sees data
// carried in key names.

// JSONRecord flattens text if it is a JSON object or array (after
// trimming space) with at least one value.
func JSONRecord(text string) (classify.Record, bool) {
	t := strings.TrimSpace(text)
	if len(t) < 2 || (t[0] != '{' && t[0] != '[') {
		return classify.Record{}, false
	}
	r, err := classify.FromJSONBytes([]byte(t))
	if err != nil || len(r.Values) == 0 {
		return classify.Record{}, false
	}
	return r, true
}

// ValueRecord makes a record of a whole value: a JSON document is
// flattened from its root (its fields are the record's fields), other text
// is one value under path.
func ValueRecord(path, text string) classify.Record {
	if r, ok := JSONRecord(text); ok {
		return r
	}
	return classify.FromText(path, text)
}

// FieldRecord makes a record of one field's value: a JSON object or array
// is flattened below path ("profile" + "email" → "profile.email"), anything
// else is one value under path.
func FieldRecord(path, text string) classify.Record {
	r, ok := JSONRecord(text)
	if !ok {
		return classify.FromText(path, text)
	}
	for i := range r.Values {
		r.Values[i].Path = joinPath(path, r.Values[i].Path)
	}
	return r
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

// KeyRecord is ValueRecord(pattern, text) with the raw key appended under
// keyPath ("_key", "_subject", "_topic").
func KeyRecord(keyPath, key, pattern, text string) classify.Record {
	r := ValueRecord(pattern, text)
	r.Values = append(r.Values, classify.Value{Path: keyPath, Text: key})
	return r
}

// KeyPattern says how a store's keys split into segments, so that keys
// differing only in ids group into one dataset or path: a segment holding
// a digit or longer than 24 bytes is variable and replaced by Wildcard
// ("user:1001:profile" → "user:*:profile").
type KeyPattern struct {
	// Seps are the separator characters; the first joins the segments
	// again unless Join is set.
	Seps string
	Join string
	// Wildcard replaces a variable segment ("*" when empty).
	Wildcard string
	// DropEmpty drops empty segments (doubled or outer separators); a key
	// with no segment left is its own pattern unless Rooted.
	DropEmpty bool
	// Rooted keeps a leading Join ("/users/1" → "/users/*"); with
	// DropEmpty, a key of separators only gives "/" or "".
	Rooted bool
}

// VariableSegment reports a key segment that holds an id: a digit, or
// more than 24 bytes.
func VariableSegment(s string) bool {
	return len(s) > 24 || strings.IndexFunc(s, unicode.IsDigit) >= 0
}

// Of returns key's pattern.
func (k KeyPattern) Of(key string) string {
	isSep := func(r rune) bool { return strings.ContainsRune(k.Seps, r) }
	var segs []string
	if k.DropEmpty {
		segs = strings.FieldsFunc(key, isSep)
		if len(segs) == 0 && !k.Rooted {
			return key
		}
	} else {
		segs = splitAny(key, isSep)
	}
	wild := k.Wildcard
	if wild == "" {
		wild = "*"
	}
	for i, s := range segs {
		if VariableSegment(s) {
			segs[i] = wild
		}
	}
	join := k.Join
	if join == "" && k.Seps != "" {
		join = k.Seps[:1]
	}
	p := strings.Join(segs, join)
	if k.Rooted && k.DropEmpty && join != "" && strings.HasPrefix(key, join) {
		p = join + p
	}
	return p
}

// splitAny is strings.Split on any separator: empty segments are kept.
func splitAny(s string, isSep func(rune) bool) []string {
	var out []string
	start := 0
	for i, r := range s {
		if isSep(r) {
			out = append(out, s[start:i])
			start = i + len(string(r))
		}
	}
	return append(out, s[start:])
}
