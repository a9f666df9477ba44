// Package scan runs the scan flow once: it streams the scope's endpoints
// through TCP discovery, hands each open port to the probe engine, and
// passes findings on as they come. Memory stays bounded whatever the scope's
// size: endpoints are streamed, discovery and probing use fixed worker
// pools joined by small buffered channels.
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
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
)

// Discover finds the open endpoints among eps, calling open for each (from
// several goroutines). It returns when eps is exhausted or ctx ends.
type Discover func(ctx context.Context, eps iter.Seq[scope.Endpoint], open func(scope.Endpoint)) error

// Config wires one scan.
type Config struct {
	Endpoints iter.Seq[scope.Endpoint]
	Discover  Discover
	Engine    *engine.Engine
	// ProbeWorkers is how many endpoints are probed at once.
	ProbeWorkers int
	// QueueMemory is how many open endpoints wait in memory for a probe
	// worker before the rest are spilled to a temporary file
	// (0: DefaultQueueMemory). Discovery never waits for probing.
	QueueMemory int
	// SpillDir is where the spill file goes ("": the system's temp dir).
	SpillDir string
	// OnFinding receives each finding (from one goroutine at a time).
	OnFinding func(finding.Finding) error
	// OnReport, if set, receives every probe report, findings or not.
	OnReport func(*engine.Report)
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

// Run executes the scan. Findings go to OnFinding as they are made; an
// error from OnFinding stops the scan. When ctx ends first, every open
// endpoint already discovered is still reported — probed ones with what
// was proven, the rest as unknown — and Summary.Stopped says why.
func Run(ctx context.Context, cfg Config, stats *Stats) (Summary, error) {
	if cfg.Engine == nil || cfg.Discover == nil || cfg.Endpoints == nil || cfg.OnFinding == nil {
		return Summary{}, errors.New("scan: incomplete config")
	}
	if stats == nil {
		stats = &Stats{}
	}
	workers := cfg.ProbeWorkers
	if workers <= 0 {
		workers = 16
	}
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
				t := probe.Target{Addr: ep.Addr, Port: ep.Port, Hostname: ep.Hostname}
				var rep *engine.Report
				if ctx.Err() != nil {
					rep = cfg.Engine.Unfinished(t, context.Cause(ctx))
					stats.Unfinished.Add(1)
				} else {
					rep = cfg.Engine.Probe(ctx, t)
					stats.Probed.Add(1)
				}
				reports <- rep // the loop below reads until the end
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
