package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// cursor is a sweep's progress: the scope's fingerprint (a changed scope
// starts over) and how many endpoints, in scope order, are done.
type cursor struct {
	hash string
	done int64
}

func (c cursor) String() string { return "v1:" + c.hash + ":" + strconv.FormatInt(c.done, 10) }

func parseCursor(s string) (cursor, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 || parts[0] != "v1" {
		return cursor{}, false
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil || n < 0 {
		return cursor{}, false
	}
	return cursor{hash: parts[1], done: n}, true
}

// startSweep resumes the scope's unfinished scan run or begins one; it
// returns the run and how many endpoints to skip.
func (r *scopeRunner) startSweep(ctx context.Context) (store.ScanRun, int64, error) {
	st := r.m.o.Store
	run, err := st.UnfinishedScan(ctx, r.cfg.Name)
	switch {
	case err == nil:
		if c, ok := parseCursor(run.Cursor); ok && c.hash == r.hash {
			r.m.logger.Info("resuming sweep", "scope", r.cfg.Name, "scan", run.ID, "done", c.done, "of", r.sc.Endpoints())
			return run, c.done, nil
		}
		if run.Cursor == "" {
			r.m.logger.Info("resuming sweep from its start", "scope", r.cfg.Name, "scan", run.ID)
			return run, 0, nil
		}
		// The scope changed since: that sweep cannot be resumed.
		_ = st.FinishScan(ctx, run.ID, store.ScanAbandoned, "scope changed")
	case !errors.Is(err, store.ErrNotFound):
		return store.ScanRun{}, 0, err
	}
	run, err = st.BeginScan(ctx, r.cfg.Name)
	return run, 0, err
}

// sweep runs (or resumes) one sweep of the scope.
func (r *scopeRunner) sweep(ctx context.Context) error {
	r.mu.Lock()
	if r.sweeping {
		r.mu.Unlock()
		return nil
	}
	r.sweeping = true
	r.mu.Unlock()
	defer func() { r.mu.Lock(); r.sweeping = false; r.mu.Unlock() }()

	start := time.Now()
	st := r.m.o.Store
	run, skip, err := r.startSweep(ctx)
	if err != nil {
		return fmt.Errorf("begin scan: %w", err)
	}
	known, err := r.openFindings(ctx, run.ID)
	if err != nil {
		return r.finish(ctx, run, start, fmt.Errorf("list open findings: %w", err))
	}
	if r.m.o.Remote != nil {
		return r.finish(ctx, run, start, r.remoteSweep(ctx, run, skip, known))
	}
	var done int64
	chunk := make([]scope.Endpoint, 0, r.m.o.Chunk)
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if err := r.sweepChunk(ctx, run.ID, chunk, known); err != nil {
			return err
		}
		chunk = chunk[:0]
		return st.SaveScanCursor(ctx, run.ID, cursor{hash: r.hash, done: done}.String())
	}
	for ep := range r.sc.All() {
		if done < skip {
			done++
			continue
		}
		chunk = append(chunk, ep)
		done++
		if len(chunk) == cap(chunk) {
			if err := flush(); err != nil {
				return r.finish(ctx, run, start, err)
			}
		}
	}
	return r.finish(ctx, run, start, flush())
}

// finish closes the scan run: finished, or failed; a cancelled sweep is
// left running so that the next start resumes it.
func (r *scopeRunner) finish(ctx context.Context, run store.ScanRun, start time.Time, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	status, text := store.ScanFinished, ""
	if err != nil {
		status, text = store.ScanFailed, err.Error()
	}
	if ferr := r.m.o.Store.FinishScan(ctx, run.ID, status, text); ferr != nil && err == nil {
		err = ferr
	}
	if mt := r.m.o.Metrics; mt != nil {
		mt.ScansTotal.WithLabelValues(r.cfg.Name, string(status)).Inc()
		mt.ScanDuration.WithLabelValues(r.cfg.Name).Observe(time.Since(start).Seconds())
	}
	r.m.logger.Debug("sweep done", "scope", r.cfg.Name, "scan", run.ID, "status", status, "took", time.Since(start).Round(time.Millisecond))
	return err
}

// sweepChunk runs the probing pipeline (scan.Run) over one chunk:
// discovery at the rate shared by all scopes, a deep probe of every open
// port in a probe slot shared by all scopes, and an observation recorded
// for each report; open findings at endpoints of the chunk that were not
// open are gone. A chunk cut short by ctx records nothing more and returns
// ctx's error: the sweep resumes at this chunk.
func (r *scopeRunner) sweepChunk(ctx context.Context, runID string, chunk []scope.Endpoint, known map[netip.AddrPort][]store.Finding) error {
	var mu sync.Mutex
	open := map[netip.AddrPort]bool{}
	var stats sweep.Stats
	var held heldReports
	_, err := scan.Run(ctx, scan.Config{
		Endpoints: slices.Values(chunk),
		Discover: scan.Sweep(sweep.Options{
			Concurrency: r.m.cfg.Probe.Concurrency, Timeout: r.m.cfg.Probe.ConnectTimeout.D, InScope: r.sc.Allows,
		}, &stats, r.m.limiter.Wait),
		Engine:       r.deep,
		ProbeWorkers: r.m.cfg.Probe.Workers,
		Acquire:      r.m.slot,
		Probe: func(ctx context.Context, t probe.Target) *engine.Report {
			unlock, err := r.m.busy.lock(ctx, t.AddrPort())
			if err != nil {
				return r.deep.Unfinished(t, err)
			}
			rep := r.deep.Probe(ctx, t)
			held.hold(rep, unlock)
			return rep
		},
		OnOpen: func(ep scope.Endpoint) {
			mu.Lock()
			open[ep.AddrPort()] = true
			mu.Unlock()
		},
		OnReport: func(rep *engine.Report) {
			defer held.release(rep)
			if ctx.Err() != nil {
				return // unfinished: the resumed sweep probes it
			}
			r.observeReport(ctx, runID, rep, known[rep.Target.AddrPort()], "sweep")
		},
	}, nil)
	if mt := r.m.o.Metrics; mt != nil {
		mt.EndpointsSwept.WithLabelValues(r.cfg.Name).Add(float64(stats.Attempted.Load()))
	}
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, ep := range chunk {
		fs := known[ep.AddrPort()]
		if len(fs) == 0 || open[ep.AddrPort()] {
			continue
		}
		for _, f := range fs {
			r.record(ctx, runID, lifecycle.Gone(f.Target, f.Service, now, "port closed", r.cfg.Name))
		}
	}
	return nil
}
