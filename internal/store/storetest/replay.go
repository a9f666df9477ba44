package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ReplayHistory replays every finding's stored observations, in commit
// order, through the default lifecycle policy: the events each produces
// and the final state must be the stored ones — no half-applied
// transaction anywhere (crash tests call it after their kills). It
// returns the number of findings and of observations replayed.
func ReplayHistory(t testing.TB, st store.Store) (findings, replayed int) {
	t.Helper()
	ctx := context.Background()
	fs, err := st.ListFindings(ctx, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	pol := lifecycle.DefaultPolicy()
	stamp := func(kind lifecycle.EventKind, at time.Time) string {
		return string(kind) + "@" + at.Format(time.RFC3339Nano)
	}
	for _, f := range fs {
		d, err := st.GetFinding(ctx, f.ID, store.TimelineQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var obs []store.Observation
		storedEvents := map[int64][]string{}
		for _, e := range d.Timeline {
			if e.Observation != nil {
				obs = append(obs, *e.Observation)
			}
			if e.Event != nil {
				storedEvents[e.Event.ObservationID] = append(storedEvents[e.Event.ObservationID], stamp(e.Event.Kind, e.Event.At))
			}
		}
		slices.SortFunc(obs, func(a, b store.Observation) int { return int(a.ID - b.ID) })
		var state lifecycle.State
		for _, o := range obs {
			full, err := st.GetObservation(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			lo := lifecycle.Observation{ID: o.ID, FindingID: o.FindingID, Target: f.Target, Service: f.Service,
				At: o.At, Outcome: o.Outcome, Reason: o.Reason, Finding: full.Finding, Scope: o.Scope}
			res, err := pol.Apply(state, lo)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range res.Events {
				got = append(got, stamp(e.Kind, e.At))
			}
			if !slices.Equal(got, storedEvents[o.ID]) {
				t.Errorf("%s observation %d: replay events %v, stored %v", f.ID, o.ID, got, storedEvents[o.ID])
			}
			state = res.State
			replayed++
		}
		want, _ := json.Marshal(state)
		have, _ := json.Marshal(d.Finding.State)
		if string(want) != string(have) {
			t.Errorf("%s: replayed state differs from the stored one:\n%s\n%s", f.ID, want, have)
		}
	}
	return len(fs), replayed
}
