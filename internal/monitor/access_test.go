package monitor

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// snap is an exposed redis snapshot with a queries reading: the counter q,
// own requests before and after it.
func snap(q, own, after int64) *finding.Finding {
	a := lifecycle.AccessEvidence{Measurable: true,
		Counters: map[string]int64{lifecycle.CounterQueries: q},
		Own:      map[string]int64{lifecycle.CounterQueries: own},
		OwnAfter: map[string]int64{lifecycle.CounterQueries: after}}
	bad := false
	return &finding.Finding{Service: "redis", Status: finding.StatusExposed, ObservedAt: time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC),
		Evidence: map[string]any{"access": finding.PlainValue(a, &bad), "other": "kept"}}
}

// A light re-check that escalated to a deep probe is not recorded; its
// requests count as the deep observation's own, so they are never taken
// for foreign ones.
func TestWithLightAccess(t *testing.T) {
	prev := snap(100, 10, 1)
	light := snap(106, 5, 1)
	deep := snap(140, 30, 1)
	rep := &engine.Report{Finding: deep}
	out := withLightAccess(rep, light)
	d := lifecycle.ForeignAccess(prev, out.Finding, false)
	// 140−100 = 40 = 1 (prev's INFO) + 5+1 (light) + 30 (deep) + 3 foreign.
	if *d.ForeignQueries != 3 {
		t.Errorf("foreign %d, want 3: %+v", *d.ForeignQueries, d.Counters)
	}
	if lifecycle.ParseAccess(deep).Own[lifecycle.CounterQueries] != 30 || out.Finding.Evidence["other"] != "kept" {
		t.Error("the deep report was modified in place, or other evidence lost")
	}
	if withLightAccess(rep, nil) != rep || withLightAccess(nil, light) != nil {
		t.Error("nothing to carry must return the report")
	}
}

// Another site's check of the same endpoint in the same sweep: its own
// requests (before and after its reading) are subtracted whichever side of
// the recorded reading they fell on.
func TestWithConcurrent(t *testing.T) {
	prev := snap(100, 10, 1)
	other := snap(0, 8, 1) // the other site's check: 9 requests
	// The other site's 9 requests before the reading: 100 → 120 = 1 + 10 + 9.
	best := WithConcurrent(snap(120, 10, 1), []*finding.Finding{other, {Service: "redis"}})
	if d := lifecycle.ForeignAccess(prev, best, false); *d.ForeignQueries != 0 {
		t.Errorf("before the reading: foreign %d: %+v", *d.ForeignQueries, d.Counters)
	}
	// ...or after it: they show in the next interval, which subtracts them.
	best = WithConcurrent(snap(111, 10, 1), []*finding.Finding{other})
	next := snap(131, 10, 1) // 111 → 131 = 1 + 9 + 10
	if d := lifecycle.ForeignAccess(best, next, false); *d.ForeignQueries != 0 {
		t.Errorf("after the reading: foreign %d: %+v", *d.ForeignQueries, d.Counters)
	}
	if best.Evidence["other"] != "kept" || len(lifecycle.ParseAccess(other).Concurrent) > 0 {
		t.Error("other evidence lost, or an input modified")
	}
	plain := &finding.Finding{Service: "redis"}
	if WithConcurrent(plain, []*finding.Finding{other}) != plain {
		t.Error("a finding without a reading must come back as is")
	}
}
