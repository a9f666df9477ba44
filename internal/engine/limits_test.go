package engine

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// funcProber is a test double whose Probe is a function.
type funcProber struct {
	name  string
	ports []int
	probe func(ctx context.Context, env *probe.Env) (*probe.Result, error)
}

func (f *funcProber) Name() string        { return f.name }
func (f *funcProber) DefaultPorts() []int { return f.ports }
func (f *funcProber) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	return f.probe(ctx, env)
}

func engineWith(t *testing.T, edit func(*Options), ps ...probe.Prober) *Engine {
	t.Helper()
	reg, err := probe.NewRegistry(ps...)
	if err != nil {
		t.Fatal(err)
	}
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	b := probetest.Budget()
	b.BannerWait = 300 * time.Millisecond
	b.FallbackFirstByte = 300 * time.Millisecond
	opts := Options{Registry: reg, Classifier: clf, Budget: b, AllProbers: true,
		InScope: func(ap netip.AddrPort) bool { return ap.Addr().IsLoopback() }}
	if edit != nil {
		edit(&opts)
	}
	e, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// waitFirstByte dials, writes a request and waits for an answer: what a
// client-first prober does on a port that may be silent.
func waitFirstByte(ctx context.Context, env *probe.Env) error {
	c, err := env.Dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello?\r\n")); err != nil {
		return err
	}
	_, err = c.Read(make([]byte, 1))
	return err
}

// TestSilentPortCostsOneWindow: on a port silent to the look, the
// client-first probers wait for their first byte at the same time, not one
// after the other (10 probers × the first-byte window each made a tarpit
// cost the whole probe timeout).
func TestSilentPortCostsOneWindow(t *testing.T) {
	tarpit := probetest.Tarpit(t)
	var waiting, most atomic.Int64
	var ps []probe.Prober
	for i := range 10 {
		ps = append(ps, &funcProber{name: "cf" + string(rune('a'+i)), ports: []int{1000 + i},
			probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
				n := waiting.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				defer waiting.Add(-1)
				return nil, waitFirstByte(ctx, env)
			}})
	}
	e := engineWith(t, nil, ps...)
	rep := e.Probe(context.Background(), probe.Target{Addr: tarpit.Addr, Port: tarpit.Port})
	if most.Load() != 10 {
		t.Errorf("at most %d probers waited at once on a silent port, want all 10", most.Load())
	}
	if rep.Finding != nil || !rep.Silent() {
		t.Errorf("silent port: finding %+v silent %v", rep.Finding, rep.Silent())
	}
}

// TestSilentPortStopsWaitingClaimer: a claimer waiting for its first byte
// on a port that the look finds silent is stopped, instead of costing its
// whole IO timeout before the fallback probers start.
func TestSilentPortStopsWaitingClaimer(t *testing.T) {
	tarpit := probetest.Tarpit(t)
	var stopped atomic.Bool
	claimer := &funcProber{name: "claimer", ports: []int{tarpit.Port},
		probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
			err := waitFirstByte(ctx, env)
			stopped.Store(ctx.Err() != nil)
			return nil, err
		}}
	other := &funcProber{name: "other", ports: []int{1}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		return nil, waitFirstByte(ctx, env)
	}}
	e := engineWith(t, func(o *Options) { o.Budget.IOTimeout = 30 * time.Second }, claimer, other)
	rep := e.Probe(context.Background(), probe.Target{Addr: tarpit.Addr, Port: tarpit.Port})
	if !stopped.Load() {
		t.Fatalf("the claimer waited out its IO timeout on a silent port: %+v", rep.Attempts)
	}
	if rep.Finding != nil || !rep.Silent() {
		t.Errorf("finding %+v silent %v", rep.Finding, rep.Silent())
	}
}

// TestProvisionalResultSurvivesDeadline: what a prober proved before the
// target's deadline (identity, exposed, counts) is reported, flagged
// partial with the reason — not dropped.
func TestProvisionalResultSurvivesDeadline(t *testing.T) {
	for _, tc := range []struct {
		name string
		fail func(ctx context.Context) error
		flag string
	}{
		{"deadline", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, probe.FlagProbeTimeout},
		{"budget", func(context.Context) error { return probe.ErrBudget }, probe.FlagByteBudget},
		{"panic", func(context.Context) error { panic("parser bug") }, probe.FlagProberPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := int64(777)
			p := &funcProber{name: "cache", ports: []int{11211}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
				res := &probe.Result{Product: "cache", Status: finding.StatusExposed, Auth: finding.AuthNone}
				res.Datasets = append(res.Datasets, probe.Dataset{Dataset: finding.Dataset{Name: "cache", Kind: "cache", Records: &n}})
				env.Provisional(res)
				return nil, tc.fail(ctx)
			}}
			e := engineWith(t, func(o *Options) { o.Budget.Timeout = 300 * time.Millisecond }, p)
			rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 11211})
			f := rep.Finding
			if f == nil || f.Status != finding.StatusExposed || f.Service != "cache" {
				t.Fatalf("finding %+v attempts %+v", f, rep.Attempts)
			}
			if !slices.Contains(f.Flags, probe.FlagPartial) || !slices.Contains(f.Flags, tc.flag) || f.Error == "" {
				t.Errorf("flags %v error %q; want partial, %s and a reason", f.Flags, f.Error, tc.flag)
			}
			if len(f.Datasets) != 1 || f.Datasets[0].Records == nil || *f.Datasets[0].Records != 777 {
				t.Errorf("datasets %+v", f.Datasets)
			}
		})
	}
}

// TestNoVerdictIsUnknown: a target whose probe a limit stopped before any
// prober decided (here the probe timeout, with probers not yet tried)
// appears as unknown with the reason.
func TestNoVerdictIsUnknown(t *testing.T) {
	slow := &funcProber{name: "slow", ports: []int{11211}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	never := &stub{name: "never", ports: []int{11211}, err: notThis()}
	e := engineWith(t, func(o *Options) { o.Budget.Timeout = 200 * time.Millisecond }, slow, never)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 11211})
	f := rep.Finding
	if f == nil || f.Status != finding.StatusUnknown || !slices.Contains(f.Flags, probe.FlagProbeTimeout) || !strings.Contains(f.Error, "probe timeout") {
		t.Fatalf("finding %+v", f)
	}
	if never.calls.Load() != 0 {
		t.Errorf("never ran")
	}
	// Probers that all said "not this service" leave no finding.
	e = engineWith(t, nil, never)
	if rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 11211}); rep.Finding != nil {
		t.Errorf("not-this-service port reported: %+v", rep.Finding)
	}
	// So does a scan that stopped first.
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("max duration"))
	rep = engineWith(t, nil, slow).Probe(ctx, probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 11211})
	if rep.Finding == nil || !slices.Contains(rep.Finding.Flags, probe.FlagScanStopped) {
		t.Fatalf("stopped scan: finding %+v", rep.Finding)
	}
}

// readAll reads the target until an error and returns how much came.
func readAll(ctx context.Context, env *probe.Env) (int64, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n, err := io.Copy(io.Discard, c)
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// TestByteBudgetIsPerTarget: every prober tried on one host:port draws
// from one budget (it was one budget per prober: a target cost MaxBytes
// times the number of probers).
func TestByteBudgetIsPerTarget(t *testing.T) {
	srv := probetest.Endless(t, "", 'x')
	var total atomic.Int64
	var ps []probe.Prober
	for i := range 4 {
		ps = append(ps, &funcProber{name: "reader" + string(rune('a'+i)), ports: []int{srv.Port},
			probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
				n, err := readAll(ctx, env)
				total.Add(n)
				return nil, err
			}})
	}
	e := engineWith(t, func(o *Options) { o.Budget.MaxBytes = 1 << 20 }, ps...)
	rep := e.Probe(context.Background(), probe.Target{Addr: srv.Addr, Port: srv.Port})
	if total.Load() > 1<<20 {
		t.Fatalf("probers of one target read %d bytes, budget %d", total.Load(), 1<<20)
	}
	if rep.Finding == nil || !slices.Contains(rep.Finding.Flags, probe.FlagByteBudget) {
		t.Errorf("finding %+v, want unknown flagged byte-budget", rep.Finding)
	}
}

// TestMemoryCeilingAcrossTargets: concurrent probes of hostile targets
// together never hold more than the memory ceiling; a probe refused memory
// is flagged, and the pool is given back when probes end.
func TestMemoryCeilingAcrossTargets(t *testing.T) {
	const ceiling = 2 << 20
	var servers []*probetest.Server
	for range 6 {
		servers = append(servers, probetest.Endless(t, "", 'y'))
	}
	// Each probe holds what it read for a while (as a prober parsing a big
	// answer does), so the targets overlap.
	reader := &funcProber{name: "reader", ports: []int{0}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		_, err := readAll(ctx, env)
		time.Sleep(time.Second)
		return nil, err
	}}
	e := engineWith(t, func(o *Options) {
		o.MemoryCeiling = ceiling
		o.Budget.MaxBytes = 1 << 20
		o.Budget.IOTimeout = 300 * time.Millisecond
		o.AllProbers = true
	}, reader)
	reps := make(chan *Report, len(servers))
	for _, s := range servers {
		go func() { reps <- e.Probe(context.Background(), probe.Target{Addr: s.Addr, Port: s.Port}) }()
	}
	ceilingHit := 0
	for range servers {
		rep := <-reps
		if rep.Finding != nil && slices.Contains(rep.Finding.Flags, probe.FlagMemoryCeiling) {
			ceilingHit++
		}
	}
	if peak := e.Memory().Peak(); peak > ceiling {
		t.Fatalf("peak %d bytes held, ceiling %d", peak, ceiling)
	}
	if ceilingHit == 0 {
		t.Errorf("6 targets × 1 MiB under a 2 MiB ceiling: no target flagged memory-ceiling")
	}
	if in := e.Memory().InUse(); in != 0 {
		t.Errorf("%d bytes still drawn after every probe ended", in)
	}
}

// TestGoroutinePanicIsTargetError: a panic in a prober's own goroutine
// (probe.Group) becomes that target's error, not the process's.
func TestGoroutinePanicIsTargetError(t *testing.T) {
	p := &funcProber{name: "fanout", ports: []int{4222}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		g := probe.NewGroup(2)
		for i := range 3 {
			g.Go(func() {
				if i == 1 {
					var m map[string]int
					m["x"] = 1 // nil map write: a runtime panic
				}
			})
		}
		g.Wait()
		return &probe.Result{Status: finding.StatusExposed}, nil
	}}
	e := engineWith(t, nil, p)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 4222})
	if len(rep.Attempts) == 0 || rep.Attempts[0].Outcome != probe.OutcomeProtocolError || !strings.Contains(rep.Attempts[0].Err.Error(), "panic") {
		t.Fatalf("attempts %+v", rep.Attempts)
	}
	if rep.Finding == nil || !slices.Contains(rep.Finding.Flags, probe.FlagProberPanic) {
		t.Fatalf("finding %+v, want unknown flagged prober-panic", rep.Finding)
	}
}

// TestProbersStartNoGoroutines: probers run concurrent work only through
// probe.Group, whose panics reach the engine's recover; a bare go
// statement in a prober package would let one hostile answer kill the scan.
func TestProbersStartNoGoroutines(t *testing.T) {
	dirs, err := filepath.Glob("../probe/*")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() || filepath.Base(dir) == "probetest" {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			ast.Inspect(file, func(n ast.Node) bool {
				if g, ok := n.(*ast.GoStmt); ok {
					t.Errorf("%s: go statement in a prober; use probe.Group", fset.Position(g.Pos()))
				}
				return true
			})
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d prober files", checked)
	}
}

// TestSharedMemoryPool: engines given one pool (serve's scopes, its deep
// and light engines) share one ceiling — together they never hold more.
func TestSharedMemoryPool(t *testing.T) {
	const ceiling = 2 << 20
	pool := probe.NewMemoryPool(ceiling)
	reader := &funcProber{name: "reader", ports: []int{0}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		_, err := readAll(ctx, env)
		time.Sleep(time.Second)
		return nil, err
	}}
	var engines []*Engine
	for range 2 {
		engines = append(engines, engineWith(t, func(o *Options) {
			o.Memory = pool
			o.MemoryCeiling = 64 << 20 // ignored: the shared pool rules
			o.Budget.MaxBytes = 1 << 20
			o.Budget.IOTimeout = 300 * time.Millisecond
			o.AllProbers = true
		}, reader))
	}
	if engines[0].Memory() != pool || engines[1].Memory() != pool {
		t.Fatal("engines do not use the pool they were given")
	}
	reps := make(chan *Report, 6)
	for i := range 6 {
		s := probetest.Endless(t, "", 'y')
		go func() { reps <- engines[i%2].Probe(context.Background(), probe.Target{Addr: s.Addr, Port: s.Port}) }()
	}
	ceilingHit := 0
	for range 6 {
		if rep := <-reps; rep.Finding != nil && slices.Contains(rep.Finding.Flags, probe.FlagMemoryCeiling) {
			ceilingHit++
		}
	}
	if peak := pool.Peak(); peak > ceiling {
		t.Fatalf("two engines held %d bytes together, shared ceiling %d", peak, ceiling)
	}
	if ceilingHit == 0 {
		t.Error("6 targets × 1 MiB on two engines under one 2 MiB ceiling: none flagged memory-ceiling")
	}
}

// TestNoVerdictErrorScrubbed: the no-verdict finding quotes prober errors,
// which may quote the server; a value in them is masked like any string
// from a target.
func TestNoVerdictErrorScrubbed(t *testing.T) {
	const raw = "jane.doe@example.com"
	s := probetest.Tarpit(t)
	leaky := &funcProber{name: "leaky", ports: []int{s.Port}, probe: func(ctx context.Context, env *probe.Env) (*probe.Result, error) {
		panic("server said: unknown user " + raw)
	}}
	e := engineWith(t, func(o *Options) { o.AllProbers = false }, leaky)
	rep := e.Probe(context.Background(), probe.Target{Addr: s.Addr, Port: s.Port})
	if rep.Finding == nil {
		t.Fatal("no finding for a prober that panicked")
	}
	if strings.Contains(rep.Finding.Error, raw) {
		t.Fatalf("raw value in the no-verdict error: %q", rep.Finding.Error)
	}
}

// TestAttemptReasonScrubbedAndBounded: an attempt's error, as traced and
// stored by serve, masks values the server put in it and stays short.
func TestAttemptReasonScrubbedAndBounded(t *testing.T) {
	const raw = "jane.doe@example.com"
	a := Attempt{Err: fmt.Errorf("redis: -ERR no such user %s%s", raw, strings.Repeat(" é", 500))}
	got := a.Reason()
	if strings.Contains(got, raw) {
		t.Errorf("raw value in the reason: %q", got)
	}
	if len(got) > maxReason+len("…") || !utf8.ValidString(got) {
		t.Errorf("reason of %d bytes (valid UTF-8: %v)", len(got), utf8.ValidString(got))
	}
	if (Attempt{}).Reason() != "" {
		t.Error("reason without an error")
	}
}
