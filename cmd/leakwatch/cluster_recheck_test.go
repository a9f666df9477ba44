package main

import (
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestClusterRecheck: in cluster mode the open findings are re-checked at
// the scope's re-check cadence, as work items routed to the sites each
// finding was reachable from — a real Redis that gets protected
// (requirepass set by the test) is closed within the bound the
// single-process serve test uses (TestServeOpenCloseAlerts: 30 s), with
// the sweep cadence at an hour (only re-checks can see it), and no
// re-check goes to a site that never reached the store.
func TestClusterRecheck(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server, PostgreSQL, a store and 3 processes")
	}
	net24 := testenv.Subnet24(t)
	host, port := net24.Host(10), 6379
	redisAt(t, host, port)
	seedRedis(t, host, port)
	l := newClusterLab(t, labOptions{Targets: []string{net24.CIDR()}, Ports: []int{port}, Sites: []string{"dc-a", "dc-b"}, Recheck: "1s"})
	l.coordinator("coord-1")
	l.worker("w-a", "dc-a")
	// dc-b's network reaches the upper half of the /24 only.
	l.worker("w-b", "dc-b", "--reach", netip.PrefixFrom(net24.Host(128), 25).String())
	target := netip.AddrPortFrom(host, uint16(port)).String()
	opened := l.hook.wait(t, lifecycle.EventOpened, target, 2*time.Minute)
	st := openStore(t, l.url)
	sweep := waitSweep(t, st, time.Minute)

	out, err := exec.Command(testenv.Binary(t, "redis-cli"), "-h", host.String(), "-p", strconv.Itoa(port),
		"CONFIG", "SET", "requirepass", "s3cret-pass").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("CONFIG SET requirepass: %v %s", err, out)
	}
	protected := time.Now()
	closed := l.hook.wait(t, lifecycle.EventClosed, target, 30*time.Second)
	t.Logf("closed %s after requirepass", time.Since(protected).Round(time.Millisecond))
	if closed.a.Finding.ID != opened.a.Finding.ID {
		t.Errorf("closed %s, opened %s", closed.a.Finding.ID, opened.a.Finding.ID)
	}
	if p := closed.a.Proof; len(p) == 0 || p[len(p)-1].Outcome != lifecycle.OutcomeProtected {
		t.Errorf("closing proof %+v: want the last check protected", p)
	}
	runs, err := st.ListScans(t.Context(), store.ScanFilter{Scope: "lab"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != sweep.ID {
		t.Errorf("sweeps %+v: want the one sweep (cadence 1h), the re-checks closed it", runs)
	}
	got, reach, alerts := history(t, st)
	if len(got) != 1 || alerts != 2 {
		t.Fatalf("findings %+v, %d alerts; want one, opened and closed", got, alerts)
	}
	for id, s := range got {
		if s.Status != string(lifecycle.StatusClosed) || s.Events != "opened,closed" {
			t.Errorf("finding %+v", s)
		}
		if len(reach[id]) != 1 || reach[id][0] != "dc-a" {
			t.Errorf("reachable_from %v, want [dc-a]", reach[id])
		}
	}
	// Re-check items went to dc-a only (the finding was reachable from
	// there alone); the sweep's to both sites.
	rechecks := l.query(t, `SELECT COUNT(*) FROM cluster_results WHERE run_id <> $1 AND site = 'dc-a'`, sweep.ID)
	elsewhere := l.query(t, `SELECT COUNT(*) FROM cluster_results WHERE run_id <> $1 AND site <> 'dc-a'`, sweep.ID)
	if rechecks < 2 || elsewhere != 0 {
		t.Errorf("re-check results: %d from dc-a, %d from other sites; want ≥ 2 and 0", rechecks, elsewhere)
	}
	if l.hook.count(lifecycle.EventOpened, target) != 1 || l.hook.count(lifecycle.EventClosed, target) != 1 {
		t.Errorf("webhook: %d opened, %d closed", l.hook.count(lifecycle.EventOpened, target), l.hook.count(lifecycle.EventClosed, target))
	}
}
