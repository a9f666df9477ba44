package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/postgres"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const testToken = "dashboard-test-token-0123456789"

// hostile is text a scanned server chose: markup, an attribute break-out
// and terminal escape sequences.
const hostile = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>\x1b[31m\x1b]0;pwn\x07"

type env struct {
	st    store.Store
	d     *Dashboard
	srv   *httptest.Server
	id    string // an open finding with hostile names
	trig  []string
	tls   bool
	token string
}

// newEnv is a SQLite store with an open finding whose dataset names,
// fields and examples are hostile, a closed one, and the dashboard mounted
// beside the API.
func newEnv(t *testing.T, tlsOn bool) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return newEnvOn(t, st, tlsOn)
}

// newEnvOn is newEnv on a given (empty) store.
func newEnvOn(t *testing.T, st store.Store, tlsOn bool) *env {
	t.Helper()
	ctx := context.Background()
	var err error
	t.Cleanup(func() { st.Close() })
	e := &env{st: st, tls: tlsOn}
	now := time.Now().UTC()
	tg := finding.Target{Host: "127.0.0.9", Port: 6379, Hostname: hostile}
	f := &finding.Finding{Target: tg, Service: "redis", Product: "redis", Version: hostile,
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: now.Add(-time.Hour),
		Datasets: []finding.Dataset{{Name: hostile, Kind: "keyspace", Records: finding.Int64(1200), Sampled: 10,
			Classes: []finding.ClassCount{{Class: "email", Sampled: 10, Matched: 10, Source: "values", Examples: []string{hostile}}}}}}
	f.Finalize()
	e.id = f.ID
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
	g := &finding.Finding{Target: finding.Target{Host: "127.0.0.10", Port: 9200}, Service: "elasticsearch",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: now.Add(-2 * time.Hour),
		Datasets: []finding.Dataset{{Name: "customers", Kind: "index", Records: finding.Int64(50)}}}
	g.Finalize()
	record(lifecycle.FromFinding(g, "lab"))
	record(lifecycle.Gone(g.Target, "elasticsearch", now.Add(-90*time.Minute), "connection refused", "lab"))
	record(lifecycle.Gone(g.Target, "elasticsearch", now.Add(-80*time.Minute), "connection refused", "lab"))

	scopes := func() []api.ScopeView {
		return []api.ScopeView{{Name: "lab", Targets: []string{"127.0.0.0/24"}, Ports: []int{6379}, Cadence: "1m", Recheck: "10s"}}
	}
	trigger := func(s string) (bool, error) {
		if s != "lab" {
			return false, api.ErrUnknownScope
		}
		e.trig = append(e.trig, s)
		return true, nil
	}
	e.d, err = New(Options{Store: st, Tokens: []string{"other-token-0123456789", testToken}, Scopes: scopes, Trigger: trigger, Poll: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h := Mount(api.New(api.Options{Store: st, Tokens: []string{testToken}, Scopes: scopes, Trigger: trigger, Session: e.d.Session}), e.d)
	if tlsOn {
		e.srv = httptest.NewTLSServer(h)
	} else {
		e.srv = httptest.NewServer(h)
	}
	t.Cleanup(e.srv.Close)
	return e
}

// client is a cookie-keeping client that does not follow redirects.
func (e *env) client(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	cc := *e.srv.Client()
	c := &cc
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func do(t *testing.T, c *http.Client, method, u string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// login logs c in and returns the session cookie as the server set it.
func (e *env) login(t *testing.T, c *http.Client) *http.Cookie {
	t.Helper()
	resp, _ := do(t, c, "POST", e.srv.URL+"/ui/login", url.Values{"token": {testToken}, "next": {"/ui/findings"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/findings" {
		t.Fatalf("login: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == CookieName {
			return ck
		}
	}
	t.Fatal("login set no session cookie")
	return nil
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("page has no CSRF token")
	}
	return m[1]
}

// TestAuth: no session → login page; a wrong token is refused with no
// cookie; the cookie is HttpOnly, SameSite=Strict, Secure only over TLS;
// state-changing requests without (or with a wrong, or cross-site) CSRF
// token are 403; the session opens GET API links but never a POST.
func TestAuth(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := map[bool]string{false: "http", true: "https"}[tlsOn]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, tlsOn)
			c := e.client(t)
			for _, p := range []string{"/ui/", "/ui/findings", "/ui/findings/" + e.id} {
				resp, _ := do(t, c, "GET", e.srv.URL+p, nil)
				if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/ui/login?next=") {
					t.Errorf("GET %s without session: %d → %q, want the login page", p, resp.StatusCode, loc)
				}
			}
			if resp, _ := do(t, c, "GET", e.srv.URL+"/", nil); resp.Header.Get("Location") != "/ui/" {
				t.Errorf("GET /: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			resp, body := do(t, c, "GET", e.srv.URL+"/ui/login", nil)
			if resp.StatusCode != 200 || !strings.Contains(body, `<label for="token">`) || !strings.Contains(body, `type="password"`) {
				t.Errorf("login page: %d\n%s", resp.StatusCode, body)
			}
			if resp, _ := do(t, c, "GET", e.srv.URL+"/ui/events", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("events without session: %d", resp.StatusCode)
			}
			if resp, _ := do(t, c, "POST", e.srv.URL+"/ui/scans", url.Values{"scope": {"lab"}}); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("POST /ui/scans without session: %d", resp.StatusCode)
			}
			// Wrong token.
			resp, body = do(t, c, "POST", e.srv.URL+"/ui/login", url.Values{"token": {testToken + "x"}})
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "refused") || len(resp.Cookies()) != 0 {
				t.Errorf("wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
			}
			// Cross-site login.
			if resp, _ := do(t, c, "POST", e.srv.URL+"/ui/login", url.Values{"token": {testToken}}, "Origin", "http://evil.example"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-site login: %d", resp.StatusCode)
			}
			// Open redirect after login is refused.
			if resp, _ := do(t, c, "POST", e.srv.URL+"/ui/login", url.Values{"token": {testToken}, "next": {"//evil.example/ui/"}}); resp.Header.Get("Location") != "/ui/" {
				t.Errorf("next=//evil.example: → %q", resp.Header.Get("Location"))
			}
			c = e.client(t)
			ck := e.login(t, c)
			raw := ""
			for _, l := range func() []string {
				r, _ := do(t, e.client(t), "POST", e.srv.URL+"/ui/login", url.Values{"token": {testToken}})
				return r.Header.Values("Set-Cookie")
			}() {
				raw += l
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure != tlsOn || len(ck.Value) < 40 {
				t.Errorf("cookie %+v (raw %q): want HttpOnly, SameSite=Strict, Path=/, Secure=%v", ck, raw, tlsOn)
			}
			if !strings.Contains(raw, "HttpOnly") || !strings.Contains(raw, "SameSite=Strict") || strings.Contains(raw, "Secure") != tlsOn {
				t.Errorf("Set-Cookie %q", raw)
			}
			resp, body = do(t, c, "GET", e.srv.URL+"/ui/findings/"+e.id, nil)
			if resp.StatusCode != 200 {
				t.Fatalf("detail: %d", resp.StatusCode)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp != CSP || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q", csp)
			}
			token := csrfOf(t, body)
			ack := e.srv.URL + "/ui/findings/" + e.id + "/ack"
			for name, form := range map[string]url.Values{
				"missing": {"note": {"n"}},
				"wrong":   {"note": {"n"}, "csrf": {token + "x"}},
				"empty":   {"note": {"n"}, "csrf": {""}},
			} {
				if resp, _ := do(t, c, "POST", ack, form); resp.StatusCode != http.StatusForbidden {
					t.Errorf("ack with %s CSRF token: %d, want 403", name, resp.StatusCode)
				}
			}
			if resp, _ := do(t, c, "POST", ack, url.Values{"note": {"n"}, "csrf": {token}}, "Origin", "http://evil.example"); resp.StatusCode != http.StatusForbidden {
				t.Errorf("cross-origin ack: %d", resp.StatusCode)
			}
			for _, p := range []string{"/ui/scans", "/ui/logout"} {
				if resp, _ := do(t, c, "POST", e.srv.URL+p, url.Values{"scope": {"lab"}}); resp.StatusCode != http.StatusForbidden {
					t.Errorf("POST %s without CSRF: %d", p, resp.StatusCode)
				}
			}
			if acks, _ := e.st.ListAcknowledgements(context.Background(), store.AckFilter{}); len(acks) != 0 || len(e.trig) != 0 {
				t.Fatalf("refused requests changed state: %d acks, %d triggers", len(acks), len(e.trig))
			}
			// With the token they work.
			resp, _ = do(t, c, "POST", ack, url.Values{"note": {"firewall rule added"}, "assignee": {"alice"}, "csrf": {token}}, "Origin", e.srv.URL)
			if resp.StatusCode != http.StatusSeeOther {
				t.Errorf("ack: %d", resp.StatusCode)
			}
			acks, _ := e.st.ListAcknowledgements(context.Background(), store.AckFilter{FindingID: e.id})
			if len(acks) != 1 || acks[0].Note != "firewall rule added" || acks[0].Assignee != "alice" || acks[0].By != "token 2" {
				t.Errorf("acks %+v", acks)
			}
			if resp, _ := do(t, c, "POST", e.srv.URL+"/ui/scans", url.Values{"scope": {"lab"}, "csrf": {token}}); resp.StatusCode != http.StatusSeeOther || len(e.trig) != 1 {
				t.Errorf("trigger: %d, %v", resp.StatusCode, e.trig)
			}
			// The session opens the API's GET links (report, raw JSON) but
			// no POST.
			if resp, _ := do(t, c, "GET", e.srv.URL+"/api/v1/findings/"+e.id+"/report?format=html", nil); resp.StatusCode != 200 {
				t.Errorf("report with session: %d", resp.StatusCode)
			}
			if resp, _ := do(t, c, "POST", e.srv.URL+"/api/v1/scans", nil, "Content-Type", "application/json"); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("API POST with only a session cookie: %d, want 401", resp.StatusCode)
			}
			if resp, _ := do(t, e.client(t), "GET", e.srv.URL+"/api/v1/findings", nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("API GET without session or token: %d", resp.StatusCode)
			}
			// Logout ends the session.
			if resp, _ := do(t, c, "POST", e.srv.URL+"/ui/logout", url.Values{"csrf": {token}}); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("logout: %d", resp.StatusCode)
			}
			if resp, _ := do(t, c, "GET", e.srv.URL+"/ui/", nil); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("after logout: %d", resp.StatusCode)
			}
		})
	}
}

// TestEscaping: every page shows the hostile names as text: no markup
// from the store reaches a page unescaped, and no page has an inline
// script, style or event handler.
func TestEscaping(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	e.login(t, c)
	for _, p := range []string{"/ui/", "/ui/findings", "/ui/findings?status=all&q=script", "/ui/findings/" + e.id, "/ui/findings?class=%3Cscript%3E"} {
		resp, body := do(t, c, "GET", e.srv.URL+p, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, "\x1b") {
			t.Errorf("GET %s: hostile text unescaped", p)
		}
		for _, bad := range inlineContent(t, body) {
			t.Errorf("GET %s: %s", p, bad)
		}
	}
	_, body := do(t, c, "GET", e.srv.URL+"/ui/findings/"+e.id, nil)
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("detail page does not show the dataset name as text")
	}
	_, body = do(t, c, "GET", e.srv.URL+"/ui/findings?status=all&q=SCRIPT", nil)
	if !strings.Contains(body, "1–1 of 1") {
		t.Errorf("text search on a dataset name: %s", regexp.MustCompile(`(?s)<p class="count".*?</p>`).FindString(body))
	}
}

// TestAccessibleMarkup: every page declares its language and title, every
// visible form control has a label, tables have header cells with a scope,
// charts are images with a text alternative, and a skip link leads to main.
func TestAccessibleMarkup(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	_, login := do(t, c, "GET", e.srv.URL+"/ui/login", nil)
	e.login(t, c)
	pages := map[string]string{"login": login}
	for _, p := range []string{"/ui/", "/ui/findings?status=all", "/ui/findings/" + e.id} {
		_, pages[p] = do(t, c, "GET", e.srv.URL+p, nil)
	}
	for name, page := range pages {
		doc, err := html.Parse(strings.NewReader(page))
		if err != nil {
			t.Fatal(err)
		}
		labels := map[string]bool{}
		var controls []*html.Node
		var problems []string
		attr := func(n *html.Node, k string) string {
			for _, a := range n.Attr {
				if a.Key == k {
					return a.Val
				}
			}
			return ""
		}
		var walk func(n *html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "html":
					if attr(n, "lang") == "" {
						problems = append(problems, "no lang")
					}
				case "label":
					labels[attr(n, "for")] = true
				case "input", "select", "textarea":
					if attr(n, "type") != "hidden" {
						controls = append(controls, n)
					}
				case "th":
					if p := n.Parent; p != nil && p.Data == "tr" && attr(n, "scope") == "" {
						problems = append(problems, "th without scope")
					}
				case "svg":
					if attr(n, "role") != "img" || attr(n, "aria-labelledby") == "" {
						problems = append(problems, "svg without role=img and a label")
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		for _, c := range controls {
			if id := attr(c, "id"); (id == "" || !labels[id]) && attr(c, "aria-label") == "" {
				problems = append(problems, "unlabelled "+c.Data+" "+attr(c, "name"))
			}
		}
		if name != "login" && !strings.Contains(page, `href="#main"`) {
			problems = append(problems, "no skip link")
		}
		if !strings.Contains(page, "<title>") {
			problems = append(problems, "no title")
		}
		for _, p := range problems {
			t.Errorf("%s: %s", name, p)
		}
	}
}

// TestPostgresBackend: every page, the live stream and an
// acknowledgement on a real PostgreSQL history.
func TestPostgresBackend(t *testing.T) {
	srv := testenv.StartPostgres(t, testenv.PostgresOptions{})
	st, err := postgres.Open(context.Background(), srv.URL(srv.NewDatabase(t)), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, st, false)
	c := e.client(t)
	e.login(t, c)
	var token string
	for _, p := range []string{"/ui/", "/ui/findings?status=all&q=script", "/ui/findings/" + e.id} {
		resp, body := do(t, c, "GET", e.srv.URL+p, nil)
		if resp.StatusCode != 200 || strings.Contains(body, "<script>alert") {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		token = csrfOf(t, body)
	}
	resp, _ := do(t, c, "POST", e.srv.URL+"/ui/findings/"+e.id+"/ack", url.Values{"note": {"seen"}, "csrf": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	if _, body := do(t, c, "GET", e.srv.URL+"/ui/findings/"+e.id, nil); !strings.Contains(body, "<blockquote>seen</blockquote>") {
		t.Error("the acknowledgement is not on the page")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/ui/events?after=0", nil)
	sresp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	buf := make([]byte, 64<<10)
	var got string
	for !strings.Contains(got, `"kind":"closed"`) {
		n, err := sresp.Body.Read(buf)
		got += string(buf[:n])
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got)
		}
	}
}

// TestEventsStream: the live stream sends the events after ?after= and
// then new ones as they are recorded (woken by Notify).
func TestEventsStream(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	e.login(t, c)
	c.Timeout = 0
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/ui/events?after=0", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	got := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		var acc string
		for {
			n, err := resp.Body.Read(buf)
			acc += string(buf[:n])
			for {
				i := strings.Index(acc, "\n\n")
				if i < 0 {
					break
				}
				got <- acc[:i]
				acc = acc[i+2:]
			}
			if err != nil {
				close(got)
				return
			}
		}
	}()
	want := func(substr string) {
		t.Helper()
		for {
			select {
			case m, ok := <-got:
				if !ok {
					t.Fatalf("stream ended before %q", substr)
				}
				if strings.Contains(m, substr) {
					if strings.Contains(m, "<script>") {
						t.Errorf("event data carries raw markup: %s", m)
					}
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q on the stream", substr)
			}
		}
	}
	want(`"kind":"opened","finding_id":"` + e.id)
	want(`"kind":"closed"`)
	// A new finding, recorded now, arrives.
	f := &finding.Finding{Target: finding.Target{Host: "127.0.0.11", Port: 27017}, Service: "mongodb",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: time.Now().UTC()}
	f.Finalize()
	run, _ := e.st.BeginScan(ctx, "lab")
	if _, err := e.st.RecordObservation(ctx, run.ID, lifecycle.FromFinding(f, "lab")); err != nil {
		t.Fatal(err)
	}
	e.d.Notify()
	want(`"finding_id":"` + f.ID)
}

// TestAssets: the script and style sheet are served with their types;
// their total is what the README states (< 300 KB).
func TestAssets(t *testing.T) {
	e := newEnv(t, false)
	c := e.client(t)
	for _, f := range []struct{ path, ctype string }{{"/ui/static/app.js", "text/javascript"}, {"/ui/static/app.css", "text/css"}} {
		resp, body := do(t, c, "GET", e.srv.URL+f.path, nil)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), f.ctype) || len(body) == 0 {
			t.Errorf("%s: %d %q", f.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	js, css, err := AssetBytes()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("JS %d bytes, CSS %d bytes, total %d bytes", js, css, js+css)
	if js+css >= 300<<10 {
		t.Errorf("JS+CSS %d bytes, budget 300 KB", js+css)
	}
}

// inlineContent parses a page and lists what a strict CSP would block or
// what only injected markup would have: inline scripts, style elements and
// attributes, event-handler attributes, images, and scripts from
// elsewhere.
func inlineContent(t *testing.T, page string) []string {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script":
				src := ""
				for _, a := range n.Attr {
					if a.Key == "src" {
						src = a.Val
					}
				}
				if !strings.HasPrefix(src, "/ui/static/") || n.FirstChild != nil {
					bad = append(bad, "script "+src)
				}
			case "style", "img", "iframe", "object", "embed":
				bad = append(bad, "element "+n.Data)
			}
			for _, a := range n.Attr {
				if a.Key == "style" || strings.HasPrefix(a.Key, "on") {
					bad = append(bad, "attribute "+a.Key+" on "+n.Data)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}
