package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// The cluster tests run real processes: nats-server with JetStream on file
// storage, PostgreSQL, and coordinators (`leakwatch serve` with a cluster
// section) and workers (`leakwatch worker`) as children of the test binary
// (TestMain runs main() in them), so that kill -9 is real. Helpers here are
// meant for more fault tests: clusterLab starts the servers, writes the
// config and starts/kills members; lab.waitSweep waits for a finished
// sweep; lab.history reads what the store recorded; checkOnce asserts
// nothing was recorded twice.

// clusterLab is one cluster under test.
type clusterLab struct {
	t    *testing.T
	dir  string
	nats *testenv.NATSJS
	pg   *testenv.Postgres
	url  string // history database URL
	file string // leakwatch.yaml
	hook *hook

	mu    sync.Mutex
	procs map[string]*member
}

// member is a running coordinator or worker process.
type member struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// labOptions shape the lab's config.
type labOptions struct {
	Targets []string
	Ports   []int
	Sites   []string
	// Chunk endpoints per work item; AckWait in seconds.
	Chunk, AckWait int
	// ProbeTimeout in seconds (default 10).
	ProbeTimeout int
	// Rate of each worker (default 2000).
	Rate int
	// Cadence of sweeps (default 1h: one sweep per test).
	Cadence string
	// MaxPayload of the nats-server (default its own, 1 MiB).
	MaxPayload int
	// Recheck interval (default 1h: no re-check in a test).
	Recheck string
}

func newClusterLab(t *testing.T, o labOptions) *clusterLab {
	t.Helper()
	l := &clusterLab{t: t, dir: t.TempDir(), procs: map[string]*member{}}
	l.nats = testenv.StartNATSJetStreamWith(t, testenv.NATSJSOptions{MaxPayload: o.MaxPayload})
	l.pg = testenv.StartPostgres(t, testenv.PostgresOptions{Durable: true})
	l.url = l.pg.URL(l.pg.NewDatabase(t))
	l.hook = newHook(t)
	if o.Chunk == 0 {
		o.Chunk = 64
	}
	if o.AckWait == 0 {
		o.AckWait = 30
	}
	if o.ProbeTimeout == 0 {
		o.ProbeTimeout = 10
	}
	if o.Rate == 0 {
		o.Rate = 2000
	}
	l.file = filepath.Join(l.dir, "leakwatch.yaml")
	// The installation key exists before the members start (they would
	// all create it at once otherwise).
	if _, err := classify.LoadOrCreateKey(filepath.Join(l.dir, "key")); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, l.file, clusterConfig(fmt.Sprintf("{postgres: %q}", l.url), l.hook, o)+fmt.Sprintf(`cluster:
  nats: %s
  sites: [%s]
  chunk: %d
  in_flight: 8
  ack_wait: %ds
  max_deliver: 4
`, l.nats.URL(), strings.Join(o.Sites, ", "), o.Chunk, o.AckWait))
	t.Cleanup(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, m := range l.procs {
			_ = m.cmd.Process.Kill()
			<-m.done
			if t.Failed() {
				b, _ := os.ReadFile(m.log)
				t.Logf("--- %s log (tail) ---\n%s", m.name, tailString(string(b), 4000))
			}
		}
	})
	return l
}

// clusterConfig is the config shared by the single-process baseline and
// the cluster (store and cluster sections differ).
func clusterConfig(storeYAML string, h *hook, o labOptions) string {
	var ports []string
	for _, p := range o.Ports {
		ports = append(ports, fmt.Sprint(p))
	}
	var targets []string
	for _, tg := range o.Targets {
		targets = append(targets, fmt.Sprintf("%q", tg))
	}
	if o.Cadence == "" {
		o.Cadence = "1h"
	}
	if o.Recheck == "" {
		o.Recheck = "1h"
	}
	return fmt.Sprintf(`key_file: key
store: %s
api: {disable: true}
monitor: {cadence: %s, recheck: %s, jitter: 0}
probe: {timeout: %ds, rate: %d}
notifiers:
  - name: hook
    webhook: {url: %q, secret: %q}
scopes:
  - name: lab
    targets: [%s]
    ports: [%s]
`, storeYAML, o.Cadence, o.Recheck, o.ProbeTimeout, o.Rate, h.url, hookSecret, strings.Join(targets, ", "), strings.Join(ports, ", "))
}

// start runs a member: args after the test binary (e.g. "worker", "--site", "a").
func (l *clusterLab) start(name string, env []string, args ...string) *member {
	l.t.Helper()
	logf := filepath.Join(l.dir, name+".log")
	f, err := os.Create(logf)
	if err != nil {
		l.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	m := &member{name: name, cmd: cmd, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(m.done) }()
	l.mu.Lock()
	l.procs[name] = m
	l.mu.Unlock()
	return m
}

// coordinator starts `leakwatch serve` named name.
func (l *clusterLab) coordinator(name string) *member {
	return l.start(name, []string{"LEAKWATCH_COORDINATOR_NAME=" + name}, "serve", "--config", l.file, "--log-level", "debug")
}

// worker starts `leakwatch worker` at site (extra: flags such as --reach).
func (l *clusterLab) worker(name, site string, extra ...string) *member {
	args := append([]string{"worker", "--config", l.file, "--site", site, "--name", name, "--log-level", "debug"}, extra...)
	return l.start(name, nil, args...)
}

// kill9 kills a member with SIGKILL and waits for it.
func (l *clusterLab) kill9(m *member) {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// logOf reads a member's log.
func (m *member) logText() string {
	b, _ := os.ReadFile(m.log)
	return string(b)
}

// openStore opens the history.
func openStore(t *testing.T, spec string) store.Store {
	t.Helper()
	st, err := storeopen.Open(context.Background(), spec, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// waitSweep waits for a finished sweep of scope lab.
func waitSweep(t *testing.T, st store.Store, timeout time.Duration) store.ScanRun {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		runs, err := st.ListScans(ctx, store.ScanFilter{Scope: "lab", Status: store.ScanFinished})
		cancel()
		if err == nil && len(runs) > 0 {
			return runs[0]
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("no finished sweep within %s", timeout)
	return store.ScanRun{}
}

// summary is a finding as compared across runs.
type summary struct {
	ID, Service, Status, Severity, Auth string
	Classes                             string
	Records                             int64
	Datasets, Observations              int
	Events                              string
}

// history reads every finding of the store with its timeline summarised,
// and the outbox size.
func history(t *testing.T, st store.Store) (map[string]summary, map[string][]string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	list, err := st.ListFindings(ctx, store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]summary{}
	reach := map[string][]string{}
	for _, f := range list {
		d, err := st.GetFinding(ctx, f.ID, store.TimelineQuery{})
		if err != nil {
			t.Fatal(err)
		}
		var evs []string
		obs := 0
		for _, e := range d.Timeline {
			if e.Event != nil {
				evs = append(evs, string(e.Event.Kind))
			}
			if e.Observation != nil {
				obs++
			}
		}
		s := summary{ID: f.ID, Service: f.Service, Status: string(f.Status), Severity: string(f.Severity),
			Observations: obs, Events: strings.Join(evs, ",")}
		if f.Last != nil {
			s.Auth, s.Classes, s.Records, s.Datasets = string(f.Last.Auth), strings.Join(f.Last.Classes, ","), f.Last.TotalRecords(), len(f.Last.Datasets)
			reach[f.ID] = f.Last.ReachableFrom
		}
		out[f.ID] = s
	}
	alerts, err := st.ListAlerts(ctx, store.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return out, reach, len(alerts)
}

// checkOnce asserts that every finding was observed once and opened once,
// and that every event has exactly one alert (one route: the hook).
func checkOnce(t *testing.T, got map[string]summary, alerts int) {
	t.Helper()
	events := 0
	for id, s := range got {
		if s.Observations != 1 || s.Events != string(lifecycle.EventOpened) {
			t.Errorf("finding %s (%s): %d observations, events %q; want 1 and opened", id, s.Service, s.Observations, s.Events)
		}
		events += strings.Count(s.Events, ",") + 1
	}
	if alerts != events {
		t.Errorf("%d alerts in the outbox for %d events", alerts, events)
	}
}

// labStores starts the real stores of the lab on net24: an open Redis
// (seeded), a Redis with requirepass, an open memcached (seeded) and a
// memcached with ASCII auth.
func labStores(t *testing.T, net24 testenv.Net24) {
	t.Helper()
	testenv.StartRedis(t, testenv.RedisOptions{Addr: net24.Host(10), Port: 6379}).Seed(t)
	testenv.StartRedis(t, testenv.RedisOptions{Addr: net24.Host(11), Port: 6379, Password: "cluster-test-pass"})
	testenv.StartMemcached(t, testenv.MemcachedOptions{Addr: net24.Host(12), Port: 11211}).Seed(t)
	testenv.StartMemcachedASCIIAuth(t, testenv.MemcachedOptions{Addr: net24.Host(13), Port: 11211}, "lw", "cluster-test-pass")
}

// baseline runs one sweep with the single-process serve (SQLite) and
// returns its history.
func baseline(t *testing.T, o labOptions) (map[string]summary, int) {
	t.Helper()
	dir := t.TempDir()
	h := newHook(t)
	s := startServe(t, dir, clusterConfig("{sqlite: history.db}", h, o))
	st := openStore(t, "sqlite:"+filepath.Join(dir, "history.db"))
	waitSweep(t, st, 3*time.Minute)
	s.stop()
	got, _, alerts := history(t, st)
	return got, alerts
}

// TestClusterEqualsServe (issue 11): one sweep of a scope with real open
// and protected stores by 2 coordinators and 3 workers in 2 sites, over a
// real nats-server (JetStream, file storage) and PostgreSQL, records
// exactly the findings the single-process serve records — same
// fingerprints, statuses, severities, classes, counts, one observation
// and one opened event each, one alert per event — and each finding is
// reachable from both sites.
func TestClusterEqualsServe(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server, PostgreSQL, 4 stores and 5 processes")
	}
	net24 := testenv.Subnet24(t)
	labStores(t, net24)
	o := labOptions{Targets: []string{net24.CIDR()}, Ports: []int{6379, 11211}, Sites: []string{"dc-a", "dc-b"}}
	want, wantAlerts := baseline(t, o)
	if len(want) < 2 {
		t.Fatalf("baseline found %d findings, want the open Redis and memcached", len(want))
	}

	l := newClusterLab(t, o)
	l.coordinator("coord-1")
	l.coordinator("coord-2")
	l.worker("w1", "dc-a")
	l.worker("w2", "dc-a,dc-b") // one worker may serve several sites
	l.worker("w3", "dc-b")
	st := openStore(t, l.url)
	run := waitSweep(t, st, 3*time.Minute)
	got, reach, alerts := history(t, st)
	for id, w := range want {
		if g, ok := got[id]; !ok || g != w {
			t.Errorf("finding %s:\n cluster %+v\n  serve  %+v", id, g, w)
		}
		if !slices.Equal(reach[id], []string{"dc-a", "dc-b"}) {
			t.Errorf("finding %s: reachable_from %v, want [dc-a dc-b]", id, reach[id])
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("cluster only: %+v", g)
		}
	}
	if alerts != wantAlerts {
		t.Errorf("%d alerts, serve %d", alerts, wantAlerts)
	}
	checkOnce(t, got, alerts)
	if run.Observations != len(want) {
		t.Errorf("sweep %s recorded %d observations, want %d", run.ID, run.Observations, len(want))
	}
	// Both sites swept every chunk: 512 endpoints in chunks of 64, 2 sites.
	if n := l.results(t); n != 16 {
		t.Errorf("%d work item results stored, want 16 (8 chunks × 2 sites)", n)
	}
	var st2 cluster.Status
	var items int64
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		st2, items = clusterStatus(t, l), 0
		for _, w := range st2.Workers {
			items += w.Items
		}
		if items >= 16 && len(st2.Workers) == 3 {
			break
		}
	}
	if st2.Active != "coord-1" && st2.Active != "coord-2" {
		t.Errorf("active coordinator %q", st2.Active)
	}
	if len(st2.Workers) != 3 || len(st2.Sites) != 2 || st2.Sites[0].Workers != 2 || st2.Sites[1].Workers != 2 || st2.QueueDepth != 0 || st2.ParkedTotal != 0 {
		t.Errorf("status %+v", st2)
	}
	if items < 16 {
		t.Errorf("workers' heartbeats count %d items, want at least 16", items)
	}
}

// results counts the stored work item results.
func (l *clusterLab) results(t *testing.T) int {
	t.Helper()
	return l.query(t, `SELECT COUNT(*) FROM cluster_results`)
}

// clusterStatus reads the cluster's status as `leakwatch cluster status`
// does, and checks that the command prints it.
func clusterStatus(t *testing.T, l *clusterLab) cluster.Status {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	js := l.js(t)
	db, err := pgxpool.New(ctx, l.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	st, err := cluster.ReadStatus(ctx, js, cluster.Names{Prefix: "LEAKWATCH"}, db)
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if code := a.run(ctx, []string{"cluster", "status", "--config", l.file}); code != exitOK {
		t.Errorf("cluster status: exit %d\n%s", code, out.String())
	} else if !strings.Contains(out.String(), "active coordinator:  "+st.Active) {
		t.Errorf("cluster status output:\n%s", out.String())
	}
	return st
}

// TestClusterSites (issue 11): sites are vantage points with different
// reach (modelled by --reach: the addresses a site's network lets it
// dial). A Redis every site reaches is reachable from [dc-a internet] and
// one level more severe than inside-only; a Redis only dc-a reaches is
// reported reachable from [dc-a] alone.
func TestClusterSites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server, PostgreSQL, 2 stores and 3 processes")
	}
	net24 := testenv.Subnet24(t)
	// Keys without personal data: medium severity inside, so that the
	// internet's level up shows.
	both := testenv.StartRedis(t, testenv.RedisOptions{Addr: net24.Host(10), Port: 6379})
	both.CLI(t, "SET build v1\nSET counter 7\n")
	inside := testenv.StartRedis(t, testenv.RedisOptions{Addr: net24.Host(200), Port: 6379})
	inside.CLI(t, "SET build v1\nSET counter 7\n")
	l := newClusterLab(t, labOptions{Targets: []string{net24.CIDR()}, Ports: []int{6379}, Sites: []string{"dc-a", "internet"}})
	l.coordinator("coord-1")
	l.worker("inside", "dc-a")
	l.worker("outside", "internet", "--reach", netip.PrefixFrom(net24.Host(0), 25).String())
	st := openStore(t, l.url)
	waitSweep(t, st, 3*time.Minute)
	got, reach, alerts := history(t, st)
	checkOnce(t, got, alerts)
	var sevBoth, sevInside string
	for id, s := range got {
		switch {
		case findingHost(t, st, id) == both.Addr.String():
			sevBoth = s.Severity
			if !slices.Equal(reach[id], []string{"dc-a", "internet"}) {
				t.Errorf("redis on %s: reachable_from %v, want [dc-a internet]", both.Addr, reach[id])
			}
		case findingHost(t, st, id) == inside.Addr.String():
			sevInside = s.Severity
			if !slices.Equal(reach[id], []string{"dc-a"}) {
				t.Errorf("redis on %s: reachable_from %v, want [dc-a]", inside.Addr, reach[id])
			}
		}
	}
	if sevBoth == "" || sevInside == "" {
		t.Fatalf("findings %+v", got)
	}
	if sevInside != "medium" || sevBoth != "high" {
		t.Errorf("severity from the internet %s, inside only %s: want one level up", sevBoth, sevInside)
	}
}

func findingHost(t *testing.T, st store.Store, id string) string {
	t.Helper()
	d, err := st.GetFinding(context.Background(), id, store.TimelineQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return d.Finding.Target.Host
}

// TestWorkerUsage: bad worker invocations exit 2 before anything is
// contacted.
func TestWorkerUsage(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "leakwatch.yaml")
	testenv.WriteFile(t, file, `key_file: key
store: {postgres: "postgres://lw@127.0.0.1:1/lw"}
api: {disable: true}
scopes: [{name: lab, targets: [127.0.0.1], ports: [6379]}]
cluster: {nats: "nats://127.0.0.1:1", sites: [dc-a]}
`)
	for _, args := range [][]string{
		{"worker", "--config", file},
		{"worker", "--config", file, "--site", "Bad Site"},
		{"worker", "--config", file, "--site", "dc-a", "--parallel", "0"},
		{"worker", "--config", file, "--site", "dc-a", "--rate", "-1"},
		{"worker", "--config", file, "--site", "dc-a", "--rate", "NaN"},
		{"worker", "--config", file, "--site", "dc-a", "--reach", "not-a-cidr"},
		{"cluster"},
		{"cluster", "status", "--config", filepath.Join(dir, "missing.yaml")},
	} {
		var out syncBuf
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		if code := a.run(context.Background(), args); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, out.String())
		}
	}
}

// TestClusterLifecycle (issue 11): the lifecycle runs through the cluster
// as through serve — a Redis found open by the workers is opened, and
// after it stops, two sweeps that find its port closed ("port closed"
// observations planned by the coordinator from the workers' results)
// close it, each event alerted once.
func TestClusterLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server, PostgreSQL, a store and 2 processes")
	}
	net24 := testenv.Subnet24(t)
	r := redisAt(t, net24.Host(10), 6379)
	seedRedis(t, net24.Host(10), 6379)
	l := newClusterLab(t, labOptions{Targets: []string{net24.CIDR()}, Ports: []int{6379}, Sites: []string{"dc-a"}, Cadence: "2s"})
	l.coordinator("coord-1")
	l.worker("w1", "dc-a")
	target := netip.AddrPortFrom(net24.Host(10), 6379).String()
	l.hook.wait(t, lifecycle.EventOpened, target, 2*time.Minute)
	r.Stop()
	l.hook.wait(t, lifecycle.EventClosed, target, 2*time.Minute)
	st := openStore(t, l.url)
	got, _, alerts := history(t, st)
	if len(got) != 1 {
		t.Fatalf("findings %+v", got)
	}
	for _, s := range got {
		if s.Status != string(lifecycle.StatusClosed) || s.Events != "opened,closed" {
			t.Errorf("finding %+v, want closed after opened,closed", s)
		}
	}
	if alerts != 2 || l.hook.count(lifecycle.EventOpened, target) != 1 || l.hook.count(lifecycle.EventClosed, target) != 1 {
		t.Errorf("%d alerts; webhook: %d opened, %d closed", alerts, l.hook.count(lifecycle.EventOpened, target), l.hook.count(lifecycle.EventClosed, target))
	}
}
