package main

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// faultLab is a cluster whose sweep is slow enough to be hit mid-way: the
// scope holds the lab's real stores and a few tarpits (they accept and
// never answer, so each costs its chunk the probe timeout).
type faultLab struct {
	*clusterLab
	net24 testenv.Net24
}

// tarpits is how many slow endpoints the scope holds.
const tarpits = 6

func newFaultLab(t *testing.T, ackWait int) *faultLab {
	t.Helper()
	if testing.Short() {
		t.Skip("cluster fault tests start nats-server, PostgreSQL, stores and several processes")
	}
	net24 := testenv.Subnet24(t)
	labStores(t, net24)
	targets := []string{net24.CIDR()}
	for range tarpits {
		tp := probetest.Tarpit(t)
		targets = append(targets, netip.AddrPortFrom(tp.Addr, uint16(tp.Port)).String())
	}
	l := newClusterLab(t, labOptions{
		Targets: targets, Ports: []int{6379, 11211}, Sites: []string{"dc-a"},
		Chunk: 32, AckWait: ackWait, ProbeTimeout: 5,
	})
	return &faultLab{clusterLab: l, net24: net24}
}

// js connects to the lab's NATS.
func (l *clusterLab) js(t *testing.T) jetstream.JetStream { return l.nats.JetStream(t) }

// inFlight is how many of the site's work items are delivered and not
// acked (-1 if the consumer does not exist yet).
func (l *clusterLab) inFlight(t *testing.T, js jetstream.JetStream, site string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := js.Consumer(ctx, "LEAKWATCH_WORK", "site-"+site)
	if err != nil {
		return -1
	}
	info, err := c.Info(ctx)
	if err != nil {
		return -1
	}
	return info.NumAckPending
}

// waitFor polls cond every 100ms for up to timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out after %s waiting for %s", timeout, what)
}

// query runs one scalar query on the history database (0 while the
// coordinator has not created its table yet).
func (l *clusterLab) query(t *testing.T, q string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := pgxpool.New(ctx, l.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			return 0
		}
		t.Fatal(err)
	}
	return n
}

// checkFaultHistory waits for the sweep and asserts nothing was lost
// (the open Redis and memcached are there, every chunk has a result) and
// nothing duplicated (one observation, one opened event and one alert per
// finding; the webhook got each alert once). With a coordinator killed,
// an alert it had claimed waits for its outbox lease (2 min) and may be
// delivered again with the same dedup key if the kill fell between the
// delivery and its ack (the outbox's documented at-least-once delivery):
// then repeats of a key are allowed, new keys are not.
func (l *faultLab) checkFaultHistory(t *testing.T, coordinatorKilled bool) {
	t.Helper()
	st := openStore(t, l.url)
	run := waitSweep(t, st, 4*time.Minute)
	got, _, alerts := history(t, st)
	var hosts []string
	for id := range got {
		hosts = append(hosts, findingHost(t, st, id))
	}
	slices.Sort(hosts)
	want := []string{l.net24.Host(10).String(), l.net24.Host(12).String()}
	if !slices.Equal(hosts, want) {
		t.Errorf("findings on %v, want %v", hosts, want)
	}
	checkOnce(t, got, alerts)
	if run.Observations != len(want) {
		t.Errorf("sweep recorded %d observations, want %d", run.Observations, len(want))
	}
	// 512 + tarpits endpoints in chunks of 32.
	if n, chunks := l.query(t, `SELECT COUNT(*) FROM cluster_results WHERE run_id = $1 AND NOT parked`, run.ID), (512+tarpits+31)/32; n != chunks {
		t.Errorf("%d results for %d chunks", n, chunks)
	}
	wait := 30 * time.Second
	if coordinatorKilled {
		wait = 4 * time.Minute
	}
	waitFor(t, "an alert per finding at the webhook", wait, func() bool {
		l.hook.mu.Lock()
		defer l.hook.mu.Unlock()
		keys := map[string]bool{}
		for _, r := range l.hook.got {
			keys[r.a.DedupKey] = true
		}
		return len(keys) >= len(want)
	})
	time.Sleep(2 * time.Second) // a duplicate delivery would come now
	l.hook.mu.Lock()
	defer l.hook.mu.Unlock()
	seen := map[string]int{}
	for _, r := range l.hook.got {
		seen[r.a.DedupKey]++
	}
	if (len(l.hook.got) != len(want) && !coordinatorKilled) || len(seen) != len(want) {
		t.Errorf("webhook got %d alerts with %d distinct dedup keys, want %d", len(l.hook.got), len(seen), len(want))
	}
}

// TestClusterKillWorker (issue 11): a worker killed with -9 while it
// holds slow chunks (tarpits in them) loses nothing: after the ack wait
// its chunks are redelivered to another worker of the site, which redoes
// them; nothing is recorded twice.
func TestClusterKillWorker(t *testing.T) {
	l := newFaultLab(t, 3)
	js := l.js(t)
	l.coordinator("coord-1")
	w1 := l.worker("w1", "dc-a")
	// Fast chunks finish in milliseconds; what w1 still holds after a
	// while are chunks stuck on a tarpit (5s each).
	waitFor(t, "w1 holding items", 60*time.Second, func() bool { return l.inFlight(t, js, "dc-a") > 0 })
	time.Sleep(1500 * time.Millisecond)
	held := l.inFlight(t, js, "dc-a")
	if held < 1 {
		t.Fatalf("w1 holds no slow item to kill it over")
	}
	l.kill9(w1)
	t.Logf("killed w1 holding %d work items", held)
	l.worker("w2", "dc-a")
	l.checkFaultHistory(t, false)
	if n := l.query(t, `SELECT COUNT(*) FROM cluster_results WHERE worker = 'w2' AND attempt >= 2`); n < 1 {
		t.Errorf("no chunk redone by w2 after a redelivery")
	}
	if st := clusterStatus(t, l.clusterLab); st.Redeliveries < 1 {
		t.Errorf("status shows %d redeliveries", st.Redeliveries)
	}
}

// TestClusterKillCoordinator (issue 11): the active coordinator killed
// with -9 mid-sweep is replaced by the standby within 15 s, which resumes
// the sweep at its cursor and completes it, reusing the results already
// stored; nothing is recorded twice.
func TestClusterKillCoordinator(t *testing.T) {
	l := newFaultLab(t, 30)
	c1 := l.coordinator("coord-1")
	waitFor(t, "coord-1 active", 60*time.Second, func() bool { return strings.Contains(c1.logText(), "coordinator active") })
	c2 := l.coordinator("coord-2")
	l.worker("w1", "dc-a")
	l.worker("w2", "dc-a")
	waitFor(t, "results stored", 60*time.Second, func() bool {
		return l.query(t, `SELECT COUNT(*) FROM cluster_results`) > 0
	})
	if st := clusterStatus(t, l.clusterLab); st.Active != "coord-1" {
		t.Fatalf("active coordinator %q, want coord-1", st.Active)
	}
	l.kill9(c1)
	killed := time.Now()
	waitFor(t, "coord-2 active", 60*time.Second, func() bool { return strings.Contains(c2.logText(), "coordinator active") })
	if took := time.Since(killed); took > 15*time.Second {
		t.Errorf("standby took over after %s, want within 15s", took)
	} else {
		t.Logf("standby took over %s after the kill", took.Round(time.Millisecond))
	}
	l.checkFaultHistory(t, true)
	if st := clusterStatus(t, l.clusterLab); st.Active != "coord-2" {
		t.Errorf("active coordinator %q, want coord-2", st.Active)
	}
}

// TestClusterRestartNATS (issue 11): nats-server restarted mid-sweep
// (JetStream on file storage keeps the queue, the consumers and the
// results) — workers and coordinator reconnect and the sweep completes
// with nothing lost or twice.
func TestClusterRestartNATS(t *testing.T) {
	l := newFaultLab(t, 5)
	js := l.js(t)
	l.coordinator("coord-1")
	l.worker("w1", "dc-a")
	l.worker("w2", "dc-a")
	waitFor(t, "items in flight", 60*time.Second, func() bool { return l.inFlight(t, js, "dc-a") > 0 })
	l.nats.Stop()
	time.Sleep(2 * time.Second)
	l.nats.Start()
	t.Log("nats-server restarted mid-sweep")
	l.checkFaultHistory(t, false)
}

// TestClusterRestartPostgres (issue 11): PostgreSQL restarted mid-sweep —
// the coordinator loses its lease session and its writes fail; it retries
// (results stay in the stream until stored, observations are retried),
// takes the lease again, and the sweep completes with nothing lost or
// twice.
func TestClusterRestartPostgres(t *testing.T) {
	l := newFaultLab(t, 30)
	c1 := l.coordinator("coord-1")
	l.worker("w1", "dc-a")
	l.worker("w2", "dc-a")
	waitFor(t, "results stored", 60*time.Second, func() bool {
		return l.query(t, `SELECT COUNT(*) FROM cluster_results`) > 0
	})
	l.pg.Restart(t, 2*time.Second)
	t.Log("PostgreSQL restarted mid-sweep")
	l.checkFaultHistory(t, false)
	if log := c1.logText(); !strings.Contains(log, "lease lost") && !strings.Contains(log, "retrying") {
		t.Errorf("the coordinator did not notice the restart")
	}
}
