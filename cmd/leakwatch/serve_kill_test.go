package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/monitor/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// childEnv makes the test binary run main() instead of the tests, so that
// the kill -9 test can run `leakwatch serve` as a real process.
const childEnv = "LEAKWATCH_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestServeKill9: `leakwatch serve` is killed with SIGKILL 20 times at
// random moments while it sweeps, re-checks and delivers alerts (one Redis
// flaps open/closed meanwhile), then runs to quiescence. Afterwards no
// alert is lost (every outbox alert was delivered, every event has its one
// alert), none is duplicated in the outbox, re-deliveries carry the same
// dedup key, and each finding's events form a valid lifecycle.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop takes ~40s")
	}
	t.Parallel()
	testenv.Binary(t, "redis-server")
	const kills = 20
	net24 := testenv.Subnet24(t)
	h := newHook(t)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`key_file: key
store: {sqlite: history.db}
api: {disable: true}
monitor: {cadence: 1s, recheck: 1s}
notifiers:
  - name: hook
    webhook: {url: %q, secret: %q}
scopes:
  - name: lab
    targets: [%s]
    ports: [6379]
`, h.url, hookSecret, net24.CIDR())
	file := filepath.Join(dir, "leakwatch.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	stable := []netip.Addr{net24.Host(11), net24.Host(12)}
	flapper := net24.Host(13)
	for _, a := range append(stable, flapper) {
		if !testenv.PortFree(a, 6379) {
			t.Fatalf("6379 busy on %s", a)
		}
	}
	for _, a := range stable {
		redisAt(t, a, 6379)
		seedRedis(t, a, 6379)
	}
	var flap *testenv.Proc
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "serve", "--config", file, "--log-level", "debug")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- serve log (tail) ---\n%s", tailString(string(b), 6000))
		}
	})
	for i := range kills {
		if i%4 == 1 {
			// Flap: the third Redis opens or closes.
			if flap == nil {
				flap = redisAt(t, flapper, 6379)
			} else {
				flap.Stop()
				flap = nil
			}
		}
		cmd := start()
		time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	if flap != nil {
		flap.Stop()
	}
	// Last run: until every alert is out and the flapper's closing is seen.
	cmd := start()
	path := filepath.Join(dir, "history.db")
	st, err := sqlite.Open(context.Background(), path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	flapID := ""
	deadline := time.Now().Add(30 * time.Second)
	for {
		stats, err := st.OutboxStats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fs, _ := st.ListFindings(ctx, store.FindingFilter{Host: flapper.String()})
		settled := len(fs) == 1 && fs[0].Status == lifecycle.StatusClosed
		if len(fs) == 1 {
			flapID = fs[0].ID
		}
		if stats.Pending == 0 && settled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not quiescent after 30s: outbox %+v, flapper %+v", stats, fs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("final serve: %v", err)
	}

	alerts, err := st.ListAlerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// One alert per event (one route), all delivered.
	perEvent := map[int64]int{}
	keys := map[string]bool{}
	for _, a := range alerts {
		perEvent[a.EventID]++
		if keys[a.DedupKey] {
			t.Errorf("dedup key %s twice in the outbox", a.DedupKey)
		}
		keys[a.DedupKey] = true
		if a.State != store.AlertDelivered {
			t.Errorf("alert %d (%s %s) is %s: %s", a.ID, a.Event.Kind, a.Event.Target.Addr(), a.State, a.LastError)
		}
	}
	for ev, n := range perEvent {
		if n != 1 {
			t.Errorf("event %d has %d alerts", ev, n)
		}
	}
	// Every outbox alert reached the receiver; re-deliveries (killed
	// between delivery and acknowledgement) carry the same key.
	h.mu.Lock()
	got := map[string]int{}
	for _, r := range h.got {
		got[r.a.DedupKey]++
	}
	h.mu.Unlock()
	redelivered := 0
	for k := range keys {
		switch n := got[k]; {
		case n == 0:
			t.Errorf("alert %s never reached the receiver", k)
		case n > 1:
			redelivered += n - 1
		}
	}
	for k := range got {
		if !keys[k] {
			t.Errorf("receiver got %s, which is not in the outbox", k)
		}
	}
	if redelivered > kills {
		t.Errorf("%d re-deliveries for %d kills", redelivered, kills)
	}
	// Each finding's events form a valid lifecycle, with the observations
	// recorded once per scan run.
	fs, err := st.ListFindings(ctx, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 {
		t.Errorf("%d findings, want 3 (two stable, one flapping)", len(fs))
	}
	events := 0
	for _, f := range fs {
		det, err := st.GetFinding(ctx, f.ID, store.TimelineQuery{})
		if err != nil {
			t.Fatal(err)
		}
		open, first := false, true
		seen := map[string]bool{}
		for _, e := range det.Timeline {
			if o := e.Observation; o != nil {
				if seen[o.ScanID] {
					t.Errorf("finding %s observed twice in scan %s", f.ID, o.ScanID)
				}
				seen[o.ScanID] = true
			}
			if e.Event == nil {
				continue
			}
			events++
			isFirst := first
			first = false
			switch k := e.Event.Kind; {
			case k == lifecycle.EventOpened && isFirst, k == lifecycle.EventReopened && !open && !isFirst:
				open = true
			case k == lifecycle.EventClosed && open:
				open = false
			case k == lifecycle.EventChanged && open:
			default:
				t.Errorf("finding %s: %s while open=%v", f.ID, k, open)
			}
		}
		if f.ID == flapID && (f.Status != lifecycle.StatusClosed || f.ReopenCount < 1) {
			t.Errorf("flapper %+v: want closed after reopening", f.State)
		}
		if f.ID != flapID && f.Status != lifecycle.StatusOpen && f.Status != lifecycle.StatusChanged {
			t.Errorf("stable redis %s is %s", f.Target.Addr(), f.Status)
		}
	}
	if events != len(perEvent) {
		t.Errorf("%d events in timelines, %d with alerts", events, len(perEvent))
	}
	t.Logf("%d kills: %d events, %d alerts all delivered once in the outbox, %d re-deliveries with the same key", kills, events, len(alerts), redelivered)
}
