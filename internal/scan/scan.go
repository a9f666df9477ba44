// Package scan is leakwatch's one probing pipeline: it streams endpoints
// through TCP discovery, hands each open port to the probe engine, and
// passes reports and findings on as they come. `leakwatch scan` runs it once
// over the whole scope; `leakwatch serve` (internal/monitor) runs it per
// resumable sweep chunk, with hooks for what differs there (a rate limit and
// probe slots shared by all scopes, open ports and reports going to the
// store). Memory stays bounded whatever the scope's size: endpoints are
// streamed, discovery and probing use fixed worker pools joined by a queue
// that spills to disk, so discovery never waits for probing.
package scan

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// Discover finds the open endpoints among eps, calling open for each (from
// several goroutines). It returns when eps is exhausted or ctx ends.
type Discover func(ctx context.Context, eps iter.Seq[scope.Endpoint], open func(scope.Endpoint)) error

// Sweep is the TCP-connect Discover (internal/sweep) with opts, counting
// into stats (nil: not kept). wait, if set, is called before each endpoint
// is handed to the sweep — a rate limit shared beyond this run, such as
// serve's across all scopes — and ends discovery when it fails.
func Sweep(opts sweep.Options, stats *sweep.Stats, wait func(context.Context) error) Discover {
	return func(ctx context.Context, eps iter.Seq[scope.Endpoint], open func(scope.Endpoint)) error {
		if wait != nil {
			eps = throttled(ctx, eps, wait)
		}
		return sweep.Run(ctx, eps, opts, stats, open)
	}
}

// Given is the Discover that dials nothing: every endpoint is taken as open
// (endpoints known to be open, such as serve's re-checks of open findings).
func Given(ctx context.Context, eps iter.Seq[scope.Endpoint], open func(scope.Endpoint)) error {
	for ep := range eps {
		if err := ctx.Err(); err != nil {
			return err
		}
		open(ep)
	}
	return nil
}

func throttled(ctx context.Context, eps iter.Seq[scope.Endpoint], wait func(context.Context) error) iter.Seq[scope.Endpoint] {
	return func(yield func(scope.Endpoint) bool) {
		for ep := range eps {
			if wait(ctx) != nil || !yield(ep) {
				return
			}
		}
	}
}

// Config wires one scan.
type Config struct {
	Endpoints iter.Seq[scope.Endpoint]
	Discover  Discover
	Engine    *engine.Engine
	// ProbeWorkers is how many endpoints are probed at once
	// (0: limits.DefaultProbe.Workers).
	ProbeWorkers int
	// QueueMemory is how many open endpoints wait in memory for a probe
	// worker before the rest are spilled to a temporary file
	// (0: DefaultQueueMemory). Discovery never waits for probing.
	QueueMemory int
	// SpillDir is where the spill file goes ("": the system's temp dir).
	SpillDir string
	// OnFinding, if set, receives each finding (from one goroutine at a
	// time); an error from it stops the run.
	OnFinding func(finding.Finding) error
	// OnReport, if set, receives every probe report, findings or not, in
	// the same goroutine as OnFinding, before it. Endpoints the run could
	// not probe (ctx ended first) come as Engine.Unfinished reports.
	OnReport func(*engine.Report)
	// OnOpen, if set, is told of each open endpoint as discovery finds it
	// (from several goroutines).
	OnOpen func(scope.Endpoint)
	// Acquire, if set, is called by a probe worker before it probes an
	// endpoint, e.g. for a probe slot and rate token shared beyond this
	// run; release is called when the probe is done. An error (ctx ended)
	// leaves the endpoint unfinished.
	Acquire func(ctx context.Context) (release func(), err error)
	// Probe, if set, probes one open endpoint instead of Engine.Probe
	// (serve's re-check: a light probe, escalated to a deep one on a
	// change). Engine still reports the endpoints left unfinished.
	Probe func(ctx context.Context, t probe.Target) *engine.Report
}

// Stats count a scan's progress; read them with Snapshot while it runs.
type Stats struct {
	Open      atomic.Int64
	Probed    atomic.Int64
	Findings  atomic.Int64
	Exposed   atomic.Int64
	Protected atomic.Int64
	// Unknown findings: services, or endpoints, a limit left without a
	// verdict (Unfinished of them were never probed: the scan stopped).
	Unknown    atomic.Int64
	Unfinished atomic.Int64
	// Partial findings: flagged partial (a limit cut what was read).
	Partial atomic.Int64
	// Silent open ports: no byte and no close to the look or any prober.
	Silent atomic.Int64
	// Spilled open endpoints waited in the spill file.
	Spilled atomic.Int64
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Open, Probed, Findings, Exposed, Protected int64
	Unknown, Unfinished, Partial, Silent       int64
	Spilled                                    int64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{
		Open: s.Open.Load(), Probed: s.Probed.Load(), Findings: s.Findings.Load(),
		Exposed: s.Exposed.Load(), Protected: s.Protected.Load(),
		Unknown: s.Unknown.Load(), Unfinished: s.Unfinished.Load(), Partial: s.Partial.Load(),
		Silent: s.Silent.Load(), Spilled: s.Spilled.Load(),
	}
}

// Summary is what a finished scan found.
type Summary struct {
	Snapshot
	Duration time.Duration
	// Stopped is why the scan ended before it was done (nil: it was not):
	// the cause of ctx's end, e.g. a time budget or an interrupt.
	Stopped error
}

// CapWorkers is the number of probe workers a run uses when asked for n
// (0: limits.DefaultProbe.Workers): each endpoint in probing may hold a few
// connections at once (the look, raced probers), so the workers are capped
// to 1/16 of the file-descriptor limit (at least 16), leaving descriptors
// to the sweep. Callers sharing probe slots across runs size them with it.
func CapWorkers(n int) int {
	if n <= 0 {
		n = limits.DefaultProbe.Workers
	}
	if limit, _ := sweep.RaiseFDLimit(); limit > 0 {
		n = min(n, max(16, int(min(limit/16, 1<<16))))
	}
	return n
}

// Run executes the scan. Findings go to OnFinding as they are made; an
// error from OnFinding stops the scan. When ctx ends first, every open
// endpoint already discovered is still reported — probed ones with what
// was proven, the rest as unknown — and Summary.Stopped says why.
func Run(ctx context.Context, cfg Config, stats *Stats) (Summary, error) {
	if cfg.Engine == nil || cfg.Discover == nil || cfg.Endpoints == nil || (cfg.OnFinding == nil && cfg.OnReport == nil) {
		return Summary{}, errors.New("scan: incomplete config")
	}
	if stats == nil {
		stats = &Stats{}
	}
	workers := CapWorkers(cfg.ProbeWorkers)
	start := time.Now()
	outer := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	open := newQueue(cfg.QueueMemory, cfg.SpillDir)
	defer open.Remove()
	reports := make(chan *engine.Report, workers)

	var discErr error
	go func() {
		defer open.Close()
		discErr = cfg.Discover(ctx, cfg.Endpoints, func(ep scope.Endpoint) {
			stats.Open.Add(1)
			if cfg.OnOpen != nil {
				cfg.OnOpen(ep)
			}
			open.Push(ep)
		})
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ep, ok := open.Pop()
				if !ok {
					return
				}
				reports <- probeOne(ctx, cfg, stats, ep) // the loop below reads until the end
			}
		}()
	}
	go func() { wg.Wait(); close(reports) }()

	var sum Summary
	var outErr error
	for rep := range reports {
		if cfg.OnReport != nil {
			cfg.OnReport(rep)
		}
		if rep.Silent() {
			stats.Silent.Add(1)
		}
		f := rep.Finding
		if f == nil || outErr != nil {
			continue
		}
		stats.Findings.Add(1)
		switch f.Status {
		case finding.StatusExposed:
			stats.Exposed.Add(1)
		case finding.StatusProtected:
			stats.Protected.Add(1)
		default:
			stats.Unknown.Add(1)
		}
		if slices.Contains(f.Flags, probe.FlagPartial) {
			stats.Partial.Add(1)
		}
		if cfg.OnFinding == nil {
			continue
		}
		if err := cfg.OnFinding(*f); err != nil {
			outErr = err
			cancel(err)
		}
	}
	stats.Spilled.Store(open.Spilled())
	sum.Snapshot = stats.Snapshot()
	sum.Duration = time.Since(start)
	if outErr != nil {
		return sum, outErr
	}
	if dl, ok := outer.Deadline(); ok && !time.Now().Before(dl) {
		<-outer.Done() // its timer fires a moment after the deadline
	}
	if outer.Err() != nil {
		sum.Stopped = context.Cause(outer)
		return sum, nil
	}
	if err := open.Err(); err != nil {
		return sum, err
	}
	if discErr != nil && !errors.Is(discErr, context.Canceled) {
		return sum, discErr
	}
	return sum, nil
}

// probeOne probes one open endpoint, or reports it unfinished when the run
// ended (or no probe slot could be had) first.
func probeOne(ctx context.Context, cfg Config, stats *Stats, ep scope.Endpoint) *engine.Report {
	t := probe.Target{Addr: ep.Addr, Port: ep.Port, Hostname: ep.Hostname}
	release := func() {}
	if ctx.Err() == nil && cfg.Acquire != nil {
		r, err := cfg.Acquire(ctx)
		if err != nil {
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			stats.Unfinished.Add(1)
			return cfg.Engine.Unfinished(t, err)
		}
		if r != nil {
			release = r
		}
	}
	if ctx.Err() != nil {
		release()
		stats.Unfinished.Add(1)
		return cfg.Engine.Unfinished(t, context.Cause(ctx))
	}
	defer release()
	stats.Probed.Add(1)
	if cfg.Probe != nil {
		return cfg.Probe(ctx, t)
	}
	return cfg.Engine.Probe(ctx, t)
}
