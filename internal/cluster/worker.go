package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// WorkerOptions configure a Worker.
type WorkerOptions struct {
	JS    jetstream.JetStream
	Names Names
	// Name identifies the worker (heartbeats, results).
	Name string
	// Sites are the vantage points it serves (usually one: where it
	// runs); it pulls each site's work items.
	Sites []string
	// Reach, if set, are the only addresses this site can reach (a model
	// of the network boundary around the site: what is outside is never
	// dialled, as if filtered). Empty: everything the scope allows.
	Reach []netip.Prefix
	// Scopes, if set, are the scopes this worker may sweep (its config's;
	// `leakwatch worker` always sets them): work items come over NATS,
	// which anyone with access to it can write, so an item whose scope is
	// none of these (other targets or excludes, or ports the scope does not
	// list) is refused before anything is contacted — it fails, and is
	// parked after MaxDeliver. Empty: every item's scope is taken.
	Scopes []monitor.ScopeSpec
	// Parallel is how many work items are run at once (default 2).
	Parallel int
	// Rate caps new connections per second of this worker, discovery and
	// probes together (0: no limit) — each site has its own budget.
	Rate float64
	// Sweep options (InScope is set per item).
	Concurrency    int
	ConnectTimeout time.Duration
	// ProbeWorkers is how many endpoints are probed at once, all items
	// together.
	ProbeWorkers int
	// Engine settings, as serve's deep probe.
	Registry           *probe.Registry
	Classifier         classify.Classifier
	Budget             probe.Budget
	AllProbers         bool
	DefaultCredentials bool
	Memory             *probe.MemoryPool
	// AckWait of the site consumer (default 30s); the worker reports
	// progress every third of it while it probes.
	AckWait time.Duration
	Logger  *slog.Logger
}

// Worker pulls a site's work items, sweeps and probes them with the one
// probing pipeline (scan.Run) and publishes the results. It keeps no
// history.
type Worker struct {
	o       WorkerOptions
	limiter *rate.Limiter
	probes  chan struct{}
	started time.Time

	mu     sync.Mutex
	scopes map[string]*scope.Scope // by spec

	// Counters (Stats); inFlight is a gauge.
	items, redelivered, parked, failed, inFlight atomic.Int64
	// beat asks for a heartbeat now (in-flight changed).
	beat chan struct{}
}

// WorkerStats are a worker's counters.
type WorkerStats struct {
	Items       int64 `json:"items"`
	Redelivered int64 `json:"redelivered"`
	Parked      int64 `json:"parked"`
	Failed      int64 `json:"failed"`
	// InFlight: work items this worker holds now (delivered, not yet
	// acked or nak'd). Absent in heartbeats of older workers (0).
	InFlight int64 `json:"in_flight"`
}

// Heartbeat is what a worker publishes to the workers bucket.
type Heartbeat struct {
	Name    string    `json:"name"`
	Sites   []string  `json:"sites"`
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	Rate    float64   `json:"rate"`
	WorkerStats
}

// NewWorker checks the options.
func NewWorker(o WorkerOptions) (*Worker, error) {
	if o.JS == nil || len(o.Sites) == 0 || o.Name == "" || o.Registry == nil || o.Classifier == nil {
		return nil, errors.New("cluster: incomplete worker options")
	}
	if o.Parallel <= 0 {
		o.Parallel = 2
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Memory == nil {
		o.Memory = probe.NewMemoryPool(0)
	}
	limit := rate.Inf
	if o.Rate > 0 {
		limit = rate.Limit(o.Rate)
	}
	return &Worker{
		o: o, limiter: rate.NewLimiter(limit, max(1, int(o.Rate/50))),
		probes: make(chan struct{}, scan.CapWorkers(o.ProbeWorkers)), started: time.Now(),
		scopes: map[string]*scope.Scope{}, beat: make(chan struct{}, 1),
	}, nil
}

// Stats reads the counters.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Items: w.items.Load(), Redelivered: w.redelivered.Load(), Parked: w.parked.Load(), Failed: w.failed.Load(), InFlight: w.inFlight.Load()}
}

// Run pulls and runs work items until ctx ends. An item in progress when
// ctx ends is neither acked nor published: it is redelivered.
func (w *Worker) Run(ctx context.Context) error {
	if err := Setup(ctx, w.o.JS, w.o.Names); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); w.heartbeats(ctx) }()
	for _, site := range w.o.Sites {
		cons, err := SiteConsumer(ctx, w.o.JS, w.o.Names, site, w.o.AckWait)
		if err != nil {
			return err
		}
		w.pull(ctx, &wg, cons)
	}
	wg.Wait()
	return nil
}

// pull runs Parallel slots that fetch from cons.
func (w *Worker) pull(ctx context.Context, wg *sync.WaitGroup, cons jetstream.Consumer) {
	for range w.o.Parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
				if err != nil {
					if ctx.Err() == nil {
						w.o.Logger.Warn("fetch work", "err", err)
						sleep(ctx, time.Second)
					}
					continue
				}
				for msg := range batch.Messages() {
					w.handle(ctx, msg)
				}
				if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, jetstream.ErrNoMessages) {
					w.o.Logger.Debug("fetch", "err", err)
				}
			}
		}()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// heartbeats keeps the worker listed in the workers bucket.
func (w *Worker) heartbeats(ctx context.Context) {
	kv, err := w.o.JS.KeyValue(ctx, w.o.Names.WorkersBucket())
	for ctx.Err() == nil {
		if err == nil {
			hb := Heartbeat{Name: w.o.Name, Sites: w.o.Sites, Started: w.started, At: time.Now().UTC(), Rate: w.o.Rate, WorkerStats: w.Stats()}
			b, _ := json.Marshal(hb)
			if _, perr := kv.Put(ctx, kvKey(w.o.Name), b); perr != nil && ctx.Err() == nil {
				w.o.Logger.Debug("heartbeat", "err", perr)
			}
		} else {
			kv, err = w.o.JS.KeyValue(ctx, w.o.Names.WorkersBucket())
		}
		t := time.NewTimer(heartbeatTTL / 5)
		select { // next beat on time, or soon when in-flight changed
		case <-ctx.Done():
		case <-t.C:
		case <-w.beat:
			sleep(ctx, 100*time.Millisecond) // changes close together make one beat
		}
		t.Stop()
	}
	if kv != nil {
		dctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = kv.Delete(dctx, kvKey(w.o.Name))
		cancel()
	}
}

// holding counts an item taken (+1) or let go (-1) and has the next
// heartbeat sent at once, so the status shows it without waiting.
func (w *Worker) holding(d int64) {
	w.inFlight.Add(d)
	select {
	case w.beat <- struct{}{}:
	default:
	}
}

// kvKey makes a worker name a valid KV key.
func kvKey(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, name)
}

// handle runs one delivery of a work item.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg) {
	w.holding(1)
	defer w.holding(-1)
	md, err := msg.Metadata()
	if err != nil {
		_ = msg.Term()
		return
	}
	attempt := int(md.NumDelivered)
	if attempt > 1 {
		w.redelivered.Add(1)
	}
	var it Item
	if err := decode(msg.Data(), &it); err != nil {
		w.o.Logger.Error("undecodable work item terminated", "seq", md.Sequence.Stream, "err", err)
		_ = msg.Term()
		return
	}
	log := w.o.Logger.With("item", it.ID, "attempt", attempt)
	if it.MaxDeliver > 0 && attempt > it.MaxDeliver {
		// Delivered this often without a result: its workers died on it
		// or timed out (a failing item is parked below when it fails).
		w.park(ctx, msg, it, attempt, fmt.Sprintf("delivered %d times without a result (workers died or stalled on it)", attempt-1), log)
		return
	}
	// Report progress while the chunk runs, so the item stays ours.
	hctx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		t := time.NewTicker(max(time.Second, w.o.AckWait/3))
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	start := time.Now()
	res, err := w.runItem(ctx, it)
	if ctx.Err() != nil {
		_ = msg.Nak() // stopping: the item goes to another worker now
		return
	}
	var parts [][]byte
	if err == nil {
		res.ItemID, res.RunID, res.Site, res.Worker, res.Attempt = it.ID, it.RunID, it.Site, w.o.Name, attempt
		res.Took = time.Since(start)
		parts, err = split(res, w.messageLimit())
	}
	if err != nil {
		w.failed.Add(1)
		if it.MaxDeliver > 0 && attempt >= it.MaxDeliver {
			w.park(ctx, msg, it, attempt, err.Error(), log)
			return
		}
		log.Warn("work item failed, retried later", "err", err)
		_ = msg.NakWithDelay(time.Duration(attempt) * time.Second)
		return
	}
	// Every part is stored before the item is acked; a worker that dies
	// between parts leaves an incomplete attempt, which the coordinator
	// never uses (the redelivered attempt's parts complete the item).
	for i, data := range parts {
		if err := w.publish(ctx, w.o.Names.ResultSubject(it.Site), partID(it.ID, attempt, i, len(parts)), data); err != nil {
			if errors.Is(err, nats.ErrMaxPayload) {
				// The server's limit fell since it was read (another
				// server after a reconnect): split again on redelivery.
				log.Warn("result part over the server's max_payload, retried later", "err", err)
				_ = msg.NakWithDelay(time.Second)
			}
			return // not acked: redelivered
		}
	}
	if len(parts) > 1 {
		log.Info("result sent in parts", "parts", len(parts), "limit", w.messageLimit())
	}
	stop()
	if err := msg.DoubleAck(ctx); err != nil && ctx.Err() == nil {
		log.Warn("ack", "err", err) // redelivered; the result is kept once
	}
	w.items.Add(1)
	log.Debug("work item done", "open", len(res.Checks), "took", res.Took.Round(time.Millisecond))
}

// publish sends a result until JetStream stores it (or ctx ends); the
// message id makes repeats no-ops within the duplicate window.
func (w *Worker) publish(ctx context.Context, subject, id string, data []byte) error {
	wait := 200 * time.Millisecond
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := w.o.JS.Publish(pctx, subject, data, jetstream.WithMsgID(id))
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, nats.ErrMaxPayload) {
			return err
		}
		w.o.Logger.Warn("publish result (retrying)", "item", id, "err", err)
		sleep(ctx, wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// messageLimit is the largest result message the connected server takes
// (its max_payload, less room for headers).
func (w *Worker) messageLimit() int {
	return messageLimit(w.o.JS.Conn().MaxPayload())
}

// partID is the message id of part i of n of an attempt of an item (the
// item id itself for a result in one message): JetStream drops a repeat
// of it within the stream's duplicate window.
func partID(itemID string, attempt, i, n int) string {
	if n <= 1 {
		return itemID
	}
	return fmt.Sprintf("%s/a%d/p%dof%d", itemID, attempt, i, n)
}

// park reports an item as parked (to the coordinator as its result, and
// to the parked stream) and terminates it.
func (w *Worker) park(ctx context.Context, msg jetstream.Msg, it Item, attempt int, why string, log *slog.Logger) {
	log.Error("work item parked", "err", why)
	res := Result{ItemID: it.ID, RunID: it.RunID, Site: it.Site, Worker: w.o.Name, Attempt: attempt, Parked: true, Error: cut(why, 4<<10), Swept: 0}
	data, err := encodeLimit(res, w.messageLimit())
	if err != nil {
		log.Error("parked result not sent", "err", err)
		return
	}
	if err := w.publish(ctx, w.o.Names.ParkedSubject(it.Site), it.ID+"/parked", data); err != nil {
		return
	}
	if err := w.publish(ctx, w.o.Names.ResultSubject(it.Site), it.ID, data); err != nil {
		return
	}
	w.parked.Add(1)
	_ = msg.Term()
}

// scopeOf builds (once) the scope of a spec.
func (w *Worker) scopeOf(ctx context.Context, spec monitor.ScopeSpec) (*scope.Scope, error) {
	key := fmt.Sprint(spec.Targets, "|", spec.Excludes, "|", spec.Ports)
	w.mu.Lock()
	sc := w.scopes[key]
	w.mu.Unlock()
	if sc != nil {
		return sc, nil
	}
	sc, err := scope.Build(ctx, scope.Options{Targets: spec.Targets, Excludes: spec.Excludes, Ports: spec.Ports, MaxHosts: 1 << 24})
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	if len(w.scopes) > 64 {
		clear(w.scopes)
	}
	w.scopes[key] = sc
	w.mu.Unlock()
	return sc, nil
}

// configured refuses a spec that is none of WorkerOptions.Scopes: the
// same targets and excludes, and ports among the scope's.
func (w *Worker) configured(spec monitor.ScopeSpec) error {
	if len(w.o.Scopes) == 0 {
		return nil
	}
	for _, s := range w.o.Scopes {
		if slices.Equal(s.Targets, spec.Targets) && slices.Equal(s.Excludes, spec.Excludes) &&
			!slices.ContainsFunc(spec.Ports, func(p int) bool { return !slices.Contains(s.Ports, p) }) {
			return nil
		}
	}
	return fmt.Errorf("work item's scope (targets %s) is none of this worker's configured scopes: refused, nothing contacted",
		finding.VisibleText(cut(strings.Join(spec.Targets, ","), 256)))
}

// reaches tells whether this site can reach ap.
func (w *Worker) reaches(ap netip.AddrPort) bool {
	if len(w.o.Reach) == 0 {
		return true
	}
	return slices.ContainsFunc(w.o.Reach, func(p netip.Prefix) bool { return p.Contains(ap.Addr()) })
}

// runItem sweeps and probes the item's endpoints through scan.Run and
// returns one check per open endpoint. Only endpoints the item lists (and
// this site reaches) are dialled for discovery; probers may dial what the
// scope allows of the same address, as in serve.
func (w *Worker) runItem(ctx context.Context, it Item) (Result, error) {
	if err := w.configured(it.Spec); err != nil {
		return Result{}, err
	}
	sc, err := w.scopeOf(ctx, it.Spec)
	if err != nil {
		return Result{}, fmt.Errorf("scope: %w", err)
	}
	allows := func(ap netip.AddrPort) bool { return sc.Allows(ap) && w.reaches(ap) }
	eng, err := engine.New(engine.Options{
		Registry: w.o.Registry, Classifier: w.o.Classifier, Budget: w.o.Budget,
		AllProbers: w.o.AllProbers, DefaultCredentials: w.o.DefaultCredentials,
		InScope: allows, Memory: w.o.Memory,
	})
	if err != nil {
		return Result{}, err
	}
	var mu sync.Mutex
	var checks []monitor.Check
	var stats sweep.Stats
	_, err = scan.Run(ctx, scan.Config{
		Endpoints: slices.Values(it.Endpoints),
		Discover: scan.Sweep(sweep.Options{
			Concurrency: w.o.Concurrency, Timeout: w.o.ConnectTimeout, InScope: allows,
		}, &stats, w.limiter.Wait),
		Engine:       eng,
		ProbeWorkers: w.o.ProbeWorkers,
		Acquire:      w.slot,
		OnReport: func(rep *engine.Report) {
			if ctx.Err() != nil {
				return
			}
			mu.Lock()
			checks = append(checks, monitor.CheckOf(rep))
			mu.Unlock()
		},
	}, nil)
	if err != nil {
		return Result{}, err
	}
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	slices.SortFunc(checks, func(a, b monitor.Check) int { return a.Target.AddrPort().Compare(b.Target.AddrPort()) })
	return Result{Checks: checks, Swept: len(it.Endpoints)}, nil
}

// slot takes a probe slot and a rate token (as serve's monitor).
func (w *Worker) slot(ctx context.Context) (func(), error) {
	select {
	case w.probes <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := w.limiter.Wait(ctx); err != nil {
		<-w.probes
		return nil, err
	}
	return func() { <-w.probes }, nil
}
