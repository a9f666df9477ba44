package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/leakwatch/leakwatch/internal/alert"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	serveToken  = "serve-test-token-0123456789"
	hookSecret  = "serve-test-hook-secret"
	seededUsers = 40
)

// hook is a webhook receiver on loopback that checks signatures.
type hook struct {
	url string
	mu  sync.Mutex
	got []received
	bad int
	new chan struct{}
}

type received struct {
	at time.Time
	a  alert.Alert
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{new: make(chan struct{}, 100)}
	l, err := net.Listen("tcp", net.JoinHostPort(testenv.Addr(t).String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var a alert.Alert
		h.mu.Lock()
		defer h.mu.Unlock()
		if !alert.Verify([]byte(hookSecret), b, r.Header.Get(alert.HeaderSignature)) || json.Unmarshal(b, &a) != nil {
			h.bad++
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		h.got = append(h.got, received{time.Now(), a})
		h.new <- struct{}{}
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/leakwatch"
	return h
}

// wait returns the first alert of kind for the finding at target, waiting
// up to timeout.
func (h *hook) wait(t *testing.T, kind lifecycle.EventKind, target string, timeout time.Duration) received {
	t.Helper()
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		for _, r := range h.got {
			if r.a.Event == kind && r.a.Finding.Target.Addr() == target {
				h.mu.Unlock()
				return r
			}
		}
		h.mu.Unlock()
		select {
		case <-h.new:
		case <-deadline:
			t.Fatalf("no %s alert for %s within %s; got %d alerts", kind, target, timeout, h.count("", ""))
		}
	}
}

func (h *hook) count(kind lifecycle.EventKind, target string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.got {
		if (kind == "" || r.a.Event == kind) && (target == "" || r.a.Finding.Target.Addr() == target) {
			n++
		}
	}
	return n
}

// syncBuf is a goroutine-safe log buffer.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a `leakwatch serve` running in-process.
type served struct {
	api  string
	log  *syncBuf
	stop func() int
}

func startServe(t *testing.T, dir, cfgYAML string) *served {
	t.Helper()
	file := filepath.Join(dir, "leakwatch.yaml")
	if err := os.WriteFile(file, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	var out syncBuf
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	// check-config accepts what serve will run.
	if code := a.run(context.Background(), []string{"check-config", file}); code != exitOK {
		t.Fatalf("check-config: exit %d\n%s", code, out.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- a.run(ctx, []string{"serve", "--config", file, "--log-level", "debug"}) }()
	s := &served{log: &out}
	var once sync.Once
	code := 0
	s.stop = func() int {
		once.Do(func() { cancel(); code = <-done })
		return code
	}
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("--- serve log ---\n%s", tailString(out.String(), 8000))
		}
	})
	return s
}

func tailString(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// waitHealthy waits for /healthz.
func (s *served) waitHealthy(t *testing.T, base string) {
	t.Helper()
	s.api = base
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve did not become healthy at %s", base)
}

func (s *served) get(t *testing.T, path, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", s.api+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if s, ok := v.(*string); ok {
		*s = string(b)
	} else if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, b)
		}
	}
	return resp.StatusCode
}

// redisAt runs a real redis-server on addr:port (extra: config lines).
func redisAt(t *testing.T, addr netip.Addr, port int, extra ...string) *testenv.Proc {
	t.Helper()
	bin := testenv.Binary(t, "redis-server")
	dir := t.TempDir()
	args := []string{"--port", strconv.Itoa(port), "--bind", addr.String(), "--save", "", "--appendonly", "no", "--dir", dir}
	args = append(args, extra...)
	return testenv.StartAndWait(t, "redis-server", exec.Command(bin, args...), addr, port, 15*time.Second)
}

// seedRedis writes personal-data-shaped records with redis-cli.
func seedRedis(t *testing.T, addr netip.Addr, port int) {
	t.Helper()
	var cmds strings.Builder
	for i := range seededUsers {
		fmt.Fprintf(&cmds, "SET user:%d \"{\\\"email\\\":\\\"user%d@example.org\\\",\\\"name\\\":\\\"Jane Doe %d\\\",\\\"session_token\\\":\\\"sess_%016x\\\"}\"\n", i, i, i, rand.Uint64())
	}
	cmd := exec.Command(testenv.Binary(t, "redis-cli"), "-h", addr.String(), "-p", strconv.Itoa(port))
	cmd.Stdin = strings.NewReader(cmds.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("seed redis: %v\n%s", err, out)
	}
}

func serveConfig(apiAddr string, h *hook, monitor, scope string) string {
	return fmt.Sprintf(`key_file: key
store:
  sqlite: history.db
api:
  listen: %s
  tokens: [%q]
%s
notifiers:
  - name: hook
    webhook:
      url: %q
      secret: %q
scopes:
  - name: lab
    owner: alice@example.org
    team: platform
%s
`, apiAddr, serveToken, monitor, h.url, hookSecret, scope)
}

// TestServeOpenCloseAlerts: serve watches a loopback /24; a Redis opens on
// it → opened alert; it restarts with requirepass →
// closed alert; the timeline shows opened → closed with timestamps.
func TestServeOpenCloseAlerts(t *testing.T) {
	t.Parallel()
	testenv.Binary(t, "redis-server")
	net24 := testenv.Subnet24(t)
	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := net.JoinHostPort(apiAddr.String(), strconv.Itoa(testenv.FreePort(t, apiAddr)))
	host, port := net24.Host(7), 6379
	if !testenv.PortFree(host, port) {
		t.Fatalf("6379 busy on %s", host)
	}
	dir := t.TempDir()
	s := startServe(t, dir, serveConfig(api, h, "monitor: {cadence: 2s, recheck: 1s}",
		fmt.Sprintf("    targets: [%s]\n    ports: [%d]", net24.CIDR(), port)))
	s.waitHealthy(t, "http://"+api)

	// API refuses requests without the token, on the live server.
	for _, p := range []string{"/api/v1/findings", "/api/v1/scopes", "/metrics"} {
		if code := s.get(t, p, "", nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without token: %d, want 401", p, code)
		}
	}

	rd := redisAt(t, host, port)
	seedRedis(t, host, port)
	target := netip.AddrPortFrom(host, uint16(port)).String()
	opened := h.wait(t, lifecycle.EventOpened, target, 30*time.Second)
	a := opened.a
	if a.Finding.Service != "redis" || a.Finding.Auth != "none" || a.Scope != "lab" || a.Owner != "alice@example.org" {
		t.Errorf("opened alert: %+v", a)
	}
	// The sweep may catch the server between start and seeding: then the
	// records arrive with a "changed" alert (a re-check sees the new
	// dataset and escalates to a deep probe, which samples the classes).
	id := a.Finding.ID
	if a.Finding.Records != seededUsers {
		ch := h.wait(t, lifecycle.EventChanged, target, 30*time.Second).a
		if ch.Finding.Records != seededUsers || !slices.Contains(ch.Finding.Classes, "email") || ch.Diff == nil {
			t.Errorf("changed alert: %+v", ch)
		}
		t.Logf("opened with %d records, changed: %s", a.Finding.Records, ch.Summary)
	} else if !slices.Contains(a.Finding.Classes, "email") {
		t.Errorf("opened alert classes %v", a.Finding.Classes)
	}

	rd.Stop()
	redisAt(t, host, port, "--requirepass", "s3cret-pass")
	closed := h.wait(t, lifecycle.EventClosed, target, 30*time.Second)
	if closed.a.Finding.ID != id || len(closed.a.Proof) != 2 || closed.a.Finding.ClosedAt.IsZero() {
		t.Errorf("closed alert: %+v", closed.a)
	}
	if last := closed.a.Proof[len(closed.a.Proof)-1]; last.Outcome != lifecycle.OutcomeProtected {
		t.Errorf("closing proof %+v: want the last check protected", closed.a.Proof)
	}

	// Timeline: opened → closed with timestamps, and the seeded records.
	var det store.FindingDetail
	if code := s.get(t, "/api/v1/findings/"+id, serveToken, &det); code != 200 {
		t.Fatalf("GET finding: %d", code)
	}
	var kinds []string
	var openedAt, closedAt time.Time
	var maxRecords int64
	for _, e := range det.Timeline {
		if e.Event != nil {
			kinds = append(kinds, string(e.Event.Kind))
			switch e.Event.Kind {
			case lifecycle.EventOpened:
				openedAt = e.At
			case lifecycle.EventClosed:
				closedAt = e.At
			}
		}
		if o := e.Observation; o != nil && o.Records > maxRecords {
			maxRecords = o.Records
		}
	}
	if len(kinds) < 2 || kinds[0] != "opened" || kinds[len(kinds)-1] != "closed" || openedAt.IsZero() || !closedAt.After(openedAt) {
		t.Errorf("timeline events %v (opened %s, closed %s)", kinds, openedAt, closedAt)
	}
	if det.Finding.Status != lifecycle.StatusClosed || det.Finding.FirstSeen.IsZero() || det.Finding.ClosedAt.Before(det.Finding.FirstSeen) {
		t.Errorf("finding state %+v", det.Finding.State)
	}
	if maxRecords != seededUsers {
		t.Errorf("max records observed %d, want %d", maxRecords, seededUsers)
	}
	t.Logf("timeline: %v; opened %s, closed %s", kinds, openedAt.Format(time.RFC3339Nano), closedAt.Format(time.RFC3339Nano))

	// /metrics scrapes and counts what happened.
	var text string
	if code := s.get(t, "/metrics", serveToken, &text); code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	for _, name := range []string{"leakwatch_scans_total", "leakwatch_probes_total", "leakwatch_open_findings", "leakwatch_scan_duration_seconds", "leakwatch_alert_deliveries_total"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// One alert per lifecycle event: exactly one opened and one closed.
	time.Sleep(2 * time.Second)
	if n, m := h.count(lifecycle.EventOpened, target), h.count(lifecycle.EventClosed, target); n != 1 || m != 1 {
		t.Errorf("%d opened and %d closed alerts, want 1 each", n, m)
	}
	if h.bad != 0 {
		t.Errorf("%d deliveries with a bad signature", h.bad)
	}
	if code := s.stop(); code != exitOK {
		t.Errorf("serve exited %d", code)
	}
}

// TestServeAlertLatencyDefaults measures open → alert at the default
// settings (15s cadence ±10%, 10s re-check, every prober's port on a /24):
// the goal is 30 seconds. LEAKWATCH_LATENCY_RUNS repeats the measurement
// (scripts/bench-alert-latency.sh).
func TestServeAlertLatencyDefaults(t *testing.T) {
	t.Parallel()
	testenv.Binary(t, "redis-server")
	runs := 1
	if n, err := strconv.Atoi(os.Getenv("LEAKWATCH_LATENCY_RUNS")); err == nil && n > 0 {
		runs = n
	}
	net24 := testenv.Subnet24(t)
	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := net.JoinHostPort(apiAddr.String(), strconv.Itoa(testenv.FreePort(t, apiAddr)))
	s := startServe(t, t.TempDir(), serveConfig(api, h, "", "    targets: ["+net24.CIDR()+"]"))
	s.waitHealthy(t, "http://"+api)

	// Wait for the first full sweep, so the figure is the steady state.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var scans struct {
			Scans []store.ScanRun `json:"scans"`
		}
		s.get(t, "/api/v1/scans?scope=lab&status=finished", serveToken, &scans)
		if len(scans.Scans) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sweep finished within 60s")
		}
		time.Sleep(200 * time.Millisecond)
	}
	var lat []time.Duration
	for i := range runs {
		host := net24.Host(byte(20 + i))
		if !testenv.PortFree(host, 6379) {
			t.Fatalf("6379 busy on %s", host)
		}
		// A random phase against the sweep schedule.
		time.Sleep(time.Duration(rand.Int64N(int64(5 * time.Second))))
		rd := redisAt(t, host, 6379)
		up := time.Now()
		got := h.wait(t, lifecycle.EventOpened, host.String()+":6379", 45*time.Second)
		d := got.at.Sub(up)
		lat = append(lat, d)
		t.Logf("run %d: open→alert latency %.1fs", i+1, d.Seconds())
		rd.Stop()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	worst := slices.Max(lat)
	fmt.Printf("open→alert latency at default settings: median %.1fs, worst %.1fs over %d run(s) (goal ≤30s)\n",
		lat[len(lat)/2].Seconds(), worst.Seconds(), len(lat))
	if worst > 30*time.Second {
		t.Errorf("open→alert latency %s exceeds 30s", worst)
	}
}

// TestCheckConfig: check-config explains a valid file (exit 0, no secret
// printed) and rejects an unknown key with file, line and key (exit 2).
func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte("api: {tokens: [\"very-secret-token-0123\"]}\nscopes:\n  - name: lab\n    targets: [127.0.0.0/24]\n"), 0o600)
	os.WriteFile(bad, []byte("api: {tokens: [\"very-secret-token-0123\"]}\nscopes:\n  - name: lab\n    targets: [127.0.0.0/24]\n    cadense: 30s\n"), 0o600)
	var out, errOut syncBuf
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}
	if code := a.run(context.Background(), []string{"check-config", good}); code != exitOK {
		t.Fatalf("valid config: exit %d: %s", code, errOut.String())
	}
	if s := out.String(); !strings.Contains(s, "valid") || !strings.Contains(s, "scope lab") || strings.Contains(s, "very-secret-token") {
		t.Errorf("summary:\n%s", s)
	}
	if code := a.run(context.Background(), []string{"check-config", bad}); code != exitUsage {
		t.Fatalf("unknown key: exit %d, want %d", code, exitUsage)
	}
	want := bad + `:5: scopes[0].cadense: unknown key "cadense" in scopes[0] (did you mean "cadence"?)`
	if !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q lacks %q", errOut.String(), want)
	}
	if code := a.run(context.Background(), []string{"serve", "--config", bad}); code != exitUsage {
		t.Errorf("serve with a bad config: exit %d, want %d", code, exitUsage)
	}
}
