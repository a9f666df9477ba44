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
}

// Snapshot is a copy of the counters.
type Snapshot struct {
	Open, Probed, Findings, Exposed, Protected int64
}

// Snapshot reads the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{s.Open.Load(), s.Probed.Load(), s.Findings.Load(), s.Exposed.Load(), s.Protected.Load()}
}

// Summary is what a finished scan found.
type Summary struct {
	Snapshot
	Duration time.Duration
}

// Run executes the scan. Findings go to OnFinding as they are made; an
// error from OnFinding stops the scan.
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
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	open := make(chan scope.Endpoint, workers*4)
	reports := make(chan *engine.Report, workers)

	var discErr error
	go func() {
		defer close(open)
		discErr = cfg.Discover(ctx, cfg.Endpoints, func(ep scope.Endpoint) {
			stats.Open.Add(1)
			select {
			case open <- ep:
			case <-ctx.Done():
			}
		})
	}()

	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ep := range open {
				if ctx.Err() != nil {
					continue // drain
				}
				rep := cfg.Engine.Probe(ctx, probe.Target{Addr: ep.Addr, Port: ep.Port, Hostname: ep.Hostname})
				stats.Probed.Add(1)
				select {
				case reports <- rep:
				case <-ctx.Done():
				}
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
		}
		if err := cfg.OnFinding(*f); err != nil {
			outErr = err
			cancel(err)
		}
	}
	sum.Snapshot = stats.Snapshot()
	sum.Duration = time.Since(start)
	if outErr != nil {
		return sum, outErr
	}
	if discErr != nil && !errors.Is(discErr, context.Canceled) {
		return sum, discErr
	}
	return sum, ctx.Err()
}
