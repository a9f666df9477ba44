package classify

import (
	"slices"
	"testing"
)

// TestRecordClassesAgreesWithScoring: the exported per-record API reports
// exactly the classes the accuracy tests score, each with a field and a
// rule, on every hand-written hard case.
func TestRecordClassesAgreesWithScoring(t *testing.T) {
	e := testEngine(t)
	docs := loadCases(t, "testdata/hard_cases.jsonl")
	found := 0
	for _, d := range docs {
		want := e.recordClasses(d.rec)
		var got classSet
		for _, rc := range e.RecordClasses(d.rec) {
			c := classByName(rc.Class)
			if c == numClasses || rc.Rule == "" {
				t.Fatalf("%s: entry %+v: unknown class or no rule", d.note, rc)
			}
			got.add(c)
			found++
		}
		if got != want {
			t.Errorf("%s: RecordClasses %b, scoring %b", d.note, got, want)
		}
	}
	if found < len(docs)/2 {
		t.Errorf("only %d classes in %d documents", found, len(docs))
	}
	rec := Record{Values: []Value{{Path: "user.email", Text: "jane@corp.io"}, {Path: "session:4f1c9a2b77e0", Text: "jane@corp.io"}}}
	got := e.RecordClasses(rec)
	want := []RecordClass{{Class: "email", Field: "session:{id}", Rule: "value:email"}, {Class: "email", Field: "user.email", Rule: "value:email"}}
	if !slices.Equal(got, want) {
		t.Errorf("RecordClasses = %+v, want %+v (sorted, sanitised paths)", got, want)
	}
}

func classByName(n string) class {
	for c := class(0); c < numClasses; c++ {
		if c.String() == n {
			return c
		}
	}
	return numClasses
}
