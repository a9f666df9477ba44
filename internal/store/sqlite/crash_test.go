package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
)

const crashEndpoints = 8

// buildCrashHelper builds tools/crashtest with the test's race setting
// (so the build cache of the test binary is reused).
func buildCrashHelper(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "crashtest")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/leakwatch/leakwatch/tools/crashtest")
	cmd := exec.Command(gobin, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build crashtest: %v\n%s", err, out)
	}
	return bin
}

// helperRun is one life of the helper process.
type helperRun struct {
	lines  []string
	stderr string
	killed bool
	err    error
}

// runHelper starts the helper; if killAfter > 0 it is SIGKILLed that long
// after its first committed observation.
func runHelper(t *testing.T, bin, db string, killAfter time.Duration, args ...string) helperRun {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"-db", db}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		r       helperRun
		mu      sync.Mutex
		first   = make(chan struct{})
		once    sync.Once
		scanned = make(chan struct{})
	)
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			mu.Lock()
			r.lines = append(r.lines, sc.Text())
			mu.Unlock()
			if strings.HasPrefix(sc.Text(), "obs ") {
				once.Do(func() { close(first) })
			}
		}
	}()
	if killAfter > 0 {
		select {
		case <-first:
		case <-time.After(20 * time.Second):
			t.Fatalf("helper wrote nothing in 20 s")
		}
		time.Sleep(killAfter)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		r.killed = true
	}
	<-scanned
	r.err = cmd.Wait()
	r.stderr = stderr.String()
	return r
}

// TestCrashSafety kills a writer with SIGKILL at random moments while it
// records observations and acknowledges alerts, restarts it, and then
// checks that every acknowledged commit is there exactly once and that the
// store is internally consistent.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	t.Parallel()
	kills := 25
	bin := buildCrashHelper(t)
	db := filepath.Join(t.TempDir(), "crash.db")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("seed %d", seed)

	start := time.Now()
	var lines []string
	for i := 0; i < kills; i++ {
		r := runHelper(t, bin, db, time.Duration(rng.IntN(250_000))*time.Microsecond)
		if !r.killed || !strings.Contains(fmt.Sprint(r.err), "killed") {
			t.Fatalf("run %d: not killed (%v): %s", i, r.err, r.stderr)
		}
		lines = append(lines, r.lines...)
	}
	killTime := time.Since(start)

	// One last clean life finishes the scan in progress.
	s := open(t, db, store.Options{})
	ctx := context.Background()
	finished, err := s.ListScans(ctx, store.ScanFilter{Scope: "crash", Status: store.ScanFinished})
	if err != nil {
		t.Fatal(err)
	}
	r := runHelper(t, bin, db, 0, "-scans", strconv.Itoa(len(finished)+1))
	if r.err != nil {
		t.Fatalf("final run: %v\n%s", r.err, r.stderr)
	}
	lines = append(lines, r.lines...)

	st := checkCrashConsistency(t, s, lines)
	t.Logf("%d SIGKILLs in %s; %d scans finished; %d observations committed (%d logged, %d re-recorded as duplicates after a restart); %d events; %d alerts (%d acked and logged); integrity ok",
		kills, killTime.Round(time.Millisecond), st.scans, st.observations, st.logged, st.dups, st.events, st.alerts, st.acked)
}

type crashStats struct {
	scans, observations, logged, dups, events, alerts, acked int
}

func checkCrashConsistency(t *testing.T, s *Store, lines []string) crashStats {
	t.Helper()
	ctx := context.Background()
	w, _ := s.Pools()
	var st crashStats
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := w.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	var ok string
	if err := w.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %s %v", ok, err)
	}
	if n := count("SELECT COUNT(*) FROM pragma_foreign_key_check"); n != 0 {
		t.Errorf("%d foreign key violations", n)
	}

	// 1. Every logged commit is in the store, exactly once, as logged.
	for _, l := range lines {
		f := strings.Fields(l)
		switch f[0] {
		case "obs":
			st.logged++
			if f[4] == "dup" {
				st.dups++
			}
			id, _ := strconv.ParseInt(f[3], 10, 64)
			o, err := s.GetObservation(ctx, id)
			if err != nil || o.ScanID != f[1] || o.FindingID != f[2] {
				t.Errorf("logged %q: stored %+v, %v", l, o, err)
			}
		case "ack":
			st.acked++
			id, _ := strconv.ParseInt(f[1], 10, 64)
			if n := count("SELECT COUNT(*) FROM outbox WHERE id = ? AND delivered_at IS NOT NULL", id); n != 1 {
				t.Errorf("acked alert %d not delivered in the store", id)
			}
		}
	}
	st.observations = count("SELECT COUNT(*) FROM observations")
	if n := count("SELECT COUNT(DISTINCT scan_id || '/' || service_id) FROM observations"); n != st.observations {
		t.Errorf("%d observations, %d distinct (scan, finding)", st.observations, n)
	}
	// 2. No orphans; exactly one alert per event (default route).
	if n := count("SELECT COUNT(*) FROM events WHERE observation_id NOT IN (SELECT id FROM observations) OR finding_id NOT IN (SELECT id FROM findings)"); n != 0 {
		t.Errorf("%d orphaned events", n)
	}
	st.events = count("SELECT COUNT(*) FROM events")
	st.alerts = count("SELECT COUNT(*) FROM outbox")
	if n := count("SELECT COUNT(*) FROM events e WHERE (SELECT COUNT(*) FROM outbox o WHERE o.event_id = e.id) <> 1"); n != 0 || st.alerts != st.events {
		t.Errorf("%d events without exactly one alert (%d events, %d alerts)", n, st.events, st.alerts)
	}
	// 3. The sweep resumed without skipping or repeating: finished scans
	// are 0..n-1, each with every endpoint once.
	runs, err := s.ListScans(ctx, store.ScanFilter{Scope: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	var ks []int
	for _, r := range runs {
		if r.Status != store.ScanFinished || r.Observations != crashEndpoints {
			t.Errorf("scan %s: %s with %d observations", r.ID, r.Status, r.Observations)
		}
		k, _, _ := strings.Cut(r.Cursor, "/")
		n, _ := strconv.Atoi(k)
		ks = append(ks, n)
	}
	slices.Sort(ks)
	for i, k := range ks {
		if k != i {
			t.Fatalf("scan numbers %v: not 0..%d", ks, len(ks)-1)
		}
	}
	st.scans = len(ks)
	if st.observations != st.scans*crashEndpoints {
		t.Errorf("%d observations for %d scans of %d endpoints", st.observations, st.scans, crashEndpoints)
	}
	// 4. Replaying the stored observations in commit order through the
	// lifecycle gives the stored states and events: no half-applied
	// transaction anywhere.
	replay(t, s)
	return st
}

func replay(t *testing.T, s *Store) {
	if n, _ := storetest.ReplayHistory(t, s); n != crashEndpoints {
		t.Fatalf("%d findings, want %d", n, crashEndpoints)
	}
}
