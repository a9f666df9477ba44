package classify

import "sort"

// RecordClass is one class found in one record: the class name, the field
// path it was found under (sanitised like the paths of a finding) and the
// rule that decided it. It never carries the value.
type RecordClass struct {
	Class string `json:"class"`
	Field string `json:"field"`
	Rule  string `json:"rule"`
}

// RecordClasses classifies one record on its own (no dataset context:
// schema, neighbours) and lists the classes found in it, one entry per
// class and field, sorted by class then field. It is what accuracy is
// measured on from outside (`leakwatch classify --per-record`). Safe for
// concurrent use.
func (e *RuleClassifier) RecordClasses(rec Record) []RecordClass {
	r := e.newRun()
	r.sampled = 1
	r.record(&rec)
	var out []RecordClass
	for pi, ps := range r.seen {
		for c := class(0); c < numClasses; c++ {
			if ps.classes.has(c) {
				out = append(out, RecordClass{Class: c.String(), Field: pi.safe, Rule: ps.rule[c]})
			}
		}
	}
	e.release(r)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Class != out[j].Class {
			return out[i].Class < out[j].Class
		}
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Rule < out[j].Rule
	})
	return out
}
