package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/metrics"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/store/storemetrics"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const token = "test-token-0123456789abcdef"

type fixture struct {
	base      string
	st        store.Store
	findingID string
	triggered []string
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "lw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fx := &fixture{st: st}
	t0 := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	tg := finding.Target{Host: "127.0.0.5", Port: 6379}
	f := &finding.Finding{Target: tg, Service: "redis", Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: t0,
		Datasets: []finding.Dataset{{Name: "db0", Kind: "database", Records: finding.Int64(2400)}}}
	f.Finalize()
	fx.findingID = f.ID
	record := func(o lifecycle.Observation) {
		run, err := st.BeginScan(ctx, "lab")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordObservation(ctx, run.ID, o); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishScan(ctx, run.ID, store.ScanFinished, ""); err != nil {
			t.Fatal(err)
		}
	}
	record(lifecycle.FromFinding(f, "lab"))
	record(lifecycle.Gone(tg, "redis", t0.Add(time.Minute), "connection refused", "lab"))
	record(lifecycle.Gone(tg, "redis", t0.Add(2*time.Minute), "connection refused", "lab"))
	// A second, still open finding.
	g := *f
	g.Target.Host, g.ID, g.Severity = "127.0.0.6", "", ""
	g.Finalize()
	record(lifecycle.FromFinding(&g, "lab"))

	m := metrics.New()
	m.Registry.MustRegister(storemetrics.Collector(st))
	m.ScansTotal.WithLabelValues("lab", "finished").Add(4)
	m.ProbesTotal.WithLabelValues("exposed", "sweep").Inc()
	m.ScanDuration.WithLabelValues("lab").Observe(1.5)
	m.ObserveDelivery("hook", "delivered", time.Second)
	srv := New(Options{
		Store: st, Tokens: []string{token, "second-token-0123456789"}, Metrics: m.Registry,
		Scopes: func() []ScopeView {
			return []ScopeView{{Name: "lab", Targets: []string{"127.0.0.0/24"}, Cadence: "15s", Recheck: "10s", Owner: "alice@example.org"}}
		},
		Trigger: func(scope string) (bool, error) {
			if scope != "lab" {
				return false, ErrUnknownScope
			}
			fx.triggered = append(fx.triggered, scope)
			return len(fx.triggered) == 1, nil
		},
	})
	l, err := Listen(net.JoinHostPort(testenv.Addr(t).String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, l, srv) }()
	t.Cleanup(func() { cancel(); <-done })
	fx.base = "http://" + l.Addr().String()
	return fx
}

func (fx *fixture) do(t *testing.T, method, path, tok, body string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, fx.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestUnauthorized(t *testing.T) {
	fx := setup(t)
	for _, path := range []string{"/api/v1/findings", "/api/v1/findings/" + fx.findingID, "/api/v1/scopes", "/api/v1/scans", "/api/v1/alerts", "/metrics", "/nope"} {
		for _, tok := range []string{"", "Bearer", "Bearer wrong-token-0123456789abc", "Basic " + token, "Bearer " + token + "x", token} {
			code, h, body := fx.do(t, "GET", path, tok, "")
			if code != http.StatusUnauthorized {
				t.Errorf("GET %s with %q: %d, want 401", path, tok, code)
			}
			if h.Get("WWW-Authenticate") == "" || strings.Contains(string(body), fx.findingID) {
				t.Errorf("GET %s: 401 without challenge or with data: %s", path, body)
			}
		}
	}
	if code, _, _ := fx.do(t, "POST", "/api/v1/scans", "", `{"scope":"lab"}`); code != http.StatusUnauthorized || len(fx.triggered) != 0 {
		t.Errorf("POST /api/v1/scans without token: %d, triggered %v", code, fx.triggered)
	}
	if code, _, _ := fx.do(t, "GET", "/healthz", "", ""); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
}

func TestFindingsAndTimeline(t *testing.T) {
	fx := setup(t)
	auth := "Bearer " + token
	code, _, body := fx.do(t, "GET", "/api/v1/findings", auth, "")
	var list struct {
		Findings []store.Finding `json:"findings"`
		Count    int             `json:"count"`
	}
	if code != 200 || json.Unmarshal(body, &list) != nil || list.Count != 2 {
		t.Fatalf("findings: %d %s", code, body)
	}
	code, _, body = fx.do(t, "GET", "/api/v1/findings?status=closed", "bearer   second-token-0123456789", "")
	if code != 200 || json.Unmarshal(body, &list) != nil || list.Count != 1 || list.Findings[0].ID != fx.findingID || list.Findings[0].Status != lifecycle.StatusClosed {
		t.Fatalf("closed findings: %d %s", code, body)
	}
	code, _, body = fx.do(t, "GET", "/api/v1/findings?status=out-of-scope", auth, "")
	if code != 200 || json.Unmarshal(body, &list) != nil || list.Count != 0 {
		t.Fatalf("out-of-scope findings: %d %s", code, body)
	}
	if code, _, _ := fx.do(t, "GET", "/api/v1/findings?status=bogus", auth, ""); code != 400 {
		t.Errorf("bad status: %d", code)
	}

	for _, id := range []string{fx.findingID, fx.findingID[:8]} {
		code, _, body = fx.do(t, "GET", "/api/v1/findings/"+id, auth, "")
		var d store.FindingDetail
		if code != 200 || json.Unmarshal(body, &d) != nil {
			t.Fatalf("finding %s: %d %s", id, code, body)
		}
		var kinds []string
		var opened, closed time.Time
		for _, e := range d.Timeline {
			if e.Event != nil {
				kinds = append(kinds, string(e.Event.Kind))
				switch e.Event.Kind {
				case lifecycle.EventOpened:
					opened = e.At
				case lifecycle.EventClosed:
					closed = e.At
				}
			}
		}
		if strings.Join(kinds, ",") != "opened,closed" || opened.IsZero() || !closed.After(opened) {
			t.Errorf("timeline events %v (opened %s, closed %s)", kinds, opened, closed)
		}
		if d.Finding.FirstSeen.IsZero() || d.Finding.ClosedAt.IsZero() {
			t.Errorf("finding state %+v", d.Finding.State)
		}
	}
	if code, _, _ := fx.do(t, "GET", "/api/v1/findings/ffffffffffff", auth, ""); code != 404 {
		t.Errorf("unknown finding: %d", code)
	}
}

func TestScopesAndTrigger(t *testing.T) {
	fx := setup(t)
	auth := "Bearer " + token
	code, _, body := fx.do(t, "GET", "/api/v1/scopes", auth, "")
	var sc struct {
		Scopes []ScopeView `json:"scopes"`
	}
	if code != 200 || json.Unmarshal(body, &sc) != nil || len(sc.Scopes) != 1 || sc.Scopes[0].LastScan == nil || sc.Scopes[0].OpenFindings != 1 {
		t.Fatalf("scopes: %d %s", code, body)
	}
	if code, _, body := fx.do(t, "POST", "/api/v1/scans", auth, `{"scope":"lab"}`); code != http.StatusAccepted {
		t.Errorf("trigger: %d %s", code, body)
	}
	if code, _, body := fx.do(t, "POST", "/api/v1/scans", auth, `{"scope":"lab"}`); code != http.StatusOK || !strings.Contains(string(body), "already") {
		t.Errorf("second trigger: %d %s", code, body)
	}
	if code, _, _ := fx.do(t, "POST", "/api/v1/scans", auth, `{"scope":"nope"}`); code != http.StatusNotFound {
		t.Errorf("unknown scope: %d", code)
	}
	if code, _, _ := fx.do(t, "POST", "/api/v1/scans", auth, `{"scope":"lab","x":1}`); code != http.StatusBadRequest {
		t.Errorf("bad body: %d", code)
	}
	if code, _, body := fx.do(t, "GET", "/api/v1/scans?scope=lab", auth, ""); code != 200 || !strings.Contains(string(body), `"status": "finished"`) {
		t.Errorf("scans: %d %s", code, body)
	}
}

func TestMetricsScrape(t *testing.T) {
	fx := setup(t)
	code, h, body := fx.do(t, "GET", "/metrics", "Bearer "+token, "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("metrics: %d %s", code, h.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	value := func(name string, labels map[string]string) (float64, bool) {
		fam, ok := fams[name]
		if !ok {
			return 0, false
		}
	metric:
		for _, m := range fam.Metric {
			for _, lp := range m.Label {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
		return 0, false
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"leakwatch_scans_total", map[string]string{"scope": "lab", "result": "finished"}, 4},
		{"leakwatch_probes_total", map[string]string{"status": "exposed"}, 1},
		{"leakwatch_open_findings", map[string]string{"severity": "high"}, 1},
		{"leakwatch_open_findings", map[string]string{"severity": "critical"}, 0},
		{"leakwatch_scan_duration_seconds", map[string]string{"scope": "lab"}, 1},
		{"leakwatch_alert_deliveries_total", map[string]string{"notifier": "hook", "result": "delivered"}, 1},
		{"leakwatch_alert_outbox", map[string]string{"state": "pending"}, 3},
		{"leakwatch_store_up", nil, 1},
	}
	for _, c := range checks {
		got, ok := value(c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
}

func TestListenNeedsHost(t *testing.T) {
	if _, err := Listen(":0"); err == nil || !strings.Contains(err.Error(), "names no host") {
		t.Errorf("Listen(:0) = %v", err)
	}
}

// TestFindingReport: /api/v1/findings/{id}/report in each format (id or
// prefix), behind the token, with a CSP that forbids loading anything.
func TestFindingReport(t *testing.T) {
	fx := setup(t)
	auth := "Bearer " + token
	if code, _, _ := fx.do(t, "GET", "/api/v1/findings/"+fx.findingID+"/report", "", ""); code != http.StatusUnauthorized {
		t.Errorf("report without token: %d", code)
	}
	for format, ctype := range map[string]string{"": "application/json", "json": "application/json", "md": "text/markdown", "html": "text/html"} {
		code, h, body := fx.do(t, "GET", "/api/v1/findings/"+fx.findingID[:8]+"/report?format="+format, auth, "")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), ctype) || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("format %q: %d %v\n%s", format, code, h, body)
		}
		if !strings.Contains(string(body), "127.0.0.5:6379") || !strings.Contains(string(body), "2,400") && format != "" && format != "json" {
			t.Errorf("format %q: report lacks target or records:\n%s", format, body)
		}
		if format == "json" {
			var r struct {
				Schema string `json:"schema"`
				Window struct {
					Open     bool      `json:"open"`
					ClosedAt time.Time `json:"closed_at"`
				} `json:"window"`
			}
			if json.Unmarshal(body, &r) != nil || r.Schema != "leakwatch.report/v1" || r.Window.Open || r.Window.ClosedAt.IsZero() {
				t.Errorf("json report %s", body)
			}
		}
	}
	if code, _, _ := fx.do(t, "GET", "/api/v1/findings/"+fx.findingID+"/report?format=pdf", auth, ""); code != 400 {
		t.Errorf("bad format: %d", code)
	}
	if code, _, _ := fx.do(t, "GET", "/api/v1/findings/ffffffffffff/report", auth, ""); code != 404 {
		t.Errorf("unknown finding: %d", code)
	}
}

// TestClusterEndpoint: GET /api/v1/cluster needs a token, answers 404 on a
// serve without a cluster section and the coordinator's status otherwise.
func TestClusterEndpoint(t *testing.T) {
	fx := setup(t)
	if code, _, _ := fx.do(t, "GET", "/api/v1/cluster", "", ""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d, want 401", code)
	}
	if code, _, body := fx.do(t, "GET", "/api/v1/cluster", "Bearer "+token, ""); code != http.StatusNotFound {
		t.Fatalf("not clustered: %d %s, want 404", code, body)
	}

	type parked struct {
		ItemID string `json:"item_id"`
		Error  string `json:"error"`
	}
	status := map[string]any{"active_coordinator": "coord-a", "queue_depth": 3, "parked": []parked{{"run-1/0/internet", "delivered 4 times without a result"}}}
	calls := 0
	srv := New(Options{Store: fx.st, Tokens: []string{token}, Cluster: func(ctx context.Context) (any, error) {
		calls++
		if calls == 2 {
			return nil, errors.New("nats: no responders")
		}
		return status, nil
	}})
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/v1/cluster", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	srv.ServeHTTP(rec, req)
	var got struct {
		Active string   `json:"active_coordinator"`
		Depth  int      `json:"queue_depth"`
		Parked []parked `json:"parked"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &got) != nil {
		t.Fatalf("clustered: %d %s", rec.Code, rec.Body)
	}
	if got.Active != "coord-a" || got.Depth != 3 || len(got.Parked) != 1 || got.Parked[0].Error == "" {
		t.Fatalf("status not served as read: %+v", got)
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "no responders") {
		t.Fatalf("a failing read: %d %s, want 500 without the cause", rec.Code, rec.Body)
	}
}
