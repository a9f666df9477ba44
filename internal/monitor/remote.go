package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Remote runs sweep chunks elsewhere: a cluster coordinator
// (internal/cluster) publishes each chunk as work items to the scope's
// sites, where `leakwatch worker` processes sweep and probe it with the
// same pipeline (scan.Run), and hands back their checks. With
// Options.Remote set, a sweep plans chunks and records what comes back
// instead of probing locally, and the periodic re-checks are left to the
// sweeps (a re-check from the coordinator's host would speak for no site).
type Remote interface {
	// RunChunk has the chunk swept and probed at each of its sites and
	// returns the merged result. It returns only when every site has
	// answered (or its item was parked) or ctx ended; calling it again
	// for the same chunk (same RunID and Start, e.g. after a failover)
	// reuses what was already reported.
	RunChunk(ctx context.Context, c Chunk) (ChunkResult, error)
	// InFlight is how many chunks of one sweep may wait at once.
	InFlight() int
}

// Chunk is a run of consecutive endpoints of a scope, in scope order.
type Chunk struct {
	Scope string
	// Sites are the vantage points that must sweep it.
	Sites []string
	RunID string
	// Start is the index of the first endpoint in the scope's order.
	Start     int64
	Endpoints []scope.Endpoint
	// Spec is the scope as configured, so that a worker allows exactly
	// what the scope allows (a prober's data port of the same address).
	Spec ScopeSpec
}

// ScopeSpec is a scope's configured targets, exclusions and ports.
type ScopeSpec struct {
	Targets  []string `json:"targets"`
	Excludes []string `json:"excludes,omitempty"`
	Ports    []int    `json:"ports"`
}

// ChunkResult is a chunk's checks merged over its sites.
type ChunkResult struct {
	// Checks has one check per endpoint open at any site; a finding's
	// ReachableFrom names the sites where the service answered.
	Checks []Check
	// Parked are the sites whose work item was parked (failed too often):
	// the chunk's endpoints were not seen from there.
	Parked []string
}

// remoteSweep runs the sweep of run from endpoint skip on through the
// Remote: up to InFlight chunks at once, each recorded as it comes back;
// the cursor moves over the chunks recorded without a gap. A store error
// is retried until ctx ends, so no result is dropped; a cancelled sweep
// resumes at its cursor (chunks recorded past it are re-recorded as
// duplicates, which change nothing).
func (r *scopeRunner) remoteSweep(ctx context.Context, run store.ScanRun, skip int64, known map[netip.AddrPort][]store.Finding) error {
	rm := r.m.o.Remote
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	slots := make(chan struct{}, max(1, rm.InFlight()))
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		finished = map[int64]int64{} // chunk start → end, recorded
		cursor   = skip
		saveErr  error
	)
	advance := func(start, end int64) {
		mu.Lock()
		defer mu.Unlock()
		finished[start] = end
		moved := false
		for {
			e, ok := finished[cursor]
			if !ok {
				break
			}
			delete(finished, cursor)
			cursor, moved = e, true
		}
		if moved {
			c := cursor
			if err := Retry(ctx, func() error {
				return r.m.o.Store.SaveScanCursor(ctx, run.ID, cursorString(r.hash, c))
			}); err != nil && saveErr == nil {
				saveErr = err
			}
		}
	}
	size := r.m.o.Chunk
	var done int64
	batch := make([]scope.Endpoint, 0, size)
	launch := func() bool {
		if len(batch) == 0 {
			return true
		}
		eps := batch
		batch = make([]scope.Endpoint, 0, size)
		c := Chunk{Scope: r.cfg.Name, Sites: r.cfg.Sites, RunID: run.ID, Start: done - int64(len(eps)), Endpoints: eps, Spec: r.spec}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := r.recordChunk(ctx, c, known); err != nil {
				cancel(err)
				return
			}
			advance(c.Start, c.Start+int64(len(c.Endpoints)))
		}()
		return true
	}
	for ep := range r.sc.All() {
		if done < skip {
			done++
			continue
		}
		batch = append(batch, ep)
		done++
		if len(batch) == size && !launch() {
			break
		}
	}
	launch()
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return saveErr
}

// recordChunk runs one chunk remotely and records its observations.
func (r *scopeRunner) recordChunk(ctx context.Context, c Chunk, known map[netip.AddrPort][]store.Finding) error {
	res, err := r.m.o.Remote.RunChunk(ctx, c)
	if err != nil {
		return fmt.Errorf("chunk %d of %s: %w", c.Start, c.Scope, err)
	}
	if mt := r.m.o.Metrics; mt != nil {
		mt.EndpointsSwept.WithLabelValues(r.cfg.Name).Add(float64(len(c.Endpoints)))
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	open := map[netip.AddrPort]bool{}
	for _, ch := range res.Checks {
		ap := ch.Target.AddrPort()
		open[ap] = true
		if mt := r.m.o.Metrics; mt != nil {
			mt.ProbesTotal.WithLabelValues(string(ch.Outcome), "sweep").Inc()
		}
		for _, obs := range Observations(ch, known[ap], r.cfg.Name, now) {
			if err := r.recordStrict(ctx, c.RunID, obs); err != nil {
				return err
			}
		}
	}
	if len(res.Parked) > 0 {
		return nil // not seen from every site: nothing is known to be gone
	}
	for _, ep := range c.Endpoints {
		if open[ep.AddrPort()] {
			continue
		}
		for _, f := range known[ep.AddrPort()] {
			if err := r.recordStrict(ctx, c.RunID, lifecycle.Gone(f.Target, f.Service, now, "port closed", r.cfg.Name)); err != nil {
				return err
			}
		}
	}
	return nil
}

// recordStrict is record retried until the store takes it or ctx ends.
func (r *scopeRunner) recordStrict(ctx context.Context, runID string, obs lifecycle.Observation) error {
	obs.Scope = r.cfg.Name
	var rec store.Recorded
	err := Retry(ctx, func() error {
		var err error
		rec, err = r.m.o.Store.RecordObservation(ctx, runID, obs)
		if err != nil && ctx.Err() == nil {
			r.m.logger.Warn("record observation (retrying)", "scope", r.cfg.Name, "finding", obs.FindingID, "err", err)
		}
		return err
	})
	if err != nil {
		return err
	}
	r.recorded(obs, rec)
	return nil
}

// Retry calls f until it succeeds or ctx ends (then it returns ctx's
// cause), backing off from 100ms to 2s: how the remote path (and the
// cluster coordinator) waits out a store or queue that is restarting.
func Retry(ctx context.Context, f func() error) error {
	wait := 100 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func cursorString(hash string, done int64) string { return cursor{hash: hash, done: done}.String() }
