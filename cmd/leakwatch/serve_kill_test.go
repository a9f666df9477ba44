package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// childEnv makes the test binary run main() instead of the tests, so that
// the kill -9 test can run `leakwatch serve` as a real process.
const childEnv = "LEAKWATCH_TEST_RUN_MAIN"

// txPipeEnv makes the child install store.CommitHook: before each commit
// it writes "pre N" to fd 3 and waits for the parent to write "N" to fd 4;
// after the commit it writes "post N". A transaction the parent has not
// released cannot commit, so a SIGKILL sent while one is unreleased
// landed inside an open transaction.
const txPipeEnv = "LEAKWATCH_TEST_TX_PIPE"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if os.Getenv(txPipeEnv) == "1" {
			installCommitHook(os.NewFile(3, "tx-markers"), os.NewFile(4, "tx-release"))
		}
		main()
		return
	}
	os.Exit(m.Run())
}

// installCommitHook is the child's side of txPipeEnv.
func installCommitHook(markers io.Writer, release io.Reader) {
	var (
		mu      sync.Mutex
		seq     int64
		waiting = map[int64]chan struct{}{}
		eof     bool
	)
	gate := func(n int64) chan struct{} { // under mu
		ch, ok := waiting[n]
		if !ok {
			ch = make(chan struct{})
			waiting[n] = ch
			if eof {
				close(ch)
			}
		}
		return ch
	}
	go func() {
		sc := bufio.NewScanner(release)
		for sc.Scan() {
			n, err := strconv.ParseInt(sc.Text(), 10, 64)
			if err != nil {
				continue
			}
			mu.Lock()
			close(gate(n))
			mu.Unlock()
		}
		// The parent is gone: never block a commit again.
		mu.Lock()
		eof = true
		for n, ch := range waiting {
			select {
			case <-ch:
			default:
				close(ch)
			}
			delete(waiting, n)
		}
		mu.Unlock()
	}()
	write := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(markers, format, args...)
	}
	store.CommitHook = func() func() {
		mu.Lock()
		seq++
		n := seq
		ch := gate(n)
		fmt.Fprintf(markers, "pre %d\n", n)
		mu.Unlock()
		<-ch
		return func() { write("post %d\n", n) }
	}
}

// txGate is the parent's side of txPipeEnv for one life of the child.
type txGate struct {
	mu       sync.Mutex
	release  io.WriteCloser
	pending  map[int64]bool // "pre" seen, not released
	seen     int            // transactions that reached their commit
	commits  int            // "post" seen
	holdAt   int            // withhold the release of this transaction (0: none)
	held     chan struct{}  // closed when the held transaction is waiting
	killed   bool
	readDone chan struct{}
}

// startGated starts cmd with the commit hook; holdAt > 0 withholds the
// holdAt-th transaction's commit.
func startGated(t *testing.T, cmd *exec.Cmd, holdAt int) *txGate {
	t.Helper()
	mr, mw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.ExtraFiles = []*os.File{mw, rr}
	cmd.Env = append(cmd.Env, txPipeEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	mw.Close()
	rr.Close()
	g := &txGate{release: rw, pending: map[int64]bool{}, holdAt: holdAt, held: make(chan struct{}), readDone: make(chan struct{})}
	go func() {
		defer close(g.readDone)
		sc := bufio.NewScanner(mr)
		for sc.Scan() {
			kind, num, _ := strings.Cut(sc.Text(), " ")
			n, _ := strconv.ParseInt(num, 10, 64)
			g.mu.Lock()
			switch kind {
			case "pre":
				g.seen++
				g.pending[n] = true
				if g.seen == g.holdAt {
					close(g.held)
				} else if !g.killed {
					delete(g.pending, n)
					fmt.Fprintf(g.release, "%d\n", n)
				}
			case "post":
				g.commits++
			}
			g.mu.Unlock()
		}
		mr.Close()
	}()
	return g
}

// kill SIGKILLs the child and tells whether a transaction was open (had
// reached its commit without being released) at that moment; evidence,
// if set, runs just before the kill with no commit able to slip through.
func (g *txGate) kill(t *testing.T, cmd *exec.Cmd, evidence func() string) (inTx bool, note string) {
	t.Helper()
	g.mu.Lock()
	g.killed = true
	inTx = len(g.pending) > 0
	if inTx && evidence != nil {
		note = evidence()
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		g.mu.Unlock()
		t.Fatal(err)
	}
	g.mu.Unlock()
	_ = cmd.Wait()
	g.release.Close()
	<-g.readDone
	return inTx, note
}

// killBackend is the history store a kill -9 test runs serve against.
type killBackend struct {
	name string
	// yaml is the config's store section value; spec opens it.
	yaml, spec string
	// driver and dsn open it with database/sql for the SQL checks.
	driver, dsn string
	// openTx reports, from outside the leakwatch process, whether a write
	// transaction is open on the history right now ("" if not).
	openTx func(t *testing.T) string
}

func sqliteKillBackend(t *testing.T, dir string) killBackend {
	path := filepath.Join(dir, "history.db")
	return killBackend{
		name: "sqlite", yaml: "{sqlite: history.db}", spec: "sqlite:" + path,
		driver: "sqlite", dsn: path + "?_pragma=busy_timeout(10000)",
		// serve writes with BEGIN IMMEDIATE: while its transaction is
		// open, no other writer can take the lock.
		openTx: func(t *testing.T) string {
			db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			conn, err := db.Conn(context.Background())
			if err != nil {
				return ""
			}
			defer conn.Close()
			if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
				return "write lock held: " + err.Error()
			}
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
			return ""
		},
	}
}

// TestServeKill9: `leakwatch serve` on SQLite is killed with SIGKILL 20
// times while it sweeps, re-checks and delivers alerts (one Redis flaps
// open/closed meanwhile), half of the kills inside a write transaction,
// then runs to quiescence. See runServeKill9 for what is checked.
func TestServeKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop takes ~40s")
	}
	t.Parallel()
	dir := t.TempDir()
	runServeKill9(t, dir, sqliteKillBackend(t, dir))
}

// runServeKill9 kills serve 20 times: odd kills wait until serve holds a
// write transaction (its commit withheld by the test hook) and kill it
// there; even kills land at a random moment (counted as inside a
// transaction only when one was provably open). Afterwards no alert is
// lost (every outbox alert was delivered, every event has its one alert),
// none is duplicated in the outbox, re-deliveries carry the same dedup
// key, each finding's events form a valid lifecycle, the SQL tables hold
// no orphan or duplicate, and replaying the stored observations through
// the lifecycle reproduces the stored states and events.
func runServeKill9(t *testing.T, dir string, be killBackend) {
	testenv.Binary(t, "redis-server")
	const kills = 20
	net24 := testenv.Subnet24(t)
	h := newHook(t)
	cfg := fmt.Sprintf(`key_file: key
store: %s
api: {disable: true}
monitor: {cadence: 1s, recheck: 1s}
notifiers:
  - name: hook
    webhook: {url: %q, secret: %q}
scopes:
  - name: lab
    targets: [%s]
    ports: [6379]
`, be.yaml, h.url, hookSecret, net24.CIDR())
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
	command := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "serve", "--config", file, "--log-level", "debug")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		return cmd
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("--- serve log (tail) ---\n%s", tailString(string(b), 6000))
		}
	})
	var targeted, targetedInTx, randomInTx, txSeen, txCommitted int
	var notes []string
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
		cmd := command()
		holdAt := 0
		if i%2 == 1 {
			holdAt = 1 + rand.IntN(40)
		}
		g := startGated(t, cmd, holdAt)
		if holdAt > 0 {
			targeted++
			select {
			case <-g.held:
			case <-time.After(30 * time.Second):
				t.Errorf("kill %d: serve did not reach transaction %d within 30s", i, holdAt)
			}
			// Let the rest of serve (probes, deliveries) run on a moment.
			time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
		} else {
			time.Sleep(time.Duration(300+rand.IntN(1200)) * time.Millisecond)
		}
		inTx, note := g.kill(t, cmd, func() string { return be.openTx(t) })
		txSeen += g.seen
		txCommitted += g.commits
		switch {
		case inTx && holdAt > 0:
			targetedInTx++
		case inTx:
			randomInTx++
		case holdAt > 0:
			t.Errorf("kill %d: targeted kill found no open transaction", i)
		}
		if inTx {
			if note == "" {
				t.Errorf("kill %d: the hook held a transaction but %s showed none open", i, be.name)
			}
			notes = append(notes, note)
		}
	}
	if flap != nil {
		flap.Stop()
	}
	midTx := targetedInTx + randomInTx
	if midTx < kills/2 {
		t.Errorf("only %d of %d kills landed inside a transaction, want ≥ %d", midTx, kills, kills/2)
	}
	t.Logf("%s: %d kills, %d inside an open write transaction (%d of %d targeted, %d of %d at random moments); %d transactions reached commit, %d committed; evidence at each kill inside a transaction:\n  %s",
		be.name, kills, midTx, targetedInTx, targeted, randomInTx, kills-targeted, txSeen, txCommitted, strings.Join(notes, "\n  "))

	// Last run, without the hook: until every alert is out and the
	// flapper's closing is seen.
	cmd := command()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := storeopen.Open(ctx, be.spec, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	flapID := ""
	deadline := time.Now().Add(45 * time.Second)
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
			t.Fatalf("not quiescent after 45s: outbox %+v, flapper %+v", stats, fs)
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("final serve: %v", err)
	}
	checkKillConsistency(t, st, be, h, flapID, kills)
}

// checkKillConsistency checks the history and the receiver after the kills.
func checkKillConsistency(t *testing.T, st store.Store, be killBackend, h *hook, flapID string, kills int) {
	t.Helper()
	ctx := context.Background()
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
			if e.Event.Kind == lifecycle.EventAccessed {
				// Informational and opt-in (no alert), no transition: the
				// flapping redis is re-seeded by the test after each
				// restart, and a probe a kill cut short ran commands no
				// observation accounts for.
				if !open {
					t.Errorf("finding %s: accessed while not open", f.ID)
				}
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
	sqlConsistency(t, be)
	replayed := replayHistory(t, st)
	t.Logf("%s, %d kills: %d events, %d alerts all delivered once in the outbox, %d re-deliveries with the same key; %d observations replayed to the stored states",
		be.name, kills, events, len(alerts), redelivered, replayed)
}

// sqlConsistency checks the history tables directly: no orphan, one
// observation per (scan, finding), exactly one alert per event (one
// route).
func sqlConsistency(t *testing.T, be killBackend) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open(be.driver, be.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if be.driver == "sqlite" {
		var ok string
		if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
			t.Errorf("integrity_check: %s %v", ok, err)
		}
		if n := count("SELECT COUNT(*) FROM pragma_foreign_key_check"); n != 0 {
			t.Errorf("%d foreign key violations", n)
		}
	}
	obs := count("SELECT COUNT(*) FROM observations")
	if n := count("SELECT COUNT(*) FROM (SELECT DISTINCT scan_id, service_id FROM observations) x"); n != obs {
		t.Errorf("%d observations, %d distinct (scan, finding)", obs, n)
	}
	if n := count("SELECT COUNT(*) FROM events WHERE observation_id NOT IN (SELECT id FROM observations) OR finding_id NOT IN (SELECT id FROM findings)"); n != 0 {
		t.Errorf("%d orphaned events", n)
	}
	if n := count("SELECT COUNT(*) FROM outbox WHERE event_id NOT IN (SELECT id FROM events)"); n != 0 {
		t.Errorf("%d orphaned alerts", n)
	}
	// The one notifier takes the default event kinds: each such event has
	// exactly one alert, every other (opt-in: accessed, out-of-scope) none.
	kinds := "'" + strings.Join(config.DefaultEventKinds, "','") + "'"
	events, alerts := count("SELECT COUNT(*) FROM events WHERE kind IN ("+kinds+")"), count("SELECT COUNT(*) FROM outbox")
	if n := count("SELECT COUNT(*) FROM events e WHERE kind IN (" + kinds + ") AND (SELECT COUNT(*) FROM outbox o WHERE o.event_id = e.id) <> 1"); n != 0 || alerts != events {
		t.Errorf("%d events without exactly one alert (%d events, %d alerts)", n, events, alerts)
	}
	if n := count("SELECT COUNT(*) FROM events e WHERE kind NOT IN (" + kinds + ") AND EXISTS (SELECT 1 FROM outbox o WHERE o.event_id = e.id)"); n != 0 {
		t.Errorf("%d opt-in events alerted without a notifier asking for them", n)
	}
}

// replayHistory replays every finding's stored observations, in commit
// order, through the lifecycle policy serve uses: the events and the final
// state must be the stored ones — no half-applied transaction anywhere.
// It returns the number of observations replayed.
func replayHistory(t *testing.T, st store.Store) int {
	t.Helper()
	_, replayed := storetest.ReplayHistory(t, st)
	return replayed
}
