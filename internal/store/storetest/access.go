package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ExposedDeltas recomputes the access delta of every pair of consecutive
// exposed observations of finding id at or after since, from the stored
// findings (a non-exposed observation breaks the chain).
func ExposedDeltas(t testing.TB, st store.Store, id string, since time.Time) []*lifecycle.AccessDelta {
	t.Helper()
	ctx := context.Background()
	d, err := st.GetFinding(ctx, id, store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*lifecycle.AccessDelta
	var prev *store.Observation
	for _, e := range d.Timeline {
		if e.Observation == nil || e.Observation.At.Before(since) {
			continue
		}
		if e.Observation.Outcome != lifecycle.OutcomeExposed {
			prev = nil
			continue
		}
		cur, err := st.GetObservation(ctx, e.Observation.ID)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			out = append(out, lifecycle.ForeignAccess(prev.Finding, cur.Finding, false))
		}
		prev = cur
	}
	return out
}
