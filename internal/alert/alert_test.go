package alert

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Raw-looking values that the test finding carries in places an alert must
// never copy (masked examples, keyed hashes, evidence).
const (
	maskedExample = "j***@e*****.com"
	keyedHash     = "hmac:5f1d2c"
	evidenceValue = "requirepass-hint"
)

func testFinding() *finding.Finding {
	f := &finding.Finding{
		Target:  finding.Target{Host: "127.0.0.5", Port: 6379},
		Service: "redis", Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: finding.AuthNone,
		Datasets: []finding.Dataset{
			{Name: "db0", Kind: "database", Records: finding.Int64(2400), Sampled: 200, Classes: []finding.ClassCount{{
				Class: "email", Sampled: 200, Matched: 190, Source: "values",
				Examples: []string{maskedExample}, Hashes: []string{keyedHash},
			}}},
			{Name: "db1", Kind: "database", Records: finding.Int64(12)},
		},
		Evidence:   map[string]any{"note": evidenceValue},
		ObservedAt: time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC),
	}
	f.Finalize()
	return f
}

func testEvent(kind lifecycle.EventKind) lifecycle.Event {
	f := testFinding()
	ev := lifecycle.Event{
		Kind: kind, FindingID: f.ID, Target: f.Target, Service: f.Service,
		At: f.ObservedAt, Status: lifecycle.StatusOpen, Severity: f.Severity,
		Summary: "opened: redis on 127.0.0.5:6379 is exposed", Finding: f,
	}
	if kind == lifecycle.EventClosed {
		ev.Status = lifecycle.StatusClosed
		ev.Summary = "closed: redis on 127.0.0.5:6379 after 2 checks"
		ev.Proof = []lifecycle.Proof{
			{At: f.ObservedAt.Add(time.Minute), Outcome: lifecycle.OutcomeGone, Reason: "connection refused"},
			{At: f.ObservedAt.Add(2 * time.Minute), Outcome: lifecycle.OutcomeGone, Reason: "connection refused"},
		}
	}
	return ev
}

func testAlert(kind lifecycle.EventKind) Alert {
	return FromEvent(testEvent(kind), nil, ScopeInfo{Name: "lab", Owner: "alice@example.org", Team: "platform", Tags: map[string]string{"env": "lab"}}, "dedup-"+string(kind))
}

// receiver is an HTTP server on a fresh loopback address.
func receiver(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func assertNoRaw(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, raw := range []string{maskedExample, keyedHash, evidenceValue} {
		if strings.Contains(string(body), raw) {
			t.Errorf("%s carries %q:\n%s", what, raw, body)
		}
	}
}

func TestFromEvent(t *testing.T) {
	a := testAlert(lifecycle.EventOpened)
	s := a.Finding
	if s.Records != 2412 || s.Datasets != 2 || s.Top[0].Name != "db0" || len(s.Classes) != 1 {
		t.Errorf("summary %+v", s)
	}
	if !s.FirstSeen.Equal(a.At) {
		t.Errorf("opened alert first_seen %s, want the event time %s", s.FirstSeen, a.At)
	}
	c := testAlert(lifecycle.EventClosed)
	if c.Finding.ClosedAt.IsZero() || len(c.Proof) != 2 {
		t.Errorf("closed alert: closed_at %s, proof %d", c.Finding.ClosedAt, len(c.Proof))
	}
	body, _ := json.Marshal(a)
	assertNoRaw(t, "alert JSON", body)
	assertNoRaw(t, "alert text", []byte(a.Text()))
}

func TestWebhookSignedDelivery(t *testing.T) {
	secret := []byte("s3cret-for-hmac")
	var got struct {
		sync.Mutex
		body   []byte
		header http.Header
	}
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Lock()
		got.body, got.header = b, r.Header.Clone()
		got.Unlock()
		if !Verify(secret, b, r.Header.Get(HeaderSignature)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	wh := NewWebhook(WebhookOptions{Name: "hook", URL: srv.URL + "/hook", Secret: string(secret)})
	before := time.Now().Add(-time.Second)
	if err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened)); err != nil {
		t.Fatal(err)
	}
	got.Lock()
	defer got.Unlock()
	sig := got.header.Get(HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 || sig != Sign(secret, got.body) {
		t.Errorf("signature header %q", sig)
	}
	if got.header.Get(HeaderEvent) != "opened" || got.header.Get(HeaderDelivery) != "dedup-opened" || got.header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", got.header)
	}
	var a Alert
	if err := json.Unmarshal(got.body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Schema != Schema || a.Event != lifecycle.EventOpened || a.Finding.Target.Port != 6379 || a.Scope != "lab" || a.Owner != "alice@example.org" {
		t.Errorf("body %+v", a)
	}
	if a.SentAt.Before(before) || a.SentAt.Unix() != mustAtoi(t, got.header.Get(HeaderTimestamp)) {
		t.Errorf("sent_at %s vs timestamp header %s", a.SentAt, got.header.Get(HeaderTimestamp))
	}
	assertNoRaw(t, "webhook body", got.body)
	if Verify([]byte("other"), got.body, sig) || Verify(secret, append(got.body, ' '), sig) {
		t.Error("Verify accepts a wrong secret or body")
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	var n int64
	if err := json.Unmarshal([]byte(s), &n); err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := NewWebhook(WebhookOptions{Name: "hook", URL: srv.URL, Secret: "x", Retry: Retry{Attempts: 4, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond}})
	if err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened)); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Errorf("%d calls, want 3 (two 503s then 200)", calls.Load())
	}
}

func TestWebhookGivesUp(t *testing.T) {
	t.Run("bounded", func(t *testing.T) {
		var calls atomic.Int32
		srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "3600")
			http.Error(w, "down", http.StatusBadGateway)
		})
		wh := NewWebhook(WebhookOptions{Name: "hook", URL: srv.URL, Secret: "x", Retry: Retry{Attempts: 3, Base: 10 * time.Millisecond, Max: 40 * time.Millisecond}})
		start := time.Now()
		err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened))
		if err == nil || IsPermanent(err) || calls.Load() != 3 {
			t.Errorf("err %v (permanent %v), %d calls; want a transient error after 3", err, IsPermanent(err), calls.Load())
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %s: Retry-After must be capped by Retry.Max", d)
		}
	})
	t.Run("permanent", func(t *testing.T) {
		var calls atomic.Int32
		srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			http.Error(w, "no such hook", http.StatusNotFound)
		})
		wh := NewWebhook(WebhookOptions{Name: "hook", URL: srv.URL, Secret: "x"})
		err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened))
		if !IsPermanent(err) || calls.Load() != 1 {
			t.Errorf("err %v, %d calls; want one permanent failure", err, calls.Load())
		}
	})
	t.Run("redirect not followed", func(t *testing.T) {
		var hits atomic.Int32
		other := receiver(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
		srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL, http.StatusTemporaryRedirect)
		})
		wh := NewWebhook(WebhookOptions{Name: "hook", URL: srv.URL, Secret: "x"})
		if err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened)); !IsPermanent(err) || hits.Load() != 0 {
			t.Errorf("err %v, redirect target hit %d times", err, hits.Load())
		}
	})
	t.Run("refused", func(t *testing.T) {
		addr := testenv.Addr(t)
		port := testenv.FreePort(t, addr)
		wh := NewWebhook(WebhookOptions{Name: "hook", URL: "http://" + net.JoinHostPort(addr.String(), itoa(port)) + "/", Secret: "x",
			Retry: Retry{Attempts: 2, Base: time.Millisecond}})
		if err := wh.Notify(context.Background(), testAlert(lifecycle.EventOpened)); err == nil || IsPermanent(err) {
			t.Errorf("err %v; want transient", err)
		}
	})
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestBackoff(t *testing.T) {
	r := Retry{Base: 100 * time.Millisecond, Max: time.Second}
	for n := 1; n <= 10; n++ {
		d := r.Backoff(n)
		want := min(100*time.Millisecond<<(n-1), time.Second)
		if d < want/2 || d > want {
			t.Errorf("Backoff(%d) = %s, want in [%s, %s]", n, d, want/2, want)
		}
	}
}

func TestSlackPayload(t *testing.T) {
	var body []byte
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		io.WriteString(w, "ok")
	})
	s := NewSlack(SlackOptions{Name: "slack", URL: srv.URL + "/services/T0/B0/XXXX"})
	if err := s.Notify(context.Background(), testAlert(lifecycle.EventOpened)); err != nil {
		t.Fatal(err)
	}
	var m SlackMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "opened: redis on 127.0.0.5:6379") || len(m.Blocks) != 4 || m.Blocks[0].Type != "header" || m.Blocks[2].Fields[0].Text != "*Target*\n`127.0.0.5:6379`" {
		t.Errorf("slack payload %s", body)
	}
	assertNoRaw(t, "slack payload", body)
	if got := esc("<a&b>"); got != "&lt;a&amp;b&gt;" {
		t.Errorf("esc = %q", got)
	}
}

func TestPagerDutyEvents(t *testing.T) {
	type got struct {
		ev  map[string]any
		raw []byte
	}
	var mu sync.Mutex
	var events []got
	srv := receiver(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			http.Error(w, `{"status":"invalid event","message":"Event object is invalid"}`, http.StatusBadRequest)
			return
		}
		if msg := checkPDShape(ev); msg != "" {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"status": "invalid event", "message": msg})
			return
		}
		mu.Lock()
		events = append(events, got{ev, b})
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Event processed", "dedup_key": ev["dedup_key"]})
	})
	pd := NewPagerDuty(PagerDutyOptions{Name: "pd", RoutingKey: "R0UTINGKEY0123456789012345678901", URL: srv.URL + "/v2/enqueue"})
	open, closed := testAlert(lifecycle.EventOpened), testAlert(lifecycle.EventClosed)
	for _, a := range []Alert{open, closed} {
		if err := pd.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	if len(events) != 2 {
		t.Fatalf("%d events", len(events))
	}
	trig, res := events[0].ev, events[1].ev
	if trig["event_action"] != "trigger" || res["event_action"] != "resolve" {
		t.Errorf("actions %v, %v", trig["event_action"], res["event_action"])
	}
	if trig["dedup_key"] != open.Finding.ID || res["dedup_key"] != open.Finding.ID {
		t.Errorf("dedup keys %v %v, want the finding id %s", trig["dedup_key"], res["dedup_key"], open.Finding.ID)
	}
	p := trig["payload"].(map[string]any)
	if p["severity"] != "critical" || p["source"] != "127.0.0.5:6379" || p["component"] != "redis" || p["group"] != "lab" {
		t.Errorf("payload %v", p)
	}
	assertNoRaw(t, "pagerduty event", events[0].raw)

	// A receiver that refuses the event shape is a permanent error.
	bad := NewPagerDuty(PagerDutyOptions{Name: "pd", RoutingKey: "", URL: srv.URL + "/v2/enqueue"})
	if err := bad.Notify(context.Background(), open); !IsPermanent(err) {
		t.Errorf("empty routing key: %v", err)
	}
}

// checkPDShape checks an event as the Events API v2 documents it.
func checkPDShape(ev map[string]any) string {
	rk, _ := ev["routing_key"].(string)
	if len(rk) != 32 {
		return "routing_key must be a 32-character integration key"
	}
	switch ev["event_action"] {
	case "trigger":
		p, ok := ev["payload"].(map[string]any)
		if !ok {
			return "payload is required for trigger"
		}
		for _, k := range []string{"summary", "source", "severity"} {
			if s, _ := p[k].(string); s == "" {
				return "payload." + k + " is required"
			}
		}
		switch p["severity"] {
		case "critical", "error", "warning", "info":
		default:
			return "payload.severity is invalid"
		}
		if s := p["summary"].(string); len(s) > 1024 {
			return "payload.summary too long"
		}
		if ts, ok := p["timestamp"].(string); ok {
			if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
				return "payload.timestamp is invalid"
			}
		}
	case "resolve", "acknowledge":
		if s, _ := ev["dedup_key"].(string); s == "" {
			return "dedup_key is required for " + ev["event_action"].(string)
		}
	default:
		return "event_action is invalid"
	}
	for k := range ev {
		switch k {
		case "routing_key", "event_action", "dedup_key", "payload", "client", "client_url", "images", "links":
		default:
			return "unknown field " + k
		}
	}
	return ""
}

// TestIncidentAlerts: the evidence events the lifecycle produces
// (destroyed, extortion, canary) are critical, routed to a notifier with
// the default event list, and their alerts say what was lost, by name
// and count only.
func TestIncidentAlerts(t *testing.T) {
	f0 := testFinding()
	f1 := testFinding()
	f1.ObservedAt = f0.ObservedAt.Add(time.Minute)
	f1.Datasets = []finding.Dataset{
		{Name: "db0", Kind: "database", Records: finding.Int64(3)},
		{Name: "read_me_to_recover", Kind: "database", Records: finding.Int64(1)},
	}
	f1.Datasets[0].Canary = []string{"prod-users"}
	f1.Finalize()
	pol := lifecycle.DefaultPolicy()
	r0, err := pol.Apply(lifecycle.State{}, lifecycle.FromFinding(f0, "lab"))
	if err != nil {
		t.Fatal(err)
	}
	r1, err := pol.Apply(r0.State, lifecycle.FromFinding(f1, "lab"))
	if err != nil {
		t.Fatal(err)
	}
	n := config.Notifier{Name: "ops", Slack: &config.Slack{}}
	c := &config.Config{Notifiers: []config.Notifier{n}}
	c.ApplyDefaults()
	route := Route(c)
	want := map[lifecycle.EventKind]string{
		lifecycle.EventDestroyed: "Incident:  db0 2,400→3 records; 2,397 records lost",
		lifecycle.EventExtortion: "Incident:  ransom note read_me_to_recover",
		lifecycle.EventCanary:    "Incident:  canary prod-users; in db0",
	}
	seen := 0
	for _, ev := range r1.Events {
		line, ok := want[ev.Kind]
		if !ok {
			continue
		}
		seen++
		if ev.Severity != finding.SeverityCritical {
			t.Errorf("%s severity %s", ev.Kind, ev.Severity)
		}
		if got := route(ev, "lab"); len(got) != 1 || got[0] != "ops" {
			t.Errorf("%s routed to %v", ev.Kind, got)
		}
		a := FromEvent(ev, &r1.State, ScopeInfo{Name: "lab"}, "k")
		if !strings.Contains(a.Text(), line) || !strings.HasPrefix(a.Title(), "[critical] "+string(ev.Kind)) {
			t.Errorf("%s alert:\n%s\n%s", ev.Kind, a.Title(), a.Text())
		}
		body, _ := json.Marshal(a)
		assertNoRaw(t, string(ev.Kind)+" alert JSON", body)
		assertNoRaw(t, string(ev.Kind)+" alert text", []byte(a.Text()))
		pd, _ := json.Marshal(PagerDutyEvent("rk", a))
		if !strings.Contains(string(pd), `"severity":"critical"`) {
			t.Errorf("pagerduty %s", pd)
		}
	}
	if seen != 3 {
		t.Errorf("events %+v", r1.Events)
	}
}
