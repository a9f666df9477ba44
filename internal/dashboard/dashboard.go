// Package dashboard is the web dashboard of `leakwatch serve`, served on
// the API's listener under /ui/:
//
//	GET  /ui/                    overview: open exposures by severity, records and subjects
//	                             at risk, class × store matrix, 30-day exposure windows,
//	                             coverage per scope, notifier health, and (serve as
//	                             a cluster coordinator) the cluster: coordinator,
//	                             workers per site, queues, parked work items
//	GET  /ui/findings            findings table (server-side filter, sort, pages)
//	GET  /ui/findings/{id}       one finding: identity, datasets, classes, timeline, chart,
//	                             access evidence, acknowledgements
//	POST /ui/findings/{id}/ack   acknowledge / assign with a note (CSRF token)
//	POST /ui/scans               trigger a sweep of a scope (CSRF token)
//	GET  /ui/events              Server-Sent Events: the store's lifecycle events
//	GET  /ui/login, POST /ui/login, POST /ui/logout
//	POST /ui/csp-report          Content-Security-Policy violation reports (logged)
//	GET  /ui/static/{file}       the embedded script and style sheet
//
// Pages are html/template rendered on the server (every value from a
// scanned server is escaped as text), charts are SVG drawn on the server,
// and one small hand-written script (assets/app.js) swaps the live regions
// of the page when an event arrives. Nothing is fetched from elsewhere; the
// Content-Security-Policy allows scripts, styles and connections from the
// dashboard's own origin only (no inline script or style).
//
// Authentication: an API bearer token, given once at the login form, is
// exchanged for a random session id in an HttpOnly, SameSite=Strict cookie
// (Secure when the request came over TLS or Options.SecureCookie is set).
// Every state-changing request carries the session's CSRF token.
package dashboard

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// CSP is the dashboard's Content-Security-Policy.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; report-uri /ui/csp-report"

// Options configure the dashboard.
type Options struct {
	Store store.Store
	// Tokens are the API's bearer tokens; each can log in.
	Tokens []string
	// Scopes lists the configured scopes (coverage, sweep trigger).
	Scopes func() []api.ScopeView
	// Endpoints, if set, is the number of endpoints (host:port) a scope
	// sweeps.
	Endpoints func(scope string) int
	// Trigger asks for a sweep of a scope now (see api.Options.Trigger).
	Trigger func(scope string) (queued bool, err error)
	// Cluster, if set (serve as a cluster coordinator), reads the
	// cluster's status for the overview's cluster section (active
	// coordinator, workers per site, queues, parked work items); unset, the
	// section is absent. Parked errors are scrubbed here.
	Cluster func(ctx context.Context) (cluster.Status, error)
	// Chunk is the cluster's work item size in endpoints (config
	// cluster.chunk), to show which endpoints a parked item held.
	Chunk int
	// ClusterRefresh is how often an open overview reloads its cluster
	// section (default 10s; whole seconds): queues and parked items
	// change without lifecycle events.
	ClusterRefresh time.Duration
	// SecureCookie sets the cookie's Secure flag on every response (it is
	// set anyway on requests that came over TLS).
	SecureCookie bool
	// SessionTTL is how long a login lasts (default 12h).
	SessionTTL time.Duration
	// Poll is how often a live stream looks for events written by another
	// process sharing the store (default 5s); events of this process wake
	// streams at once through Notify.
	Poll   time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Dashboard is the dashboard's http.Handler.
type Dashboard struct {
	o        Options
	tokens   api.Tokens
	mux      *http.ServeMux
	tmpl     *template.Template
	assets   map[string]asset
	sessions *sessions
	bell     *bell
	streams  chan struct{} // live-stream slots
	cspMu    sync.Mutex
	csp      []string // recent violation reports (bounded)
	cache    findingCache
}

// maxStreams bounds concurrent live streams.
const maxStreams = 64

// New builds the dashboard.
func New(o Options) (*Dashboard, error) {
	if o.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.ClusterRefresh < time.Second {
		o.ClusterRefresh = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Scopes == nil {
		o.Scopes = func() []api.ScopeView { return nil }
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: templates: %w", err)
	}
	assets, err := loadAssets(assetFS)
	if err != nil {
		return nil, err
	}
	d := &Dashboard{
		o: o, tokens: api.NewTokens(o.Tokens), mux: http.NewServeMux(), tmpl: tmpl, assets: assets,
		sessions: newSessions(o.SessionTTL, o.Now), bell: newBell(), streams: make(chan struct{}, maxStreams),
	}
	d.mux.HandleFunc("GET /ui/login", d.loginPage)
	d.mux.HandleFunc("POST /ui/login", d.login)
	d.mux.HandleFunc("POST /ui/csp-report", d.cspReport)
	d.mux.HandleFunc("GET /ui/static/{file}", d.static)
	d.mux.Handle("POST /ui/logout", d.auth(d.csrf(http.HandlerFunc(d.logout))))
	d.mux.Handle("GET /ui/{$}", d.auth(http.HandlerFunc(d.overview)))
	d.mux.Handle("GET /ui/findings", d.auth(http.HandlerFunc(d.findings)))
	d.mux.Handle("GET /ui/findings/{id}", d.auth(http.HandlerFunc(d.detail)))
	d.mux.Handle("POST /ui/findings/{id}/ack", d.auth(d.csrf(http.HandlerFunc(d.acknowledge))))
	d.mux.Handle("POST /ui/scans", d.auth(d.csrf(http.HandlerFunc(d.triggerScan))))
	d.mux.Handle("GET /ui/events", d.auth(http.HandlerFunc(d.events)))
	d.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		d.plain(w, http.StatusNotFound, "no such page")
	})
	return d, nil
}

// Mount serves the dashboard under /ui/ (and redirects / to it) beside the
// API handler, which keeps every other path.
func Mount(apiHandler http.Handler, d *Dashboard) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	mux.Handle("/ui/", d)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
	})
	return mux
}

// Notify wakes the live streams: call it after observations produced
// lifecycle events (the monitor's OnEvents, beside the alert dispatcher).
func (d *Dashboard) Notify() { d.bell.ring() }

// Warm reads every finding into the dashboard's cache, so that the first
// page after a start does not wait for it. Errors are logged; the first
// page tries again.
func (d *Dashboard) Warm(ctx context.Context) {
	if _, err := d.cache.findings(ctx, d.o.Store); err != nil && ctx.Err() == nil {
		d.o.Logger.Warn("dashboard: reading the findings", "err", err)
	}
}

// Session tells whether r carries a valid dashboard session (for
// api.Options.Session: the report and raw JSON links of a finding).
func (d *Dashboard) Session(r *http.Request) bool {
	_, ok := d.sessions.get(r)
	return ok
}

// CSPReports returns the violation reports received so far (newest last,
// at most 100).
func (d *Dashboard) CSPReports() []string {
	d.cspMu.Lock()
	defer d.cspMu.Unlock()
	return append([]string(nil), d.csp...)
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if !strings.HasPrefix(r.URL.Path, "/ui/static/") {
		h.Set("Cache-Control", "no-store")
	}
	d.mux.ServeHTTP(w, r)
}

// render executes a page template into a buffer first, so a failing
// template gives a clean 500 instead of half a page.
func (d *Dashboard) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		d.o.Logger.Error("dashboard: render", "page", name, "err", err)
		d.plain(w, http.StatusInternalServerError, "the page could not be rendered")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(visibleControls(buf.Bytes()))
}

// visibleControls replaces the C0 control characters (but tab and line
// ends) and DEL in a rendered page with their Unicode control pictures
// (ESC → ␛): a terminal escape sequence in a name a scanned server chose
// shows as text. Markup never holds them, so the page is otherwise as
// rendered.
func visibleControls(b []byte) []byte {
	clean := true
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return b
	}
	out := make([]byte, 0, len(b)+64)
	for _, c := range b {
		switch {
		case c == 0x7f:
			out = append(out, "\u2421"...)
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			out = utf8.AppendRune(out, rune(0x2400+int(c)))
		default:
			out = append(out, c)
		}
	}
	return out
}

// plain answers with a short text message.
func (d *Dashboard) plain(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = fmt.Fprintln(w, msg)
}

func (d *Dashboard) internal(w http.ResponseWriter, what string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	d.o.Logger.Error("dashboard: "+what, "err", err)
	d.plain(w, http.StatusInternalServerError, what+" failed")
}

// asset is one embedded static file.
type asset struct {
	body  []byte
	ctype string
	etag  string
}

func loadAssets(fsys fs.FS) (map[string]asset, error) {
	out := map[string]asset{}
	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
	err := fs.WalkDir(fsys, "assets", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, path)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(path, "assets/")
		ext := name[strings.LastIndexByte(name, '.'):]
		out[name] = asset{body: b, ctype: types[ext], etag: fmt.Sprintf(`"%x"`, hash8(b))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: assets: %w", err)
	}
	return out, nil
}

// AssetBytes is the size of the script and style sheets a page loads.
func AssetBytes() (js, css int, err error) {
	as, err := loadAssets(assetFS)
	if err != nil {
		return 0, 0, err
	}
	for name, a := range as {
		switch {
		case strings.HasSuffix(name, ".js"):
			js += len(a.body)
		case strings.HasSuffix(name, ".css"):
			css += len(a.body)
		}
	}
	return js, css, nil
}

func (d *Dashboard) static(w http.ResponseWriter, r *http.Request) {
	a, ok := d.assets[r.PathValue("file")]
	if !ok || a.ctype == "" {
		d.plain(w, http.StatusNotFound, "no such file")
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	w.Header().Set("ETag", a.etag)
	w.Header().Set("Cache-Control", "no-cache")
	if r.Header.Get("If-None-Match") == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(a.body)
}
