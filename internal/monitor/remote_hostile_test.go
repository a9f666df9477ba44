package monitor

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
)

// stubRemote answers every chunk with res (a cluster coordinator hands
// back what workers wrote to NATS, which anyone with access can write).
type stubRemote struct{ res ChunkResult }

func (s stubRemote) RunChunk(context.Context, Chunk) (ChunkResult, error) { return s.res, nil }
func (s stubRemote) InFlight() int                                        { return 1 }

// TestRecordChunkMalformedChecks: checks no engine makes — unidentified
// without a finding, a finding about a file — neither crash the monitor
// (a nil finding was read) nor hold the chunk for ever (an observation
// the store refuses was retried without end): each is skipped, and the
// chunk's other checks are recorded.
func TestRecordChunkMalformedChecks(t *testing.T) {
	mon, st, _ := newTestMonitor(t, 16)
	r := mon.byName["lab"]
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	base := netip.MustParsePrefix(r.cfg.Targets[0]).Addr()
	a1, a2, a3 := base.Next(), base.Next().Next(), base.Next().Next().Next()
	run, err := st.BeginScan(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	tracked := storetest.NewFixture(a1.String(), 6379)
	if _, err := st.RecordObservation(ctx, run.ID, tracked.Exposed(storetest.T0, "email", map[string]int64{"users": 10})); err != nil {
		t.Fatal(err)
	}
	known, err := r.openFindings(ctx, run.ID)
	if err != nil || len(known) != 1 {
		t.Fatalf("known %v, %v", known, err)
	}
	good := storetest.NewFixture(a3.String(), 6379).Exposed(time.Now().UTC(), "email", map[string]int64{"users": 5}).Finding
	fileF := *good
	fileF.Target = finding.FileTarget("/srv/export.csv")
	mon.o.Remote = stubRemote{ChunkResult{Checks: []Check{
		{Target: probe.Target{Addr: a1, Port: 6379}, Unidentified: true, Outcome: probe.OutcomeTimeout},
		{Target: probe.Target{Addr: a2, Port: 6379}, Finding: &fileF, Outcome: probe.OutcomeExposed},
		{Target: probe.Target{Addr: a3, Port: 6379}, Finding: good, Outcome: probe.OutcomeExposed},
	}}}
	var eps []scope.Endpoint
	for _, a := range []netip.Addr{a1, a2, a3} {
		eps = append(eps, scope.Endpoint{Addr: a, Port: 6379})
	}
	run2, err := st.BeginScan(ctx, "lab") // observations are keyed by run and finding
	if err != nil {
		t.Fatal(err)
	}
	if err := r.recordChunk(ctx, Chunk{Scope: "lab", RunID: run2.ID, Endpoints: eps}, known, "sweep"); err != nil {
		t.Fatalf("recordChunk: %v", err)
	}
	list, err := st.ListFindings(ctx, store.FindingFilter{Scope: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.Finding{}
	for _, f := range list {
		byID[f.ID] = f
	}
	if len(list) != 2 || byID[good.ID].ID == "" || byID[tracked.ID()].Observations < 2 {
		t.Errorf("findings %+v: want the good one recorded and the tracked one observed again", list)
	}
}
