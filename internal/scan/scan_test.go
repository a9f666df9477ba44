package scan

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// gate is a prober (test double) that waits for open to close, then says
// "not this service".
type gate struct {
	open  chan struct{}
	calls atomic.Int64
}

func (g *gate) Name() string        { return "gate" }
func (g *gate) DefaultPorts() []int { return []int{7} }
func (g *gate) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	g.calls.Add(1)
	select {
	case <-g.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return nil, probe.NotThisService("gate")
}

func testEngine(t *testing.T, p probe.Prober) *engine.Engine {
	t.Helper()
	reg, err := probe.NewRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(engine.Options{Registry: reg, Classifier: clf, Budget: probe.DefaultBudget(),
		InScope: func(netip.AddrPort) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func endpoints(n int) iter.Seq[scope.Endpoint] {
	return func(yield func(scope.Endpoint) bool) {
		base := netip.MustParseAddr("127.9.0.0")
		for i := 0; i < n; i++ {
			base = base.Next()
			if !yield(scope.Endpoint{Addr: base, Port: 7}) {
				return
			}
		}
	}
}

// everyOpen is a Discover that finds every endpoint open at once.
func everyOpen(done *atomic.Bool) Discover {
	return func(ctx context.Context, eps iter.Seq[scope.Endpoint], open func(scope.Endpoint)) error {
		for ep := range eps {
			open(ep)
		}
		done.Store(true)
		return nil
	}
}

// TestDiscoveryNeverWaitsForProbing: discovery finishes while every probe
// worker is still busy (it used to stall behind a small channel), the
// overflow spills to a file, and every endpoint is still probed.
func TestDiscoveryNeverWaitsForProbing(t *testing.T) {
	g := &gate{open: make(chan struct{})}
	var discovered atomic.Bool
	const n = 500
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for !discovered.Load() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		close(g.open)
	}()
	sum, err := Run(context.Background(), Config{
		Endpoints: endpoints(n), Discover: everyOpen(&discovered), Engine: testEngine(t, g),
		ProbeWorkers: 2, QueueMemory: 50, SpillDir: t.TempDir(),
		OnFinding: func(finding.Finding) error { return nil },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !discovered.Load() {
		t.Fatal("discovery never finished while probes were busy")
	}
	if sum.Open != n || sum.Probed != n || g.calls.Load() != n {
		t.Fatalf("open %d probed %d calls %d, want %d", sum.Open, sum.Probed, g.calls.Load(), n)
	}
	if sum.Spilled == 0 {
		t.Errorf("nothing spilled with a 50-endpoint memory queue and %d waiting", n)
	}
}

// TestStoppedScanReportsUnfinished: endpoints discovered but not probed
// when the scan stops appear as unknown findings; none is dropped.
func TestStoppedScanReportsUnfinished(t *testing.T) {
	g := &gate{open: make(chan struct{})} // never opens: probes wait for the end
	var discovered atomic.Bool
	stop := errors.New("time budget spent")
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		for !discovered.Load() {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
		cancel(stop)
	}()
	const n = 40
	var unknown atomic.Int64
	sum, err := Run(ctx, Config{
		Endpoints: endpoints(n), Discover: everyOpen(&discovered), Engine: testEngine(t, g), ProbeWorkers: 4,
		OnFinding: func(f finding.Finding) error {
			if f.Status == finding.StatusUnknown && f.Error != "" {
				unknown.Add(1)
			}
			return nil
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(sum.Stopped, stop) {
		t.Errorf("stopped = %v, want the cause", sum.Stopped)
	}
	if unknown.Load() != n || sum.Unknown != n || sum.Unfinished != n-4 {
		t.Fatalf("unknown findings %d (summary %d, unfinished %d), want %d (%d unfinished)", unknown.Load(), sum.Unknown, sum.Unfinished, n, n-4)
	}
}

func TestQueueSpillsAndKeepsEverything(t *testing.T) {
	q := newQueue(3, t.TempDir())
	defer q.Remove()
	var want []scope.Endpoint
	for ep := range endpoints(20) {
		ep.Hostname = "db.example"
		want = append(want, ep)
		q.Push(ep)
	}
	q.Close()
	var got []scope.Endpoint
	for {
		ep, ok := q.Pop()
		if !ok {
			break
		}
		got = append(got, ep)
	}
	if len(got) != len(want) || q.Spilled() != 17 || q.Err() != nil {
		t.Fatalf("got %d of %d, spilled %d, err %v", len(got), len(want), q.Spilled(), q.Err())
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("endpoint %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// busy is a prober (test double) that records how many of its probes run
// at once.
type busy struct{ now, peak atomic.Int64 }

func (b *busy) Name() string        { return "busy" }
func (b *busy) DefaultPorts() []int { return []int{7} }
func (b *busy) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	n := b.now.Add(1)
	defer b.now.Add(-1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	time.Sleep(2 * time.Millisecond)
	return nil, probe.NotThisService("busy")
}

// TestHooks: serve's hooks — probe slots shared beyond the run (Acquire),
// open ports (OnOpen), reports without a finding writer (OnReport only).
func TestHooks(t *testing.T) {
	b := &busy{}
	slots := make(chan struct{}, 2) // fewer than the workers
	var acquired, released, opened, reports atomic.Int64
	var discovered atomic.Bool
	const n = 60
	sum, err := Run(context.Background(), Config{
		Endpoints: endpoints(n), Discover: everyOpen(&discovered), Engine: testEngine(t, b), ProbeWorkers: 8,
		Acquire: func(ctx context.Context) (func(), error) {
			slots <- struct{}{}
			acquired.Add(1)
			return func() { released.Add(1); <-slots }, nil
		},
		OnOpen:   func(scope.Endpoint) { opened.Add(1) },
		OnReport: func(*engine.Report) { reports.Add(1) },
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if opened.Load() != n || reports.Load() != n || acquired.Load() != n || released.Load() != n || sum.Probed != n {
		t.Fatalf("opened %d reports %d acquired %d released %d probed %d, want %d each",
			opened.Load(), reports.Load(), acquired.Load(), released.Load(), sum.Probed, n)
	}
	if p := b.peak.Load(); p > 2 {
		t.Errorf("%d probes at once with 2 shared slots", p)
	}

	// A failing Acquire (its context ended) leaves the endpoint unfinished.
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("shutdown")
	var unfinished atomic.Int64
	sum, err = Run(ctx, Config{
		Endpoints: endpoints(10), Discover: everyOpen(&discovered), Engine: testEngine(t, b), ProbeWorkers: 2,
		Acquire: func(context.Context) (func(), error) { cancel(stop); return nil, context.Canceled },
		OnReport: func(r *engine.Report) {
			if r.Finding != nil && slices.Contains(r.Finding.Flags, probe.FlagScanStopped) {
				unfinished.Add(1)
			}
		},
	}, nil)
	if err != nil || !errors.Is(sum.Stopped, stop) || sum.Probed != 0 || unfinished.Load() != 10 || sum.Unfinished != 10 {
		t.Fatalf("err %v stopped %v probed %d unfinished %d/%d, want all 10 unfinished", err, sum.Stopped, sum.Probed, unfinished.Load(), sum.Unfinished)
	}
	if _, err := Run(context.Background(), Config{Endpoints: endpoints(1), Discover: everyOpen(&discovered), Engine: testEngine(t, b)}, nil); err == nil {
		t.Error("a run with neither OnFinding nor OnReport was accepted")
	}
}

// TestSweepWait: the Discover of Sweep asks wait before each endpoint and
// stops discovery when wait fails (serve's limiter shared by all scopes).
func TestSweepWait(t *testing.T) {
	var waits atomic.Int64
	var stats sweep.Stats
	opts := sweep.Options{Concurrency: 4, Timeout: time.Second, InScope: func(netip.AddrPort) bool { return true }}
	d := Sweep(opts, &stats, func(context.Context) error { waits.Add(1); return nil })
	if err := d(context.Background(), endpoints(20), func(scope.Endpoint) {}); err != nil {
		t.Fatal(err)
	}
	if waits.Load() != 20 || stats.Attempted.Load() != 20 {
		t.Fatalf("waits %d attempted %d, want 20", waits.Load(), stats.Attempted.Load())
	}
	waits.Store(0)
	var stats2 sweep.Stats
	full := errors.New("limiter: context done")
	d = Sweep(opts, &stats2, func(context.Context) error {
		if waits.Add(1) > 5 {
			return full
		}
		return nil
	})
	_ = d(context.Background(), endpoints(20), func(scope.Endpoint) {})
	if stats2.Attempted.Load() != 5 {
		t.Fatalf("attempted %d after wait failed at the 6th, want 5", stats2.Attempted.Load())
	}
}

func TestCapWorkers(t *testing.T) {
	if n := CapWorkers(3); n != 3 {
		t.Errorf("CapWorkers(3) = %d", n)
	}
	if n := CapWorkers(0); n < 16 || n > limits.DefaultProbe.Workers {
		t.Errorf("CapWorkers(0) = %d, want 16 to %d", n, limits.DefaultProbe.Workers)
	}
	if limit, _ := sweep.RaiseFDLimit(); limit > 0 {
		if n := CapWorkers(1 << 30); n > max(16, int(limit/16)) {
			t.Errorf("CapWorkers(1<<30) = %d with %d file descriptors", n, limit)
		}
	}
}
