package monitor

import (
	"context"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
)

// recheckRun is the scan-run name of a scope's re-check rounds.
func (r *scopeRunner) recheckRun() string { return r.cfg.Name + "/recheck" }

// abandonRechecks closes re-check rounds a crash left running: a round is
// short and simply runs again.
func (r *scopeRunner) abandonRechecks(ctx context.Context) {
	for {
		run, err := r.m.o.Store.UnfinishedScan(ctx, r.recheckRun())
		if err != nil {
			return
		}
		if r.m.o.Store.FinishScan(ctx, run.ID, store.ScanAbandoned, "interrupted") != nil {
			return
		}
	}
}

// recheck probes every open finding of the scope once (light), escalating
// to a deep probe on a material change.
func (r *scopeRunner) recheck(ctx context.Context) error {
	st := r.m.o.Store
	run, known, err := r.beginRecheck(ctx)
	if err != nil || known == nil {
		return err
	}
	// The probing pipeline without discovery: every known endpoint is
	// probed in a probe slot shared by all scopes; each report is recorded
	// as the kind of check that made it.
	var kinds sync.Map // *engine.Report → "recheck" or "deep"
	var held heldReports
	_, err = scan.Run(ctx, scan.Config{
		Endpoints: func(yield func(scope.Endpoint) bool) {
			for _, ap := range slices.SortedFunc(maps.Keys(known), netip.AddrPort.Compare) {
				if !yield(scope.Endpoint{Addr: ap.Addr(), Port: int(ap.Port()), Hostname: known[ap][0].Target.Hostname}) {
					return
				}
			}
		},
		Discover:     scan.Given,
		Engine:       r.light,
		ProbeWorkers: r.m.cfg.Probe.Workers,
		Acquire:      r.m.slot,
		Probe: func(ctx context.Context, t probe.Target) *engine.Report {
			unlock, err := r.m.busy.lock(ctx, t.AddrPort())
			if err != nil {
				return r.light.Unfinished(t, err)
			}
			rep, kind := r.recheckEndpoint(ctx, t, known[t.AddrPort()])
			held.hold(rep, unlock)
			kinds.Store(rep, kind)
			return rep
		},
		OnReport: func(rep *engine.Report) {
			defer held.release(rep)
			kind, ok := kinds.LoadAndDelete(rep)
			if !ok || ctx.Err() != nil {
				return // not probed: the scope's next round re-checks it
			}
			r.observeReport(ctx, run.ID, rep, known[rep.Target.AddrPort()], kind.(string))
		},
	}, nil)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		_ = st.FinishScan(ctx, run.ID, store.ScanFailed, err.Error())
		return err
	}
	return st.FinishScan(ctx, run.ID, store.ScanFinished, "")
}

// beginRecheck starts a re-check round of the scope: its scan run and the
// tracked findings by endpoint, or nil known (and no run) when the scope
// tracks none.
func (r *scopeRunner) beginRecheck(ctx context.Context) (store.ScanRun, map[netip.AddrPort][]store.Finding, error) {
	st := r.m.o.Store
	if list, err := st.ListFindings(ctx, store.FindingFilter{Scope: r.cfg.Name, Statuses: trackedStatuses, Limit: 1}); err != nil || len(list) == 0 {
		return store.ScanRun{}, nil, err
	}
	run, err := st.BeginScan(ctx, r.recheckRun())
	if err != nil {
		return store.ScanRun{}, nil, err
	}
	known, err := r.openFindings(ctx, run.ID)
	if err != nil {
		_ = st.FinishScan(ctx, run.ID, store.ScanFailed, err.Error())
		return store.ScanRun{}, nil, err
	}
	if known == nil {
		known = map[netip.AddrPort][]store.Finding{}
	}
	return run, known, nil
}

// recheckEndpoint re-checks one endpoint holding open findings: a light
// probe, or a deep one (with the light one's own requests added) when the
// light one shows the service changed or cannot tell. It returns the
// report to record and its kind.
func (r *scopeRunner) recheckEndpoint(ctx context.Context, t probe.Target, known []store.Finding) (*engine.Report, string) {
	rep := r.light.Probe(ctx, t)
	if ctx.Err() != nil {
		return rep, "recheck"
	}
	f := rep.Finding
	var prev *store.Finding
	if f != nil {
		if i := slices.IndexFunc(known, func(k store.Finding) bool { return k.ID == f.ID }); i >= 0 {
			prev = &known[i]
		}
	}
	if f == nil || f.Status != finding.StatusExposed || prev == nil || prev.Last == nil {
		// Not the same open service any more — gone, protected, another
		// service, or a prober that needs its sample to decide. A light
		// probe never closes a finding on its own: the deep probe, with
		// the full budget, decides.
		return withLightAccess(r.deepProbe(ctx, t), f), "deep"
	}
	merged := carryClasses(f, prev.Last)
	if why := materialChange(r.m.policy, prev.Last, merged); why != "" {
		r.m.logger.Info("change seen by re-check; deep probe", "scope", r.cfg.Name, "finding", f.ID, "change", why)
		return withLightAccess(r.deepProbe(ctx, t), f), "deep"
	}
	rep.Finding = merged
	return rep, "recheck"
}

// deepProbe probes with the full budget (it already holds a probe slot).
func (r *scopeRunner) deepProbe(ctx context.Context, t probe.Target) *engine.Report {
	return r.deep.Probe(ctx, t)
}

// carryClasses completes a light (metadata-only) probe's finding with the
// classes, canaries and sample sizes of the last deep snapshot, dataset by
// dataset name, and recomputes the class union and severity. Evidence
// records when those classes were sampled.
func carryClasses(light, last *finding.Finding) *finding.Finding {
	f := *light
	f.Datasets = slices.Clone(light.Datasets)
	prev := map[string]finding.Dataset{}
	for _, d := range last.Datasets {
		prev[d.Name] = d
	}
	for i := range f.Datasets {
		d := &f.Datasets[i]
		if p, ok := prev[d.Name]; ok && len(d.Classes) == 0 {
			d.Classes, d.Canary, d.Sampled = p.Classes, p.Canary, p.Sampled
			if len(d.Fields) == 0 {
				d.Fields = p.Fields
			}
		}
		if len(d.Canary) > 0 && !slices.Contains(f.Flags, "canary") {
			f.Flags = append(slices.Clone(f.Flags), "canary")
		}
	}
	ev := make(map[string]any, len(light.Evidence)+1)
	maps.Copy(ev, light.Evidence)
	sampledAt := last.ObservedAt
	if v, ok := last.Evidence["classes_sampled_at"].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			sampledAt = t
		}
	}
	ev["classes_sampled_at"] = sampledAt.UTC().Format(time.RFC3339Nano)
	f.Evidence = ev
	f.Classes = nil
	f.Finalize()
	return &f
}

// materialChange tells what a light re-check shows changed against the
// last snapshot — auth, a records jump (the lifecycle policy's thresholds),
// new datasets, another product — or "" if nothing worth a deep probe.
func materialChange(p lifecycle.Policy, last, cur *finding.Finding) string {
	p = p.WithDefaults()
	if last.Auth != cur.Auth {
		return "auth " + string(last.Auth) + "→" + string(cur.Auth)
	}
	if last.Product != cur.Product || last.Version != cur.Version {
		return "product " + last.Product + " " + last.Version + "→" + cur.Product + " " + cur.Version
	}
	from, to := last.TotalRecords(), cur.TotalRecords()
	delta := to - from
	if delta < 0 {
		delta = -delta
	}
	if delta >= p.RecordsJumpAbs || (delta >= p.RecordsJumpMin && float64(delta) >= p.RecordsJumpRatio*float64(max(from, 1))) {
		return "records " + lifecycle.Count(from) + "→" + lifecycle.Count(to)
	}
	have := map[string]bool{}
	for _, d := range last.Datasets {
		have[d.Name] = true
	}
	for _, d := range cur.Datasets {
		if !have[d.Name] && !d.Hidden {
			return "new dataset " + d.Name
		}
	}
	return ""
}
