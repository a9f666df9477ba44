package monitor

import (
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// A light re-check that escalated to a deep probe is not recorded; its
// requests count as the deep observation's own, so they are never taken
// for foreign ones.
func TestWithLightAccess(t *testing.T) {
	at := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	snap := func(q, own, after int64) *finding.Finding {
		a := lifecycle.AccessEvidence{Measurable: true,
			Counters: map[string]int64{lifecycle.CounterQueries: q},
			Own:      map[string]int64{lifecycle.CounterQueries: own},
			OwnAfter: map[string]int64{lifecycle.CounterQueries: after}}
		bad := false
		return &finding.Finding{Service: "redis", Status: finding.StatusExposed, ObservedAt: at,
			Evidence: map[string]any{"access": finding.PlainValue(a, &bad), "other": "kept"}}
	}
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
