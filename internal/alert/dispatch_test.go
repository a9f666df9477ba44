package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
)

// hookLog is a webhook receiver that records deliveries and can fail.
type hookLog struct {
	mu      sync.Mutex
	got     []Alert
	failing atomic.Bool
	calls   atomic.Int32
	secret  []byte
}

func (h *hookLog) handler(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	b, _ := io.ReadAll(r.Body)
	if h.failing.Load() {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if !Verify(h.secret, b, r.Header.Get(HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var a Alert
	if err := json.Unmarshal(b, &a); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.got = append(h.got, a)
	h.mu.Unlock()
}

func (h *hookLog) alerts() []Alert {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Alert(nil), h.got...)
}

func testConfig(t *testing.T, hookURL, slackURL string) *config.Config {
	t.Helper()
	t.Setenv("LW_HOOK_URL", hookURL)
	t.Setenv("LW_SLACK_URL", slackURL)
	c, err := config.Parse([]byte(`
api: {disable: true}
notifiers:
  - name: hook
    webhook: {url: "${LW_HOOK_URL}", secret: hook-secret}
  - name: slack
    slack: {url: "${LW_SLACK_URL}"}
    events: [opened, reopened]
scopes:
  - name: lab
    targets: [127.0.0.0/24]
    owner: alice@example.org
    team: platform
  - name: quiet
    targets: [127.0.1.0/24]
    notify: [slack]
`), "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func openStore(t *testing.T, path string, c *config.Config) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, store.Options{Route: Route(c)})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// observe records one check of a redis on host under a fresh scan run.
func observe(t *testing.T, st store.Store, scope, host string, outcome lifecycle.Outcome, at time.Time) store.Recorded {
	t.Helper()
	ctx := context.Background()
	run, err := st.BeginScan(ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	tg := finding.Target{Host: host, Port: 6379}
	var obs lifecycle.Observation
	if outcome == lifecycle.OutcomeExposed {
		f := testFinding()
		f.Target, f.ID, f.ObservedAt = tg, "", at
		f.Finalize()
		obs = lifecycle.FromFinding(f, scope)
	} else {
		obs = lifecycle.Gone(tg, "redis", at, "connection refused", scope)
	}
	rec, err := st.RecordObservation(ctx, run.ID, obs)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.FinishScan(ctx, run.ID, store.ScanFinished, ""); err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestDispatcherDeliversRetriesAndSurvivesRestart(t *testing.T) {
	hook := &hookLog{secret: []byte("hook-secret")}
	hookSrv := receiver(t, hook.handler)
	slack := &hookLog{}
	slackSrv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		slack.calls.Add(1)
		io.WriteString(w, "ok")
	})
	c := testConfig(t, hookSrv.URL+"/hook", slackSrv.URL+"/services/x")
	path := filepath.Join(t.TempDir(), "lw.db")
	st := openStore(t, path, c)
	notifiers, err := FromConfig(c)
	if err != nil {
		t.Fatal(err)
	}
	var results sync.Map
	newDispatcher := func(st store.Store, worker string) *Dispatcher {
		d, err := NewDispatcher(DispatcherOptions{
			Outbox: st, Notifiers: notifiers, Scope: ScopeInfoFunc(c), Worker: worker,
			Backoff: Retry{Base: 20 * time.Millisecond, Max: 50 * time.Millisecond},
			Lease:   5 * time.Second,
			OnDelivery: func(dl Delivery) {
				v, _ := results.LoadOrStore(dl.Notifier+"/"+dl.Result, new(atomic.Int32))
				v.(*atomic.Int32).Add(1)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	ctx := context.Background()
	t0 := time.Now().UTC().Truncate(time.Millisecond)

	// The webhook receiver is down: the opened alert fails, slack's goes.
	hook.failing.Store(true)
	rec := observe(t, st, "lab", "127.0.0.5", lifecycle.OutcomeExposed, t0)
	if len(rec.Events) != 1 || rec.Events[0].Kind != lifecycle.EventOpened {
		t.Fatalf("events %+v", rec.Events)
	}
	d := newDispatcher(st, "w1")
	if n, err := d.DrainOnce(ctx); err != nil || n != 2 {
		t.Fatalf("DrainOnce = %d, %v; want 2 alerts (hook, slack)", n, err)
	}
	if slack.calls.Load() != 1 || len(hook.alerts()) != 0 {
		t.Fatalf("slack calls %d, hook alerts %d", slack.calls.Load(), len(hook.alerts()))
	}
	pend, _ := st.ListAlerts(ctx, store.AlertFilter{State: store.AlertPending})
	if len(pend) != 1 || pend[0].Route != "hook" || pend[0].LastError == "" {
		t.Fatalf("pending %+v", pend)
	}

	// The finding closes meanwhile: its closed alert must wait for the
	// opened one (order per finding and notifier). Slack does not want it.
	observe(t, st, "lab", "127.0.0.5", lifecycle.OutcomeGone, t0.Add(time.Second))
	rec = observe(t, st, "lab", "127.0.0.5", lifecycle.OutcomeGone, t0.Add(2*time.Second))
	if len(rec.Events) != 1 || rec.Events[0].Kind != lifecycle.EventClosed {
		t.Fatalf("events %+v", rec.Events)
	}

	// Restart: the store is closed and reopened, a new dispatcher drains.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path, c)
	defer st.Close()
	hook.failing.Store(false)
	d = newDispatcher(st, "w2")
	deadline := time.Now().Add(10 * time.Second)
	for len(hook.alerts()) < 2 && time.Now().Before(deadline) {
		if _, err := d.DrainOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	got := hook.alerts()
	if len(got) != 2 || got[0].Event != lifecycle.EventOpened || got[1].Event != lifecycle.EventClosed {
		t.Fatalf("hook got %d alerts: %+v", len(got), got)
	}
	if got[0].Owner != "alice@example.org" || got[0].Finding.FirstSeen.IsZero() || got[1].Finding.ClosedAt.IsZero() || len(got[1].Proof) != 2 {
		t.Errorf("alert content: %+v / %+v", got[0], got[1])
	}
	if got[0].DedupKey == "" || got[0].DedupKey == got[1].DedupKey {
		t.Errorf("dedup keys %q %q", got[0].DedupKey, got[1].DedupKey)
	}
	// Nothing pending, nothing delivered twice.
	for i := 0; i < 3; i++ {
		if n, _ := d.DrainOnce(ctx); n != 0 {
			t.Errorf("drain after delivery claimed %d", n)
		}
	}
	stats, _ := st.OutboxStats(ctx)
	if stats.Pending != 0 || stats.Delivered != 3 || stats.GaveUp != 0 {
		t.Errorf("outbox %+v; want 3 delivered", stats)
	}
	if len(hook.alerts()) != 2 || slack.calls.Load() != 1 {
		t.Errorf("duplicates: hook %d, slack %d", len(hook.alerts()), slack.calls.Load())
	}
	if v, ok := results.Load("hook/failed"); !ok || v.(*atomic.Int32).Load() < 1 {
		t.Error("failed delivery not observed")
	}
}

func TestRouting(t *testing.T) {
	c := testConfig(t, "http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
	r := Route(c)
	ev := lifecycle.Event{Kind: lifecycle.EventOpened, Severity: finding.SeverityHigh}
	if got := r(ev, "lab"); len(got) != 2 {
		t.Errorf("lab opened → %v", got)
	}
	if got := r(ev, "quiet"); len(got) != 1 || got[0] != "slack" {
		t.Errorf("quiet opened → %v", got)
	}
	ev.Kind = lifecycle.EventClosed
	if got := r(ev, "quiet"); len(got) != 0 {
		t.Errorf("quiet closed → %v (slack wants opened, reopened only)", got)
	}
}

func TestDispatcherGivesUp(t *testing.T) {
	var calls atomic.Int32
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "gone", http.StatusGone)
	})
	c := testConfig(t, srv.URL, srv.URL)
	st := openStore(t, filepath.Join(t.TempDir(), "lw.db"), c)
	defer st.Close()
	observe(t, st, "quiet", "127.0.1.5", lifecycle.OutcomeExposed, time.Now().UTC())
	notifiers, _ := FromConfig(c)
	d, _ := NewDispatcher(DispatcherOptions{Outbox: st, Notifiers: notifiers, MaxAttempts: 2,
		Backoff: Retry{Base: time.Millisecond, Max: time.Millisecond}})
	ctx := context.Background()
	for i := 0; i < 20 && calls.Load() < 2; i++ {
		d.DrainOnce(ctx)
		time.Sleep(5 * time.Millisecond)
	}
	stats, _ := st.OutboxStats(ctx)
	if stats.GaveUp != 1 || calls.Load() != 2 {
		t.Errorf("outbox %+v after %d calls; want given up after 2", stats, calls.Load())
	}
}
