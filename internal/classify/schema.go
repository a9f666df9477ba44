// Schema-only classification: field names and store types, before any
// value.

package classify

import (
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
)

type schemaHit struct {
	conf   float32
	rules  []string
	fields []string
}

// schemaClasses classifies the schema alone: field names with a strong
// signal (≥0.7) and typed fields.
func (r *run) schemaClasses(fields []finding.Field) map[class]*schemaHit {
	out := map[class]*schemaHit{}
	add := func(c class, conf float32, rule, field string) {
		h := out[c]
		if h == nil {
			h = &schemaHit{}
			out[c] = h
		}
		if conf > h.conf {
			h.conf = conf
		}
		h.rules = addUnique(h.rules, rule, 16)
		h.fields = addUnique(h.fields, field, maxFields)
	}
	for _, f := range fields {
		pi := r.path(f.Name)
		if c, ok := schemaTypes[strings.ToLower(f.Type)]; ok {
			add(c, 0.95, "schema:type_"+strings.ToLower(f.Type), pi.safe)
			continue
		}
		flag, dateType := isFlagType(f.Type)
		if flag {
			continue
		}
		for c := class(0); c < numClasses; c++ {
			if dateType && c != cDOB {
				continue
			}
			if pi.sig[c] >= 0.7 {
				add(c, pi.sig[c], "schema:"+pi.rule[c], pi.safe)
			}
		}
	}
	return out
}

// isFlagType: booleans and numbers other than big integers cannot hold
// most classes; a boolean "email_verified" says nothing.
// Date types can hold only a date of birth.
func isFlagType(t string) (flag, date bool) {
	switch strings.ToLower(t) {
	case "boolean", "bool", "object", "nested", "binary", "json", "jsonb", "half_float", "scaled_float":
		return true, false
	case "date", "timestamp", "timestamptz", "datetime", "time", "date_nanos", "timestamp without time zone", "timestamp with time zone":
		return false, true
	}
	return false, false
}
