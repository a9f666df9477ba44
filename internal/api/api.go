// Package api is the JSON HTTP API of `leakwatch serve`:
//
//	GET  /healthz                 liveness (no token)
//	GET  /metrics                 Prometheus text format (token unless public)
//	GET  /api/v1/findings         findings, worst and newest first
//	                              (?status=open|closed|out-of-scope&severity=&scope=&service=&host=&limit=)
//	GET  /api/v1/findings/{id}    one finding with its timeline (id or unique prefix)
//	GET  /api/v1/findings/{id}/report  its incident report (?format=json|md|html)
//	GET  /api/v1/scopes           configured scopes with their last scan run
//	GET  /api/v1/scans            scan runs (?scope=&status=&limit=)
//	POST /api/v1/scans            trigger a sweep: {"scope":"lab"}
//	GET  /api/v1/alerts           alert outbox (?state=pending|delivered|gave-up&limit=)
//
// Every request but /healthz needs "Authorization: Bearer <token>" with a
// configured token (compared in constant time); without one the answer is
// 401 and nothing else. The server listens on 127.0.0.1 unless told
// otherwise.
package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ScopeView is a scope as the API shows it.
type ScopeView struct {
	Name    string            `json:"name"`
	Targets []string          `json:"targets"`
	Exclude []string          `json:"exclude,omitempty"`
	Ports   []int             `json:"ports,omitempty"`
	Cadence string            `json:"cadence"`
	Recheck string            `json:"recheck"`
	Owner   string            `json:"owner,omitempty"`
	Team    string            `json:"team,omitempty"`
	Tags    map[string]string `json:"tags,omitempty"`
	Notify  []string          `json:"notify,omitempty"`
	// LastScan is the newest scan run of the scope, if any.
	LastScan *store.ScanRun `json:"last_scan,omitempty"`
	// OpenFindings counts the scope's open findings.
	OpenFindings int `json:"open_findings"`
}

// ErrUnknownScope is what Trigger returns for a scope that is not
// configured.
var ErrUnknownScope = errors.New("unknown scope")

// Options configure the API.
type Options struct {
	Store store.Store
	// Tokens are the accepted bearer tokens (none: every request but
	// /healthz is refused).
	Tokens []string
	// Scopes lists the configured scopes.
	Scopes func() []ScopeView
	// Trigger asks for a sweep of a scope now; it returns false if one is
	// already running or queued, ErrUnknownScope for an unknown scope.
	Trigger func(scope string) (queued bool, err error)
	// Metrics is the registry served on /metrics (nil: no /metrics).
	Metrics *prometheus.Registry
	// PublicMetrics serves /metrics without a token.
	PublicMetrics bool
	Logger        *slog.Logger
	// Report holds the free text of incident reports (controller, DPO,
	// measures: config report:) for /api/v1/findings/{id}/report.
	Report report.Options
	// Session, if set, also accepts a request without a bearer token when
	// it returns true (the dashboard's session cookie). It is asked for
	// GET and HEAD requests only, so a cookie can never change state.
	Session func(r *http.Request) bool
	// Cluster, if set (serve as a cluster coordinator), reads the cluster's
	// state for GET /api/v1/cluster: workers, sites, queue depth,
	// redeliveries, parked work items with their errors, the active
	// coordinator. Unset: the endpoint answers 404.
	Cluster func(ctx context.Context) (any, error)
}

// Tokens are accepted bearer tokens, kept as SHA-256 digests.
type Tokens [][32]byte

// NewTokens digests the non-empty tokens.
func NewTokens(tokens []string) Tokens {
	var out Tokens
	for _, t := range tokens {
		if t != "" {
			out = append(out, sha256.Sum256([]byte(t)))
		}
	}
	return out
}

// Match returns the 1-based index of the token tok is, or 0, in constant
// time over the tokens' content (digests are compared, so their lengths do
// not leak either).
func (ts Tokens) Match(tok string) int {
	got := sha256.Sum256([]byte(tok))
	idx := 0
	for i := range ts {
		eq := subtle.ConstantTimeCompare(got[:], ts[i][:])
		idx = subtle.ConstantTimeSelect(eq, i+1, idx)
	}
	return idx
}

// Server is the API's http.Handler.
type Server struct {
	o      Options
	tokens Tokens
	mux    *http.ServeMux
}

// New makes the handler.
func New(o Options) *Server {
	s := &Server{o: o, mux: http.NewServeMux(), tokens: NewTokens(o.Tokens)}
	if s.o.Logger == nil {
		s.o.Logger = slog.New(slog.DiscardHandler)
	}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if o.Metrics != nil {
		h := promhttp.HandlerFor(o.Metrics, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
		if o.PublicMetrics {
			s.mux.Handle("GET /metrics", h)
		} else {
			s.mux.Handle("GET /metrics", s.auth(h))
		}
	}
	s.mux.Handle("GET /api/v1/findings", s.auth(http.HandlerFunc(s.listFindings)))
	s.mux.Handle("GET /api/v1/findings/{id}", s.auth(http.HandlerFunc(s.getFinding)))
	s.mux.Handle("GET /api/v1/findings/{id}/report", s.auth(http.HandlerFunc(s.getReport)))
	s.mux.Handle("GET /api/v1/scopes", s.auth(http.HandlerFunc(s.listScopes)))
	s.mux.Handle("GET /api/v1/scans", s.auth(http.HandlerFunc(s.listScans)))
	s.mux.Handle("POST /api/v1/scans", s.auth(http.HandlerFunc(s.triggerScan)))
	s.mux.Handle("GET /api/v1/alerts", s.auth(http.HandlerFunc(s.listAlerts)))
	s.mux.Handle("GET /api/v1/cluster", s.auth(http.HandlerFunc(s.clusterStatus)))
	s.mux.Handle("/", s.auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	})))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	s.mux.ServeHTTP(w, r)
}

// auth refuses requests without a valid bearer token: 401, in constant
// time over the token's content (tokens are compared as SHA-256 digests,
// so their lengths do not leak either).
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leakwatch"`)
			writeErr(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) authorized(r *http.Request) bool {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		safe := r.Method == http.MethodGet || r.Method == http.MethodHead
		return safe && s.o.Session != nil && s.o.Session(r)
	}
	return s.tokens.Match(strings.TrimSpace(tok)) > 0
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.o.Store != nil {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if _, err := s.o.Store.SchemaVersion(ctx); err != nil {
			writeErr(w, http.StatusServiceUnavailable, "store unavailable")
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) listFindings(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.FindingFilter{
		Scope: q.Get("scope"), Service: q.Get("service"), Host: q.Get("host"),
		MinSeverity: finding.Severity(q.Get("severity")),
	}
	switch st := q.Get("status"); st {
	case "", "all":
	case "open":
		f.Status = store.FilterOpen
	case "closed":
		f.Status = store.FilterClosed
	case "out-of-scope":
		f.Status = store.FilterOutOfScope
	case "changed", "reopened":
		f.Statuses = []lifecycle.Status{lifecycle.Status(st)}
	default:
		writeErr(w, http.StatusBadRequest, "status must be open, closed, changed, reopened, out-of-scope or all")
		return
	}
	if f.MinSeverity != "" && f.MinSeverity.Rank() == 0 && f.MinSeverity != finding.SeverityInfo {
		writeErr(w, http.StatusBadRequest, "severity must be info, low, medium, high or critical")
		return
	}
	limit, ok := intParam(w, q.Get("limit"), 1000)
	if !ok {
		return
	}
	f.Limit = limit
	list, err := s.o.Store.ListFindings(r.Context(), f)
	if err != nil {
		s.internal(w, "list findings", err)
		return
	}
	if list == nil {
		list = []store.Finding{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"findings": list, "count": len(list)})
}

func (s *Server) getFinding(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	limit, ok := intParam(w, r.URL.Query().Get("limit"), 500)
	if !ok {
		return
	}
	if d, ok := s.detail(w, r, id, store.TimelineQuery{Limit: limit}); ok {
		writeJSON(w, http.StatusOK, d)
	}
}

// detail reads one finding by id or unique id prefix (at least 4
// characters), writing the error response itself when it fails.
func (s *Server) detail(w http.ResponseWriter, r *http.Request, id string, tq store.TimelineQuery) (*store.FindingDetail, bool) {
	d, err := s.o.Store.GetFinding(r.Context(), id, tq)
	if errors.Is(err, store.ErrNotFound) && len(id) >= 4 {
		// A unique prefix, as `leakwatch show` accepts.
		list, lerr := s.o.Store.ListFindings(r.Context(), store.FindingFilter{IDPrefix: id, Limit: 2})
		if lerr == nil && len(list) == 1 {
			d, err = s.o.Store.GetFinding(r.Context(), list[0].ID, tq)
		} else if lerr == nil && len(list) > 1 {
			writeErr(w, http.StatusConflict, "id prefix %q is ambiguous", id)
			return nil, false
		}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeErr(w, http.StatusNotFound, "no finding %q", id)
		return nil, false
	case err != nil:
		s.internal(w, "get finding", err)
		return nil, false
	}
	return d, true
}

// reportTypes are the content types of the report formats.
var reportTypes = map[string]string{
	"md":   "text/markdown; charset=utf-8",
	"html": "text/html; charset=utf-8",
	"json": "application/json; charset=utf-8",
}

// getReport serves a finding's incident report (?format=md|html|json,
// default json) built from its whole history.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	if format == "markdown" {
		format = "md"
	}
	ctype, ok := reportTypes[format]
	if !ok {
		writeErr(w, http.StatusBadRequest, "format must be md, html or json")
		return
	}
	d, ok := s.detail(w, r, r.PathValue("id"), store.TimelineQuery{})
	if !ok {
		return
	}
	o := s.o.Report
	o.Now = time.Time{}
	var buf bytes.Buffer
	if err := report.Write(&buf, format, report.Build(d, o)); err != nil {
		s.internal(w, "render report", err)
		return
	}
	w.Header().Set("Content-Type", ctype)
	// The HTML report is self-contained: forbid anything it might load.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

func (s *Server) listScopes(w http.ResponseWriter, r *http.Request) {
	var views []ScopeView
	if s.o.Scopes != nil {
		views = s.o.Scopes()
	}
	for i := range views {
		runs, err := s.o.Store.ListScans(r.Context(), store.ScanFilter{Scope: views[i].Name, Limit: 1})
		if err == nil && len(runs) > 0 {
			views[i].LastScan = &runs[0]
		}
		open, err := s.o.Store.ListFindings(r.Context(), store.FindingFilter{Scope: views[i].Name, Status: store.FilterOpen})
		if err == nil {
			views[i].OpenFindings = len(open)
		}
	}
	if views == nil {
		views = []ScopeView{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"scopes": views})
}

func (s *Server) clusterStatus(w http.ResponseWriter, r *http.Request) {
	if s.o.Cluster == nil {
		writeErr(w, http.StatusNotFound, "not a cluster coordinator (no cluster: section)")
		return
	}
	st, err := s.o.Cluster(r.Context())
	if err != nil {
		s.internal(w, "cluster status", err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listScans(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), 100)
	if !ok {
		return
	}
	runs, err := s.o.Store.ListScans(r.Context(), store.ScanFilter{Scope: q.Get("scope"), Status: store.ScanStatus(q.Get("status")), Limit: limit})
	if err != nil {
		s.internal(w, "list scans", err)
		return
	}
	if runs == nil {
		runs = []store.ScanRun{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"scans": runs})
}

// triggerScan: POST {"scope":"lab"} → 202 queued, 200 already running,
// 404 unknown scope.
func (s *Server) triggerScan(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Scope string `json:"scope"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || req.Scope == "" {
		writeErr(w, http.StatusBadRequest, `want a JSON body {"scope":"NAME"}`)
		return
	}
	if s.o.Trigger == nil {
		writeErr(w, http.StatusServiceUnavailable, "scans cannot be triggered here")
		return
	}
	queued, err := s.o.Trigger(req.Scope)
	switch {
	case errors.Is(err, ErrUnknownScope):
		writeErr(w, http.StatusNotFound, "no scope %q", req.Scope)
	case err != nil:
		s.internal(w, "trigger scan", err)
	case queued:
		writeJSON(w, http.StatusAccepted, map[string]any{"scope": req.Scope, "queued": true})
	default:
		writeJSON(w, http.StatusOK, map[string]any{"scope": req.Scope, "queued": false, "reason": "a sweep of this scope is already running or queued"})
	}
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := intParam(w, q.Get("limit"), 100)
	if !ok {
		return
	}
	list, err := s.o.Store.ListAlerts(r.Context(), store.AlertFilter{
		State: store.AlertState(q.Get("state")), Route: q.Get("notifier"), FindingID: q.Get("finding"), Limit: limit,
	})
	if err != nil {
		s.internal(w, "list alerts", err)
		return
	}
	if list == nil {
		list = []store.Alert{}
	}
	// The outbox holds the event's finding snapshot; the API shows the
	// event without it (GET /api/v1/findings/{id} has the finding).
	for i := range list {
		list[i].Event.Finding = nil
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": list})
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.o.Logger.Error("api: "+what, "err", err)
	writeErr(w, http.StatusInternalServerError, "%s failed", what)
}

func intParam(w http.ResponseWriter, v string, def int) (int, bool) {
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100000 {
		writeErr(w, http.StatusBadRequest, "limit must be a number from 1 to 100000")
		return 0, false
	}
	return n, true
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeErr(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// Listen opens the API's listener. addr must name a host: an empty host
// (":8787") would listen on every interface.
func Listen(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("api: listen address %q: %w", addr, err)
	}
	if host == "" {
		return nil, fmt.Errorf("api: listen address %q names no host; use 127.0.0.1:PORT for loopback", addr)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	return l, nil
}

// Serve runs the API on l until ctx ends, then shuts down gracefully.
func Serve(ctx context.Context, l net.Listener, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-errc
	return nil
}
