package monitor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Remote runs sweep chunks elsewhere: a cluster coordinator
// (internal/cluster) publishes each chunk as work items to the scope's
// sites, where `leakwatch worker` processes sweep and probe it with the
// same pipeline (scan.Run), and hands back their checks. With
// Options.Remote set, a sweep plans chunks and records what comes back
// instead of probing locally, and a re-check round sends the endpoints of
// the tracked findings as chunks to the sites they were reachable from
// (remoteRecheck; a re-check from the coordinator's host would speak for
// no site).
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
	// Foreign counts checks of endpoints outside the chunk that a result
	// held (no worker makes them: a forged message) and were dropped.
	Foreign int
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
			if err := r.recordChunk(ctx, c, known, "sweep"); err != nil {
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

// recordChunk runs one chunk remotely and records its observations
// (kind: "sweep" or "recheck", the probes' metrics label).
func (r *scopeRunner) recordChunk(ctx context.Context, c Chunk, known map[netip.AddrPort][]store.Finding, kind string) error {
	// A sweep's chunk and a re-check's that share an endpoint run one
	// after the other, as local checks do (exclusive.go): checks that
	// overlap read each other's requests as foreign.
	unlock, err := r.lockEndpoints(ctx, c.Endpoints)
	if err != nil {
		return err
	}
	defer unlock()
	res, err := r.m.o.Remote.RunChunk(ctx, c)
	if err != nil {
		return fmt.Errorf("chunk %d of %s: %w", c.Start, c.Scope, err)
	}
	if mt := r.m.o.Metrics; mt != nil {
		mt.EndpointsSwept.WithLabelValues(r.cfg.Name).Add(float64(len(c.Endpoints)))
	}
	if res.Foreign > 0 {
		r.m.logger.Warn("result held checks of endpoints outside its chunk; dropped", "scope", r.cfg.Name, "chunk", c.Start, "checks", res.Foreign)
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	open := map[netip.AddrPort]bool{}
	for _, ch := range res.Checks {
		ap := ch.Target.AddrPort()
		open[ap] = true
		if mt := r.m.o.Metrics; mt != nil {
			mt.ProbesTotal.WithLabelValues(string(ch.Outcome), kind).Inc()
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

// remoteRecheck is a re-check round through the Remote: the endpoints
// of the scope's tracked findings are checked again at the sites each
// finding was reachable from (all the scope's sites for one seen from
// none), as work items of the round's scan run — a closed port, a store
// now protected or changed is recorded from the workers' checks exactly
// as from a sweep's, only at the re-check cadence and without discovery
// of the rest of the scope.
func (r *scopeRunner) remoteRecheck(ctx context.Context) error {
	st := r.m.o.Store
	run, known, err := r.beginRecheck(ctx)
	if err != nil || known == nil {
		return err
	}
	chunks := recheckChunks(known, r.cfg.Sites, max(1, r.m.o.Chunk))
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	slots := make(chan struct{}, max(1, r.m.o.Remote.InFlight()))
	var wg sync.WaitGroup
	for _, c := range chunks {
		c.Scope, c.RunID, c.Spec = r.cfg.Name, run.ID, r.spec
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			if err := r.recordChunk(ctx, c, known, "recheck"); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return err // stopping: the round is abandoned at the next start
		}
		_ = st.FinishScan(context.WithoutCancel(ctx), run.ID, store.ScanFailed, err.Error())
		return err
	}
	return st.FinishScan(ctx, run.ID, store.ScanFinished, "")
}

// lockEndpoints takes the endpoint locks of eps in address order (so
// that two chunks sharing endpoints never wait on each other in a
// cycle); unlock releases them all.
func (r *scopeRunner) lockEndpoints(ctx context.Context, eps []scope.Endpoint) (unlock func(), err error) {
	aps := make([]netip.AddrPort, 0, len(eps))
	for _, ep := range eps {
		aps = append(aps, ep.AddrPort())
	}
	slices.SortFunc(aps, netip.AddrPort.Compare)
	aps = slices.Compact(aps)
	var held []func()
	unlock = func() {
		for _, u := range held {
			u()
		}
	}
	for _, ap := range aps {
		u, err := r.m.busy.lock(ctx, ap)
		if err != nil {
			unlock()
			return nil, err
		}
		held = append(held, u)
	}
	return unlock, nil
}

// recheckChunks groups the endpoints of known findings by the sites to
// re-check them from (the union of their findings' ReachableFrom among
// the scope's sites; the scope's sites when none is known) into chunks of
// at most size endpoints, in address order; Start numbers them in the
// round.
func recheckChunks(known map[netip.AddrPort][]store.Finding, scopeSites []string, size int) []Chunk {
	bySites := map[string][]scope.Endpoint{}
	sitesOf := map[string][]string{}
	for _, ap := range slices.SortedFunc(maps.Keys(known), netip.AddrPort.Compare) {
		var sites []string
		for _, f := range known[ap] {
			if f.Last == nil {
				continue
			}
			for _, s := range f.Last.ReachableFrom {
				if slices.Contains(scopeSites, s) && !slices.Contains(sites, s) {
					sites = append(sites, s)
				}
			}
		}
		if len(sites) == 0 {
			sites = slices.Clone(scopeSites)
		}
		slices.Sort(sites)
		key := strings.Join(sites, ",")
		sitesOf[key] = sites
		bySites[key] = append(bySites[key], scope.Endpoint{Addr: ap.Addr(), Port: int(ap.Port()), Hostname: known[ap][0].Target.Hostname})
	}
	var out []Chunk
	var start int64
	for _, key := range slices.Sorted(maps.Keys(bySites)) {
		eps := bySites[key]
		for len(eps) > 0 {
			n := min(size, len(eps))
			out = append(out, Chunk{Sites: sitesOf[key], Start: start, Endpoints: eps[:n:n]})
			start += int64(n)
			eps = eps[n:]
		}
	}
	return out
}

// recordStrict is record retried until the store takes it or ctx ends.
func (r *scopeRunner) recordStrict(ctx context.Context, runID string, obs lifecycle.Observation) error {
	obs.Scope = r.cfg.Name
	if err := obs.Validate(); err != nil {
		// No retry stores it: a check from a result no engine made
		// (results come over NATS). Said and skipped, so that the chunk
		// and its sweep complete.
		r.m.logger.Error("observation refused, skipped", "scope", r.cfg.Name, "finding", finding.VisibleText(obs.FindingID), "err", err)
		return nil
	}
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
