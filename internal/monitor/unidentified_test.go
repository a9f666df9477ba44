package monitor

import (
	"context"
	"errors"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
)

// TestUnidentifiedReportKeepsKnownFindings: when a limit stops every
// prober before one identifies the service (the engine's "unknown"
// finding), the open findings known at that endpoint are not gone — their
// state is unknown for that check — so repeated limits never close them.
func TestUnidentifiedReportKeepsKnownFindings(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mon := monitorFor(t, st, `
api: {disable: true}
probe: {rate: 0}
monitor: {jitter: 0}
scopes:
  - name: lab
    targets: [127.0.0.1]
    ports: [6379]
`)
	r := mon.byName["lab"]
	tgt := finding.Target{Host: "127.0.0.1", Port: 6379}
	open := deepSnapshot()
	open.Target, open.Service, open.ID = tgt, "redis", ""
	open.Finalize()
	run, err := st.BeginScan(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	r.record(ctx, run.ID, lifecycle.FromFinding(open, "lab"))
	known, err := r.openFindings(ctx, run.ID)
	if err != nil || len(known) != 1 {
		t.Fatalf("known: %v %v", known, err)
	}
	ap := netip.MustParseAddrPort("127.0.0.1:6379")
	for range 3 {
		check, err := st.BeginScan(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		rep := r.deep.Unfinished(probe.Target{Addr: ap.Addr(), Port: int(ap.Port())}, errors.New("probe deadline"))
		if !rep.Unidentified() {
			t.Fatal("test report is not an unidentified one")
		}
		r.observeReport(ctx, check.ID, rep, known[ap], "deep")
	}
	d, err := st.GetFinding(ctx, open.ID, store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Finding.Status != lifecycle.StatusOpen {
		t.Fatalf("finding %s after 3 no-verdict checks, want open", d.Finding.Status)
	}
	var unknown int
	for _, e := range d.Timeline {
		if o := e.Observation; o != nil && o.Outcome == lifecycle.OutcomeUnknown && strings.HasPrefix(o.Reason, "no verdict") {
			unknown++
		}
		if e.Event != nil && e.Event.Kind == lifecycle.EventClosed {
			t.Fatal("closed by a check that reached no verdict")
		}
	}
	if unknown != 3 {
		t.Fatalf("%d unknown observations, want 3", unknown)
	}
}
