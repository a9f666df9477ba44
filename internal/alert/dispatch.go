package alert

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
)

// Outbox is the part of store.Store the dispatcher uses.
type Outbox interface {
	ClaimAlerts(ctx context.Context, c store.Claim) ([]store.Alert, error)
	AckAlert(ctx context.Context, id int64, worker string) error
	RetryAlert(ctx context.Context, id int64, worker, lastError string, next time.Time) error
	GiveUpAlert(ctx context.Context, id int64, worker, lastError string) error
	ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error)
	GetFinding(ctx context.Context, id string, q store.TimelineQuery) (*store.FindingDetail, error)
}

// Delivery results reported to DispatcherOptions.OnDelivery.
const (
	ResultDelivered = "delivered"
	ResultFailed    = "failed"   // will be retried
	ResultGaveUp    = "gave_up"  // MaxAttempts reached
	ResultDeferred  = "deferred" // an older alert of the same finding is still pending
)

// DispatcherOptions configure a Dispatcher.
type DispatcherOptions struct {
	Outbox    Outbox
	Notifiers []Notifier
	// Scope returns what alerts carry about a scope (nil: just the name).
	Scope func(name string) ScopeInfo
	// Worker names this dispatcher in outbox leases (default
	// host-pid-random). A Worker that is stable across restarts (serve
	// uses host and config file) lets a restarted process take back at
	// once the alerts its killed predecessor held, instead of waiting for
	// their leases to expire.
	Worker string
	// Poll is how often the outbox is checked when not kicked (default 1s).
	Poll time.Duration
	// Lease is how long a claimed alert is ours (default 2m); a delivery
	// is cut off before the lease ends.
	Lease time.Duration
	// Backoff spaces outbox retries (default 5s doubling to 15m, jittered).
	Backoff Retry
	// MaxAttempts gives an alert up after this many failed deliveries
	// (default 200: about two days at the maximum backoff).
	MaxAttempts int
	// Concurrency is how many deliveries run at once (default 4).
	Concurrency int
	// OnDelivery, if set, observes every delivery attempt (metrics).
	OnDelivery func(Delivery)
	Logger     *slog.Logger
	Now        func() time.Time
}

// Delivery describes one delivery attempt, for metrics.
type Delivery struct {
	Notifier string
	Event    string
	// Result is ResultDelivered, ResultFailed, ResultGaveUp or
	// ResultDeferred.
	Result string
	// Took is how long the notifier took.
	Took time.Duration
	// EventAt is when the lifecycle event happened (the observation time).
	EventAt time.Time
}

// Dispatcher drains the store's alert outbox into the notifiers: claim →
// deliver → ack, or retry later with backoff. Delivery is at least once: a
// process killed between delivering and acknowledging re-delivers after the
// lease, with the same dedup key. Alerts of one finding and notifier go out
// in order: a newer one waits while an older one is pending.
type Dispatcher struct {
	o       DispatcherOptions
	byName  map[string]Notifier
	routes  []string
	kick    chan struct{}
	logger  *slog.Logger
	drainMu sync.Mutex // serialises DrainOnce
}

// NewDispatcher checks options and makes a dispatcher.
func NewDispatcher(o DispatcherOptions) (*Dispatcher, error) {
	if o.Outbox == nil {
		return nil, errors.New("alert: dispatcher without an outbox")
	}
	d := &Dispatcher{o: o, byName: map[string]Notifier{}, kick: make(chan struct{}, 1)}
	for _, n := range o.Notifiers {
		if _, dup := d.byName[n.Name()]; dup {
			return nil, fmt.Errorf("alert: two notifiers named %q", n.Name())
		}
		d.byName[n.Name()] = n
		d.routes = append(d.routes, n.Name())
	}
	if d.o.Worker == "" {
		host, _ := os.Hostname()
		var r [4]byte
		_, _ = rand.Read(r[:])
		d.o.Worker = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(r[:]))
	}
	if d.o.Poll <= 0 {
		d.o.Poll = time.Second
	}
	if d.o.Lease <= 0 {
		d.o.Lease = 2 * time.Minute
	}
	if d.o.Backoff.Base <= 0 {
		d.o.Backoff.Base = 5 * time.Second
	}
	if d.o.Backoff.Max <= 0 {
		d.o.Backoff.Max = 15 * time.Minute
	}
	if d.o.MaxAttempts <= 0 {
		d.o.MaxAttempts = 200
	}
	if d.o.Concurrency <= 0 {
		d.o.Concurrency = 4
	}
	if d.o.Now == nil {
		d.o.Now = time.Now
	}
	d.logger = o.Logger
	if d.logger == nil {
		d.logger = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Kick wakes the dispatcher now (new alerts were enqueued).
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) error {
	if len(d.routes) == 0 {
		<-ctx.Done()
		return nil
	}
	d.releaseOwn(ctx)
	t := time.NewTicker(d.o.Poll)
	defer t.Stop()
	for {
		for {
			n, err := d.DrainOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.logger.Warn("alert outbox", "err", err)
			}
			if n == 0 || err != nil || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-d.kick:
		}
	}
}

// releaseOwn makes the alerts this worker still leases due now: they were
// claimed by a previous process with the same worker name that died before
// settling them. (They may have been delivered already: delivery is at
// least once, with the same dedup key.)
func (d *Dispatcher) releaseOwn(ctx context.Context) {
	pend, err := d.o.Outbox.ListAlerts(ctx, store.AlertFilter{State: store.AlertPending})
	if err != nil {
		return
	}
	now := d.o.Now()
	for _, a := range pend {
		if a.ClaimedBy != d.o.Worker || !a.LeaseUntil.After(now) {
			continue
		}
		if err := d.o.Outbox.RetryAlert(ctx, a.ID, d.o.Worker, "delivery interrupted by a restart", now); err == nil {
			d.logger.Info("alert taken back after a restart", "alert", a.ID, "notifier", a.Route)
		}
	}
}

// DrainOnce claims one batch of due alerts and delivers it; it returns
// how many alerts it claimed.
func (d *Dispatcher) DrainOnce(ctx context.Context) (int, error) {
	d.drainMu.Lock()
	defer d.drainMu.Unlock()
	if len(d.routes) == 0 {
		return 0, nil
	}
	batch, err := d.o.Outbox.ClaimAlerts(ctx, store.Claim{
		Worker: d.o.Worker, Limit: d.o.Concurrency * 4, Lease: d.o.Lease, Routes: d.routes,
	})
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	// Group by (route, finding): groups run concurrently, each in id order.
	groups := map[string][]store.Alert{}
	var keys []string
	for _, a := range batch {
		k := a.Route + "\x00" + a.Event.FindingID
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], a)
	}
	sem := make(chan struct{}, d.o.Concurrency)
	var wg sync.WaitGroup
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g, func(x, y store.Alert) int { return int(x.ID - y.ID) })
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			d.deliverGroup(ctx, g)
		}()
	}
	wg.Wait()
	return len(batch), nil
}

// deliverGroup delivers one finding's alerts to one notifier in order;
// after a failure the rest wait for the failed one.
func (d *Dispatcher) deliverGroup(ctx context.Context, g []store.Alert) {
	if older, ok := d.olderPending(ctx, g[0]); ok {
		for _, a := range g {
			d.deferAlert(ctx, a, older)
		}
		return
	}
	for i, a := range g {
		next, ok := d.deliver(ctx, a)
		if !ok {
			for _, rest := range g[i+1:] {
				d.deferAlert(ctx, rest, next)
			}
			return
		}
	}
}

// olderPending finds an undelivered older alert of the same finding and
// route outside this batch; its next attempt is when to try again.
func (d *Dispatcher) olderPending(ctx context.Context, a store.Alert) (time.Time, bool) {
	pend, err := d.o.Outbox.ListAlerts(ctx, store.AlertFilter{State: store.AlertPending, Route: a.Route, FindingID: a.Event.FindingID})
	if err != nil {
		return time.Time{}, false
	}
	for _, p := range pend {
		if p.ID < a.ID {
			next := p.NextAttempt
			if p.LeaseUntil.After(next) {
				next = p.LeaseUntil
			}
			return next, true
		}
	}
	return time.Time{}, false
}

// deferAlert puts an alert back until after an older one; not counted as
// a failure by the notifier metrics.
func (d *Dispatcher) deferAlert(ctx context.Context, a store.Alert, until time.Time) {
	now := d.o.Now()
	if until.Before(now) {
		until = now
	}
	until = until.Add(time.Second)
	if err := d.o.Outbox.RetryAlert(ctx, a.ID, d.o.Worker, "waiting for an older alert of this finding", until); err != nil {
		d.logger.Warn("alert outbox: defer", "alert", a.ID, "err", err)
	}
	d.observe(a, ResultDeferred, 0)
}

// deliver sends one alert and settles it in the outbox. On failure it
// returns when the alert is due again.
func (d *Dispatcher) deliver(ctx context.Context, a store.Alert) (time.Time, bool) {
	n := d.byName[a.Route]
	al := d.build(ctx, a)
	dctx, cancel := context.WithTimeout(ctx, d.o.Lease-d.o.Lease/8)
	start := time.Now()
	err := n.Notify(dctx, al)
	cancel()
	took := time.Since(start)
	if err == nil {
		if aerr := d.o.Outbox.AckAlert(ctx, a.ID, d.o.Worker); aerr != nil {
			d.logger.Warn("alert delivered but not acknowledged; it may be sent again", "alert", a.ID, "err", aerr)
		}
		d.observe(a, ResultDelivered, took)
		d.logger.Info("alert delivered", "notifier", a.Route, "event", a.Event.Kind, "finding", a.Event.FindingID, "took", took.Round(time.Millisecond))
		return time.Time{}, true
	}
	if ctx.Err() != nil {
		// Shutting down: leave the lease to expire; another run retries.
		return time.Time{}, false
	}
	if a.Attempts >= d.o.MaxAttempts {
		_ = d.o.Outbox.GiveUpAlert(ctx, a.ID, d.o.Worker, err.Error())
		d.observe(a, ResultGaveUp, took)
		d.logger.Error("alert given up", "notifier", a.Route, "alert", a.ID, "attempts", a.Attempts, "err", err)
		return d.o.Now().Add(d.o.Backoff.Max), false
	}
	wait := d.o.Backoff.Backoff(a.Attempts)
	if IsPermanent(err) {
		wait = d.o.Backoff.Max // a config fix and restart will be needed
	}
	next := d.o.Now().Add(wait)
	if rerr := d.o.Outbox.RetryAlert(ctx, a.ID, d.o.Worker, err.Error(), next); rerr != nil {
		d.logger.Warn("alert outbox: retry", "alert", a.ID, "err", rerr)
	}
	d.observe(a, ResultFailed, took)
	d.logger.Warn("alert delivery failed", "notifier", a.Route, "alert", a.ID, "attempt", a.Attempts, "retry_in", wait.Round(time.Second), "err", err)
	return next, false
}

// build turns an outbox entry into an Alert, with the finding's state.
func (d *Dispatcher) build(ctx context.Context, a store.Alert) Alert {
	info := ScopeInfo{Name: a.Scope}
	if d.o.Scope != nil && a.Scope != "" {
		info = d.o.Scope(a.Scope)
	}
	var st *store.Finding
	if det, err := d.o.Outbox.GetFinding(ctx, a.Event.FindingID, store.TimelineQuery{Limit: 1}); err == nil {
		st = &det.Finding
	}
	key := a.DedupKey
	if key == "" {
		key = fmt.Sprintf("alert-%d", a.ID)
	}
	if st == nil {
		return FromEvent(a.Event, nil, info, key)
	}
	return FromEvent(a.Event, &st.State, info, key)
}

func (d *Dispatcher) observe(a store.Alert, result string, took time.Duration) {
	if d.o.OnDelivery != nil {
		d.o.OnDelivery(Delivery{Notifier: a.Route, Event: string(a.Event.Kind), Result: result, Took: took, EventAt: a.Event.At})
	}
}
