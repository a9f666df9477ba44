package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// OutOfScope is the observation of a tracked endpoint that left the scope
// (not contacted).
func (fx Fixture) OutOfScope(at time.Time) lifecycle.Observation {
	return lifecycle.OutOfScope(fx.Target, fx.Service, at, "excluded by scope "+fx.Scope, fx.Scope)
}

// testOutOfScope: an open finding whose endpoint left the scope is stored
// out-of-scope — not open, not closed — with its event in the timeline and
// no closing; it is listed by FilterOutOfScope only, and comes back open
// when it is seen exposed in scope again.
func testOutOfScope(t *testing.T, f Factory) {
	var routed []lifecycle.EventKind
	s := f(t, store.Options{Route: func(ev lifecycle.Event, _ string) []string {
		routed = append(routed, ev.Kind)
		return []string{store.DefaultRoute}
	}})
	ctx := ctxT(t)
	a := NewFixture("127.0.0.30", 6379)
	record(t, s, "s1", a.Exposed(T0, "email", map[string]int64{"db0": 3}))
	record(t, s, "s2", a.Gone(T0.Add(mins(1)))) // a closing streak in progress
	rec := record(t, s, "s3", a.OutOfScope(T0.Add(mins(2))))
	if !slices.Equal(kinds(rec.Events), []lifecycle.EventKind{lifecycle.EventOutOfScope}) {
		t.Fatalf("events %v", kinds(rec.Events))
	}
	// Observed out of scope again: nothing new.
	if rec := record(t, s, "s4", a.OutOfScope(T0.Add(mins(3)))); len(rec.Events) != 0 {
		t.Fatalf("second out-of-scope: events %v", kinds(rec.Events))
	}
	d, err := s.GetFinding(ctx, a.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Finding.Status != lifecycle.StatusOutOfScope || !d.Finding.ClosedAt.IsZero() || len(d.Finding.Closing) != 0 || d.Finding.Scope != "lab" {
		t.Fatalf("finding %+v", d.Finding)
	}
	var evs []lifecycle.EventKind
	var outcomes []lifecycle.Outcome
	for _, e := range d.Timeline {
		if e.Event != nil {
			evs = append(evs, e.Event.Kind)
		}
		if e.Observation != nil {
			outcomes = append(outcomes, e.Observation.Outcome)
		}
	}
	if !slices.Equal(evs, []lifecycle.EventKind{lifecycle.EventOpened, lifecycle.EventOutOfScope}) {
		t.Errorf("timeline events %v", evs)
	}
	if !slices.Contains(outcomes, lifecycle.OutcomeOutOfScope) {
		t.Errorf("timeline outcomes %v", outcomes)
	}
	for flt, want := range map[store.StatusFilter]int{store.FilterOpen: 0, store.FilterClosed: 0, store.FilterOutOfScope: 1, store.FilterAll: 1} {
		list, err := s.ListFindings(ctx, store.FindingFilter{Status: flt, Scope: "lab"})
		if err != nil || len(list) != want {
			t.Errorf("ListFindings(%q) = %d findings, %v; want %d", flt, len(list), err, want)
		}
	}
	if slices.Contains(routed, lifecycle.EventClosed) {
		t.Errorf("out-of-scope routed a closed event: %v", routed)
	}
	// Back in scope and exposed: open again, not reopened.
	rec = record(t, s, "s5", a.Exposed(T0.Add(mins(4)), "email", map[string]int64{"db0": 3}))
	d, _ = s.GetFinding(ctx, a.ID(), store.TimelineQuery{})
	if d.Finding.Status != lifecycle.StatusOpen || len(rec.Events) != 0 || d.Finding.ReopenCount != 0 {
		t.Fatalf("back in scope: status %s, events %v", d.Finding.Status, kinds(rec.Events))
	}
}
