package lifecycle

import (
	"strings"
	"testing"
)

func outOfScope(min int) Observation {
	return OutOfScope(target, "redis", at(min), "excluded by scope lab", "lab")
}

// apply folds observations and returns the final state and every event.
func apply(t *testing.T, obs ...Observation) (State, []Event) {
	t.Helper()
	var s State
	var evs []Event
	for _, o := range obs {
		r, err := DefaultPolicy().Apply(s, o)
		if err != nil {
			t.Fatal(err)
		}
		s, evs = r.State, append(evs, r.Events...)
	}
	return s, evs
}

func kinds(evs []Event) string {
	var k []string
	for _, e := range evs {
		k = append(k, string(e.Kind))
	}
	return strings.Join(k, ",")
}

// TestOutOfScope: an open finding whose endpoint left the scope is marked
// out-of-scope (one event, never "closed"), is no longer open, and stays so
// however often it is observed out of scope.
func TestOutOfScope(t *testing.T) {
	for _, prev := range [][]Observation{
		{exposed(0, base)},
		{exposed(0, base), exposed(1, with(func(s *snap) { s.datasets["db1"] = 50 }))}, // changed
		{exposed(0, base), gone(1), gone(2), exposed(3, base)},                         // reopened
		{exposed(0, base), gone(1)},                                                    // mid-closing streak
	} {
		obs := append(prev, outOfScope(10), outOfScope(11), outOfScope(12))
		s, evs := apply(t, obs...)
		if s.Status != StatusOutOfScope || s.Status.IsOpen() || !s.Status.Valid() || len(s.Closing) != 0 || !s.ClosedAt.IsZero() {
			t.Fatalf("%s: state %s, closing %v, closed at %v", kinds(evs), s.Status, s.Closing, s.ClosedAt)
		}
		last := evs[len(evs)-1]
		if last.Kind != EventOutOfScope || strings.Count(kinds(evs), "out-of-scope") != 1 {
			t.Fatalf("events %s", kinds(evs))
		}
		if want := "out-of-scope: redis on 127.0.0.5:6379 is no longer monitored; it was exposed when last checked (excluded by scope lab)"; last.Summary != want {
			t.Fatalf("summary %q", last.Summary)
		}
		if strings.Count(kinds(evs), "closed") != strings.Count(kinds(apply2(t, prev)), "closed") {
			t.Fatalf("out-of-scope closed the finding: %s", kinds(evs))
		}
	}
	// Untracked and closed findings are not affected.
	if s, evs := apply(t, gone(0), outOfScope(1)); s.Status != StatusUntracked || len(evs) != 0 {
		t.Fatalf("untracked: %s %s", s.Status, kinds(evs))
	}
	if s, evs := apply(t, exposed(0, base), gone(1), gone(2), outOfScope(3)); s.Status != StatusClosed || kinds(evs) != "opened,closed" {
		t.Fatalf("closed: %s %s", s.Status, kinds(evs))
	}
}

func apply2(t *testing.T, obs []Observation) []Event { _, evs := apply(t, obs...); return evs }

// TestBackInScope: a finding back in scope is watched again — open when
// still exposed (changed if it changed meanwhile), closed after the usual
// streak when gone.
func TestBackInScope(t *testing.T) {
	s, evs := apply(t, exposed(0, base), outOfScope(1), exposed(2, base))
	if s.Status != StatusOpen || kinds(evs) != "opened,out-of-scope" {
		t.Fatalf("same: %s %s", s.Status, kinds(evs))
	}
	s, evs = apply(t, exposed(0, base), outOfScope(1), exposed(2, with(func(s *snap) { s.datasets["db1"] = 50 })))
	if s.Status != StatusChanged || kinds(evs) != "opened,out-of-scope,changed" {
		t.Fatalf("changed: %s %s", s.Status, kinds(evs))
	}
	s, evs = apply(t, exposed(0, base), outOfScope(1), gone(2), gone(3))
	if s.Status != StatusClosed || kinds(evs) != "opened,out-of-scope,closed" {
		t.Fatalf("gone: %s %s", s.Status, kinds(evs))
	}
}
