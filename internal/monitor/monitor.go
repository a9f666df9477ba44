// Package monitor is the scheduler of `leakwatch serve`. Per scope it runs:
//
//   - sweeps: the whole scope (TCP discovery, then a deep probe of every
//     open port) at the scope's cadence with jitter, never overlapping
//     itself. A sweep is cut into chunks; after each chunk its observations
//     are in the store and the scan run's cursor moves on, so a sweep killed
//     half-way resumes at the chunk it was in.
//   - re-checks: every recheck interval, a fast metadata-only probe of each
//     known open finding's endpoint (no discovery, no sampling). When it
//     shows a material change (auth, records jump, new datasets) the
//     endpoint gets an immediate deep probe; otherwise the observation
//     carries the classes of the last deep probe forward. With a Remote
//     (cluster mode) the endpoints go as work items to the sites each
//     finding was reachable from, where workers check them as in a sweep
//     (connect, deep probe).
//
// Every check of a tracked endpoint becomes an observation recorded with
// store.RecordObservation, which applies the lifecycle and enqueues alerts
// in the same transaction. One rate limiter (new connections and probes per
// second) and one probe-worker pool are shared by all scopes.
package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/metrics"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ErrUnknownScope is returned by Trigger for a scope not configured.
var ErrUnknownScope = errors.New("monitor: unknown scope")

// DefaultChunk is how many endpoints a sweep processes between cursor
// saves.
const DefaultChunk = 2048

// Options configure a Monitor.
type Options struct {
	Config     *config.Config
	Store      store.Store
	Registry   *probe.Registry
	Classifier classify.Classifier
	// Metrics, if set, is updated.
	Metrics *metrics.Metrics
	// OnEvents is called after observations produced lifecycle events
	// (wake the alert dispatcher).
	OnEvents func()
	// Chunk is the number of endpoints per resumable sweep chunk
	// (default DefaultChunk).
	Chunk  int
	Logger *slog.Logger
	// Resolver resolves scope hostnames (nil: the system resolver).
	Resolver scope.Resolver
	// Remote, if set, runs the sweeps' chunks on cluster workers (see
	// Remote); Chunk is then the work item size.
	Remote Remote
}

// Monitor schedules sweeps and re-checks of all scopes.
type Monitor struct {
	o       Options
	cfg     *config.Config
	policy  lifecycle.Policy
	limiter *rate.Limiter
	probes  chan struct{}     // shared probe-worker slots
	memory  *probe.MemoryPool // one memory ceiling for every engine
	scopes  []*scopeRunner
	byName  map[string]*scopeRunner
	logger  *slog.Logger
	// busy lets one check at a time touch an endpoint (exclusive.go).
	busy endpointLocks
}

// scopeRunner is one scope's sweep and re-check state.
type scopeRunner struct {
	m       *Monitor
	cfg     *config.Scope
	sc      *scope.Scope
	deep    *engine.Engine
	light   *engine.Engine
	hash    string
	spec    ScopeSpec
	trigger chan struct{}

	mu       sync.Mutex
	sweeping bool
}

// New builds the scopes (resolving hostnames once) and their engines.
func New(ctx context.Context, o Options) (*Monitor, error) {
	if o.Config == nil || o.Store == nil || o.Registry == nil || o.Classifier == nil {
		return nil, errors.New("monitor: incomplete options")
	}
	if o.Chunk <= 0 {
		o.Chunk = DefaultChunk
	}
	c := o.Config
	m := &Monitor{
		o: o, cfg: c, byName: map[string]*scopeRunner{},
		policy: lifecycle.Policy{CloseAfter: c.Monitor.CloseAfter}.WithDefaults(),
		probes: make(chan struct{}, scan.CapWorkers(c.Probe.Workers)),
		memory: probe.NewMemoryPool(int64(c.Probe.MemoryCeiling)),
		logger: o.Logger,
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	limit := rate.Inf
	if *c.Probe.Rate > 0 {
		limit = rate.Limit(*c.Probe.Rate)
	}
	m.limiter = rate.NewLimiter(limit, max(1, int(*c.Probe.Rate/50)))
	for i := range c.Scopes {
		r, err := m.newScope(ctx, &c.Scopes[i])
		if err != nil {
			return nil, err
		}
		m.scopes = append(m.scopes, r)
		m.byName[r.cfg.Name] = r
	}
	return m, nil
}

func (m *Monitor) newScope(ctx context.Context, sc *config.Scope) (*scopeRunner, error) {
	ports := []int(sc.Ports)
	if len(ports) == 0 {
		ports = m.o.Registry.Ports()
	}
	built, err := scope.Build(ctx, scope.Options{
		Targets: sc.Targets, Excludes: sc.Exclude, Ports: ports,
		MaxHosts: m.cfg.Monitor.MaxHosts, Resolver: m.o.Resolver,
	})
	if err != nil {
		return nil, fmt.Errorf("monitor: scope %s: %w", sc.Name, err)
	}
	deepBudget := m.budget(false)
	lightBudget := m.budget(true)
	mk := func(b probe.Budget) (*engine.Engine, error) {
		return engine.New(engine.Options{
			Registry: m.o.Registry, Classifier: m.o.Classifier, Budget: b,
			AllProbers: !m.cfg.Probe.PortProbersOnly, DefaultCredentials: !m.cfg.Probe.NoDefaultCreds,
			InScope: built.Allows, Memory: m.memory,
		})
	}
	deep, err := mk(deepBudget)
	if err != nil {
		return nil, err
	}
	light, err := mk(lightBudget)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256([]byte(fmt.Sprint(sc.Targets, "|", sc.Exclude, "|", ports)))
	return &scopeRunner{
		m: m, cfg: sc, sc: built, deep: deep, light: light,
		hash: hex.EncodeToString(h[:6]), trigger: make(chan struct{}, 1),
		spec: ScopeSpec{Targets: sc.Targets, Excludes: sc.Exclude, Ports: ports},
	}, nil
}

// budget is the configured probe budget; light samples nothing.
func (m *Monitor) budget(light bool) probe.Budget {
	p := m.cfg.Probe
	b := probe.DefaultBudget()
	b.Timeout, b.IOTimeout = p.Timeout.D, p.IOTimeout.D
	b.SampleRecords, b.SampleBytes, b.MaxDatasets = p.SampleRecords, int64(p.SampleBytes), p.MaxDatasets
	if light {
		b.SampleRecords, b.MaxDatasets = 0, 0
	}
	return b
}

// Scopes are the configured scope names, in order.
func (m *Monitor) Scopes() []string {
	var out []string
	for _, r := range m.scopes {
		out = append(out, r.cfg.Name)
	}
	return out
}

// Endpoints is the number of endpoints a sweep of the scope checks.
func (m *Monitor) Endpoints(name string) int64 {
	if r := m.byName[name]; r != nil {
		return r.sc.Endpoints()
	}
	return 0
}

// Trigger asks for a sweep of a scope now. It returns false when one is
// already queued (a running sweep is followed by the queued one).
func (m *Monitor) Trigger(name string) (bool, error) {
	r := m.byName[name]
	if r == nil {
		return false, ErrUnknownScope
	}
	select {
	case r.trigger <- struct{}{}:
		return true, nil
	default:
		return false, nil
	}
}

// Run runs every scope's sweeps and re-checks until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	if err := m.orphanCheck(ctx); err != nil && ctx.Err() == nil {
		m.logger.Error("scope check of unconfigured scopes failed", "err", err)
	}
	var wg sync.WaitGroup
	for _, r := range m.scopes {
		wg.Add(2)
		go func() { defer wg.Done(); r.sweepLoop(ctx) }()
		go func() { defer wg.Done(); r.recheckLoop(ctx) }()
	}
	wg.Wait()
	return nil
}

// sweepLoop sweeps at the cadence with jitter: the next sweep starts a
// jittered cadence after the previous one started, or right after it
// ended if it took longer. The first sweep starts at once (resuming a
// half-done one).
func (r *scopeRunner) sweepLoop(ctx context.Context) {
	next := time.Now()
	for {
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.trigger:
			t.Stop()
		}
		start := time.Now()
		if err := r.sweep(ctx); err != nil && ctx.Err() == nil {
			r.m.logger.Error("sweep failed", "scope", r.cfg.Name, "err", err)
		}
		next = start.Add(jitter(r.cfg.Cadence.D, *r.m.cfg.Monitor.Jitter))
	}
}

// recheckLoop re-checks known open findings every recheck interval.
func (r *scopeRunner) recheckLoop(ctx context.Context) {
	r.abandonRechecks(ctx)
	if err := r.scopeCheck(ctx); err != nil && ctx.Err() == nil {
		r.m.logger.Error("scope check failed", "scope", r.cfg.Name, "err", err)
	}
	check := r.recheck
	if r.m.o.Remote != nil {
		check = r.remoteRecheck // at the sites the findings were reachable from
	}
	for {
		t := time.NewTimer(jitter(r.cfg.Recheck.D, 0.1))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if err := check(ctx); err != nil && ctx.Err() == nil {
			r.m.logger.Error("re-check failed", "scope", r.cfg.Name, "err", err)
		}
	}
}

// jitter spreads d by ±frac.
func jitter(d time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return d
	}
	f := 1 + frac*(2*rand.Float64()-1)
	return time.Duration(float64(d) * f)
}

// acquire takes a probe slot and a rate token.
func (m *Monitor) acquire(ctx context.Context) error {
	select {
	case m.probes <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := m.limiter.Wait(ctx); err != nil {
		<-m.probes
		return err
	}
	return nil
}

func (m *Monitor) release() { <-m.probes }

// slot is acquire in the form of the pipeline's Acquire hook.
func (m *Monitor) slot(ctx context.Context) (func(), error) {
	if err := m.acquire(ctx); err != nil {
		return nil, err
	}
	return m.release, nil
}

// record stores one observation; events wake the dispatcher.
func (r *scopeRunner) record(ctx context.Context, runID string, obs lifecycle.Observation) {
	obs.Scope = r.cfg.Name
	rec, err := r.m.o.Store.RecordObservation(ctx, runID, obs)
	if err != nil {
		if ctx.Err() == nil {
			r.m.logger.Error("record observation", "scope", r.cfg.Name, "finding", obs.FindingID, "err", err)
		}
		return
	}
	r.recorded(obs, rec)
}

// recorded counts and logs what recording obs did; events wake the
// dispatcher.
func (r *scopeRunner) recorded(obs lifecycle.Observation, rec store.Recorded) {
	if mt := r.m.o.Metrics; mt != nil && !rec.Duplicate {
		mt.Observations.WithLabelValues(string(obs.Outcome)).Inc()
		for _, e := range rec.Events {
			mt.Events.WithLabelValues(string(e.Kind)).Inc()
		}
	}
	if len(rec.Events) == 0 || rec.Duplicate {
		return
	}
	for _, e := range rec.Events {
		attrs := []any{"scope", r.cfg.Name, "event", e.Kind, "finding", e.FindingID,
			"target", e.Target.Addr(), "service", e.Service, "severity", e.Severity, "summary", e.Summary}
		if f := obs.Finding; f != nil && !lifecycle.Complete(f) {
			// The check behind the event was cut short: say by what.
			attrs = append(attrs, "cut_short", f.Error, "flags", f.Flags)
		}
		r.m.logger.Info("lifecycle event", attrs...)
	}
	if r.m.o.OnEvents != nil {
		r.m.o.OnEvents()
	}
}

// trackedStatuses are the findings a scope watches: open ones, and
// out-of-scope ones (watched again if their endpoint is back in scope).
var trackedStatuses = []lifecycle.Status{lifecycle.StatusOpen, lifecycle.StatusChanged, lifecycle.StatusReopened, lifecycle.StatusOutOfScope}

// openFindings lists the scope's tracked findings by endpoint, only those
// whose endpoint the scope allows: an open finding whose endpoint left the
// scope is recorded out-of-scope under runID (no connection is made), and
// an out-of-scope one whose endpoint is back in scope is tracked again.
func (r *scopeRunner) openFindings(ctx context.Context, runID string) (map[netip.AddrPort][]store.Finding, error) {
	list, err := r.m.o.Store.ListFindings(ctx, store.FindingFilter{Scope: r.cfg.Name, Statuses: trackedStatuses})
	if err != nil {
		return nil, err
	}
	out := map[netip.AddrPort][]store.Finding{}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, f := range list {
		ap, ok := addrPort(f.Target.Host, f.Target.Port)
		if ok && r.sc.Allows(ap) {
			out[ap] = append(out[ap], f)
			continue
		}
		if f.Status.IsOpen() {
			r.record(ctx, runID, lifecycle.OutOfScope(f.Target, f.Service, now, "endpoint no longer in scope "+r.cfg.Name, r.cfg.Name))
		}
	}
	return out, nil
}

// scopeCheck marks the open findings whose endpoint left the scope
// out-of-scope at once (a config that changed across a restart), without
// waiting for the first sweep or re-check.
func (r *scopeRunner) scopeCheck(ctx context.Context) error {
	list, err := r.m.o.Store.ListFindings(ctx, store.FindingFilter{Scope: r.cfg.Name, Status: store.FilterOpen})
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(list, func(f store.Finding) bool {
		ap, ok := addrPort(f.Target.Host, f.Target.Port)
		return !ok || !r.sc.Allows(ap)
	}) {
		return nil
	}
	st := r.m.o.Store
	run, err := st.BeginScan(ctx, r.recheckRun())
	if err != nil {
		return err
	}
	if _, err := r.openFindings(ctx, run.ID); err != nil {
		_ = st.FinishScan(ctx, run.ID, store.ScanFailed, err.Error())
		return err
	}
	return st.FinishScan(ctx, run.ID, store.ScanFinished, "")
}

// orphanCheck marks out-of-scope the open findings of scopes that are no
// longer configured: nothing watches them any more.
func (m *Monitor) orphanCheck(ctx context.Context) error {
	list, err := m.o.Store.ListFindings(ctx, store.FindingFilter{Status: store.FilterOpen})
	if err != nil {
		return err
	}
	var runs map[string]string
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, f := range list {
		if m.byName[f.Scope] != nil {
			continue
		}
		if runs == nil {
			runs = map[string]string{}
		}
		runID, ok := runs[f.Scope]
		if !ok {
			run, err := m.o.Store.BeginScan(ctx, f.Scope+"/recheck")
			if err != nil {
				return err
			}
			runID, runs[f.Scope] = run.ID, run.ID
		}
		obs := lifecycle.OutOfScope(f.Target, f.Service, now, "scope "+f.Scope+" is no longer configured", f.Scope)
		if _, err := m.o.Store.RecordObservation(ctx, runID, obs); err != nil {
			return err
		}
		m.logger.Info("lifecycle event", "scope", f.Scope, "event", lifecycle.EventOutOfScope, "finding", f.ID, "target", f.Target.Addr(), "service", f.Service)
	}
	for _, id := range runs {
		if err := m.o.Store.FinishScan(ctx, id, store.ScanFinished, ""); err != nil {
			return err
		}
	}
	if len(runs) > 0 && m.o.OnEvents != nil {
		m.o.OnEvents()
	}
	return nil
}

func addrPort(host string, port int) (netip.AddrPort, bool) {
	a, err := netip.ParseAddr(host)
	if err != nil || port < 1 || port > 65535 {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a.Unmap(), uint16(port)), true
}

// observeReport turns one probe report of an endpoint into observations
// (Observations) and records them.
func (r *scopeRunner) observeReport(ctx context.Context, runID string, rep *engine.Report, known []store.Finding, kind string) {
	if mt := r.m.o.Metrics; mt != nil {
		mt.ProbesTotal.WithLabelValues(string(rep.Outcome()), kind).Inc()
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, obs := range Observations(CheckOf(rep), known, r.cfg.Name, now) {
		r.record(ctx, runID, obs)
	}
}

// Check is one probe report of an open endpoint reduced to what the
// history needs, in a form that travels (a cluster worker's result).
type Check struct {
	Target probe.Target `json:"target"`
	// Finding is the report's finding (nil: no prober identified the
	// service).
	Finding *finding.Finding `json:"finding,omitempty"`
	Outcome probe.Outcome    `json:"outcome"`
	// Unidentified: a limit stopped every prober before one identified
	// the service (engine.Report.Unidentified).
	Unidentified bool `json:"unidentified,omitempty"`
	// OutOfScope: the engine refused to contact the endpoint.
	OutOfScope bool `json:"out_of_scope,omitempty"`
	// Reason is the first attempt's error, ": "-prefixed ("" if none).
	Reason string `json:"reason,omitempty"`
}

// CheckOf reduces a report to a Check.
func CheckOf(rep *engine.Report) Check {
	return Check{
		Target: rep.Target, Finding: rep.Finding, Outcome: rep.Outcome(),
		Unidentified: rep.Unidentified(), OutOfScope: outOfScope(rep), Reason: attemptErr(rep),
	}
}

// Observations are what one check of an endpoint records in scope at
// now: the identified service's (if exposed, or if it is a tracked open
// finding), and gone/unknown ones for the other open findings known at
// that endpoint.
func Observations(c Check, known []store.Finding, scopeName string, now time.Time) []lifecycle.Observation {
	var out []lifecycle.Observation
	f := c.Finding
	if c.Unidentified {
		// A limit stopped every prober before one identified the service:
		// that says nothing about the services known here — they are not
		// gone, their state is unknown for this check. (A check from a
		// cluster result may say so without a finding: the reason then.)
		why := c.Reason
		if f != nil {
			why = f.Error
		}
		for _, k := range known {
			out = append(out, lifecycle.Observation{
				FindingID: k.ID, Target: k.Target, Service: k.Service, At: now,
				Outcome: lifecycle.OutcomeUnknown, Reason: "no verdict: " + why,
			})
		}
		return out
	}
	if f != nil {
		if f.Status == "exposed" || hasID(known, f.ID) {
			out = append(out, lifecycle.FromFinding(f, scopeName))
		}
		for _, k := range known {
			if k.ID != f.ID {
				out = append(out, lifecycle.Gone(k.Target, k.Service, now, "another service answers: "+f.Service, scopeName))
			}
		}
		return out
	}
	if c.OutOfScope {
		// The engine refused the endpoint itself: it left the scope (the
		// callers filter first; this is the last line).
		for _, k := range known {
			out = append(out, lifecycle.OutOfScope(k.Target, k.Service, now, "endpoint no longer in scope "+scopeName, scopeName))
		}
		return out
	}
	for _, k := range known {
		switch c.Outcome {
		case probe.OutcomeTimeout, probe.OutcomeProtocolError:
			out = append(out, lifecycle.Observation{
				FindingID: k.ID, Target: k.Target, Service: k.Service, At: now,
				Outcome: lifecycle.OutcomeUnknown, Reason: string(c.Outcome) + c.Reason,
			})
		default:
			out = append(out, lifecycle.Gone(k.Target, k.Service, now, string(c.Outcome), scopeName))
		}
	}
	return out
}

// outOfScope tells whether the engine refused to contact the endpoint at
// all because the scope does not allow it.
func outOfScope(rep *engine.Report) bool {
	return len(rep.Attempts) == 1 && rep.Attempts[0].Prober == "" && errors.Is(rep.Attempts[0].Err, probe.ErrOutOfScope)
}

func hasID(fs []store.Finding, id string) bool {
	return slices.ContainsFunc(fs, func(f store.Finding) bool { return f.ID == id })
}

func attemptErr(rep *engine.Report) string {
	for _, a := range rep.Attempts {
		if a.Err != nil {
			return ": " + a.Reason()
		}
	}
	return ""
}
