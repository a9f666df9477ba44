package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOwnChecksNeverForeign: leakwatch's checks of one endpoint must not
// count one another as foreign access. Two scopes watch the same real
// Redis (no other client), each sweeping and re-checking every second with
// no jitter, so their sweeps and re-checks start together; every check
// reads Redis's own counters. Over the run no interval between two
// observations may show a foreign command or another client, and no
// accessed event may be raised — checks of one endpoint take turns (exclusive.go),
// and each is recorded before the next starts.
func TestOwnChecksNeverForeign(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a monitor against a real Redis for seconds")
	}
	rd := testenv.StartRedis(t, testenv.RedisOptions{})
	for i := range 20 {
		rd.CLI(t, "", "SET", fmt.Sprintf("user:%d", i), fmt.Sprintf(`{"email":"user%d@example.com"}`, i))
	}
	ap := netip.AddrPortFrom(rd.Addr, uint16(rd.Port))
	ep, port := ap.String(), strconv.Itoa(rd.Port)
	cfg := `
api: {disable: true}
probe: {rate: 0}
monitor: {jitter: 0}
scopes:`
	for _, name := range []string{"a", "b"} {
		cfg += fmt.Sprintf(`
  - name: %s
    targets: [%s]
    ports: [%s]
    cadence: 1s
    recheck: 1s`, name, ep, port)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Second)
	defer cancel()
	if err := monitorFor(t, st, cfg+"\n").Run(ctx); err != nil {
		t.Fatal(err)
	}
	id := finding.Fingerprint(finding.Target{Host: rd.Addr.String(), Port: rd.Port}, "redis")
	d, err := st.GetFinding(context.Background(), id, store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	deltas := storetest.ExposedDeltas(t, st, id, time.Time{})
	if len(deltas) < 3 {
		t.Fatalf("%d intervals between exposed observations in 9 s of two scopes; want at least 3", len(deltas))
	}
	measured := 0
	for _, dl := range deltas {
		if !dl.Measurable {
			continue
		}
		measured++
		// Connections are noise by design (a sweep's bare connect, the
		// probers that tried the port before Redis's; see Seen): the
		// commands and the clients at the reading are what must be
		// leakwatch's alone.
		if dl.ForeignQueries == nil || *dl.ForeignQueries != 0 || len(dl.NewClients) > 0 || len(dl.Clients) > 0 {
			t.Errorf("leakwatch's own checks counted as foreign use: %s %+v", dl.Summary(), dl.Counters)
		}
	}
	if measured == 0 {
		t.Fatal("no interval measurable: the test proves nothing")
	}
	for _, e := range d.Timeline {
		if e.Event != nil && e.Event.Kind == lifecycle.EventAccessed {
			t.Errorf("accessed event with leakwatch the only client: %s", e.Event.Summary)
		}
	}
	t.Logf("%d observations, %d measured intervals, none with foreign use", len(deltas)+1, measured)
}
