package classify

import (
	"encoding/json"
	"sort"
	"strconv"
)

// Value is one leaf of a sampled record: its field path ("user.email",
// "devices[].mac" flattened as "devices.mac") and its text.
type Value struct {
	Path string
	Text string
}

// Record is one sampled record, flattened. Probers build records; only the
// classifier reads the raw text, and nothing raw leaves it.
type Record struct {
	Values []Value
}

// Size is the number of bytes of text in the record.
func (r Record) Size() int {
	n := 0
	for _, v := range r.Values {
		n += len(v.Path) + len(v.Text)
	}
	return n
}

// maxDepth bounds flattening of hostile, deeply nested documents.
const maxDepth = 32

// maxLeaves bounds the number of values taken from one record.
const maxLeaves = 4096

// FromJSON flattens a decoded JSON document (as from encoding/json into
// any) into a record. Array indices are dropped from paths so that every
// element of a list shares one path.
func FromJSON(doc any) Record {
	var r Record
	flatten(&r, "", doc, 0)
	return r
}

func flatten(r *Record, path string, v any, depth int) {
	if depth > maxDepth || len(r.Values) >= maxLeaves {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			flatten(r, p, x[k], depth+1)
		}
	case []any:
		for _, e := range x {
			flatten(r, path, e, depth+1)
		}
	case string:
		r.Values = append(r.Values, Value{Path: path, Text: x})
	case float64:
		r.Values = append(r.Values, Value{Path: path, Text: strconv.FormatFloat(x, 'f', -1, 64)})
	case json.Number:
		r.Values = append(r.Values, Value{Path: path, Text: x.String()})
	case bool:
		r.Values = append(r.Values, Value{Path: path, Text: strconv.FormatBool(x)})
	case nil:
	default:
		// Other decoders (bson, yaml) hand over their own scalar types.
		if s, ok := x.(interface{ String() string }); ok {
			r.Values = append(r.Values, Value{Path: path, Text: s.String()})
		}
	}
}

// FromRow makes a record from a table row with column names.
func FromRow(columns []string, values []string) Record {
	r := Record{Values: make([]Value, 0, len(columns))}
	for i, c := range columns {
		if i < len(values) {
			r.Values = append(r.Values, Value{Path: c, Text: values[i]})
		}
	}
	return r
}

// FromText makes a record from one free-text value under a key (a Redis
// key, a file name, a topic).
func FromText(key, text string) Record {
	return Record{Values: []Value{{Path: key, Text: text}}}
}
