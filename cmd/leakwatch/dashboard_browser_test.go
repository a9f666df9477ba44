package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// tab is a browser tab on a running serve's dashboard.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	dialogs []string
	console []string
}

// openTab opens a tab that records every JavaScript dialog (dismissing it)
// and every console message, including the browser's own log entries
// (Content-Security-Policy violations are reported there).
func openTab(t *testing.T, base string) *tab {
	t.Helper()
	tb := &tab{t: t, ctx: testenv.BrowserTab(t), base: base}
	dialogs := chromedp.Events(tb.ctx, page.JavascriptDialogOpening)
	console := chromedp.Console(tb.ctx)
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.dialogs = append(tb.dialogs, string(ev.Type)+": "+ev.Message)
			tb.mu.Unlock()
			_, _ = chromedp.Call(tb.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, string(m.Type)+": "+m.Text)
			tb.mu.Unlock()
		}
	}()
	return tb
}

// do runs actions with a generous bound (a loaded machine, -race).
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v\n%s", err, tb.text())
	}
}

// eval evaluates a JavaScript expression to a bool (false on error).
func (tb *tab) eval(js string) bool {
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	return err == nil && ok
}

// text is the page's visible text (for failure messages).
func (tb *tab) text() string {
	ctx, cancel := context.WithTimeout(tb.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(no page text: " + err.Error() + ")"
	}
	return tailString(s, 3000)
}

// waitFor polls js until it is true and returns how long that took.
func (tb *tab) waitFor(what, js string, timeout time.Duration) time.Duration {
	tb.t.Helper()
	start := time.Now()
	for !tb.eval(js) {
		if time.Since(start) > timeout {
			tb.t.Fatalf("%s: not within %s\n--- page ---\n%s", what, timeout, tb.text())
		}
		time.Sleep(150 * time.Millisecond)
	}
	return time.Since(start)
}

// screenshot writes a full-page PNG to the artifacts directory.
func (tb *tab) screenshot(name string) string {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 60*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(artifactsDir(tb.t), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("screenshot %s (%d bytes)", path, len(png))
	return path
}

func (tb *tab) problems() (dialogs, csp []string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, c := range tb.console {
		if strings.Contains(c, "Content Security Policy") || strings.Contains(c, "Refused to") {
			csp = append(csp, c)
		}
	}
	return append([]string(nil), tb.dialogs...), csp
}

// artifactsDir is $LEAKWATCH_ARTIFACTS, or leakwatch-artifacts in the temp
// directory; screenshots stay there after the run.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("LEAKWATCH_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "leakwatch-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// login goes through the login form with token.
func (tb *tab) login(token string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.base+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("token").value = ""`),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
}

// TestDashboardBrowser drives the dashboard of a real serve in Chromium:
// login (a wrong token refused, cookie flags), the overview, a real Redis
// that opens in the watched scope appears on the open findings page without
// a reload, its detail page, the Redis protected with requirepass shows it
// closed (live, on the detail page), an acknowledgement with a note;
// screenshots of overview, findings and detail; no dialog, no CSP report.
func TestDashboardBrowser(t *testing.T) {
	testenv.Binary(t, "redis-server")
	net24 := testenv.Subnet24(t)
	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := net.JoinHostPort(apiAddr.String(), strconv.Itoa(testenv.FreePort(t, apiAddr)))
	host, port := net24.Host(7), 6379
	if !testenv.PortFree(host, port) {
		t.Fatalf("6379 busy on %s", host)
	}
	s := startServe(t, t.TempDir(), serveConfig(api, h, "monitor: {cadence: 2s, recheck: 1s}",
		fmt.Sprintf("    targets: [%s]\n    ports: [%d]", net24.CIDR(), port)))
	base := "http://" + api
	s.waitHealthy(t, base)
	tb := openTab(t, base)

	// Login: a wrong token is refused, the right one opens the overview.
	tb.login(serveToken + "-wrong")
	tb.waitFor("login error", `!!document.getElementById("login-error") && document.getElementById("login-error").textContent.includes("refused")`, 60*time.Second)
	if tb.eval(`document.cookie.includes("leakwatch_session")`) {
		t.Error("a refused login left a session cookie")
	}
	tb.login(serveToken)
	tb.waitFor("overview after login", `!!document.querySelector("h1") && document.querySelector("h1").textContent === "Overview"`, 60*time.Second)
	cookies, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/ui/"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "leakwatch_session" {
			session = c
		}
	}
	if session == nil || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Secure || session.Path != "/" {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ (not Secure over plain HTTP)", session)
	}
	if tb.eval(`document.cookie.includes("leakwatch_session")`) {
		t.Error("the session cookie is readable from JavaScript")
	}
	// A state-changing request without the CSRF token is refused, from
	// the page itself.
	status, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](
		`fetch("/ui/scans", {method: "POST", body: new URLSearchParams({scope: "lab"})}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusForbidden {
		t.Errorf("POST /ui/scans without CSRF token from the page: %d, %v; want 403", status, err)
	}

	// The open findings page, live: Redis opens, its row appears.
	tb.do(chromedp.Navigate(base + "/ui/findings?status=open"))
	tb.waitFor("live stream connected", `document.body.getAttribute("data-live") === "on"`, 60*time.Second)
	tb.do(chromedp.Evaluate[chromedp.Void](`window.__lwNoReload = "still here"`))
	target := net.JoinHostPort(host.String(), strconv.Itoa(port))
	opened := time.Now()
	rd := redisAt(t, host, port)
	seedRedis(t, host, port)
	took := tb.waitFor("the new finding on the open page", fmt.Sprintf(
		`[...document.querySelectorAll("#live-findings tr[data-finding] a")].some(a => a.textContent === %q)`, target), 30*time.Second)
	t.Logf("finding on the page %s after redis started (page wait %s)", time.Since(opened).Round(time.Millisecond), took.Round(time.Millisecond))
	if !tb.eval(`window.__lwNoReload === "still here"`) {
		t.Error("the page was reloaded to show the finding")
	}
	// Records arrive with the first deep probe (or a changed event right
	// after); the row shows them without a reload either.
	tb.waitFor("records on the row", fmt.Sprintf(
		`[...document.querySelectorAll("#live-findings tr[data-finding]")].some(r => r.textContent.includes(%q) && r.querySelector("td.num").textContent === "%d")`, target, seededUsers), 60*time.Second)
	tb.screenshot("dashboard-findings.png")

	// The overview while it is open.
	tb.do(chromedp.Navigate(base + "/ui/"))
	tb.waitFor("overview with the open finding", `document.body.getAttribute("data-live") === "on" && document.getElementById("open-count").textContent === "1"`, 60*time.Second)
	for _, want := range []string{target, "e-mail addresses", "lab"} {
		if !tb.eval(fmt.Sprintf(`document.getElementById("main").innerText.includes(%q)`, want)) {
			t.Errorf("overview lacks %q", want)
		}
	}
	tb.screenshot("dashboard-overview.png")

	// Its detail page.
	tb.do(chromedp.Navigate(base + "/ui/findings?status=open"))
	tb.waitFor("findings page", `!!document.querySelector("#live-findings tr[data-finding] a")`, 60*time.Second)
	tb.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#live-findings tr[data-finding] a[href^="/ui/findings/"]`))))
	tb.waitFor("detail page", fmt.Sprintf(`!!document.querySelector("h1") && document.querySelector("h1").textContent.includes(%q)`, target), 60*time.Second)
	tb.waitFor("live stream on the detail page", `document.body.getAttribute("data-live") === "on"`, 60*time.Second)
	for _, want := range []string{"redis", "e-mail addresses", "Lifecycle", "opened", "Incident report", "Access evidence"} {
		if !tb.eval(fmt.Sprintf(`document.body.innerText.includes(%q)`, want)) {
			t.Errorf("detail page lacks %q", want)
		}
	}
	tb.screenshot("dashboard-detail.png")

	// Protect the store: the finding closes, live.
	out, err := exec.Command(testenv.Binary(t, "redis-cli"), "-h", host.String(), "-p", strconv.Itoa(port),
		"CONFIG", "SET", "requirepass", "s3cret-pass").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("CONFIG SET requirepass: %v %s", err, out)
	}
	tb.do(chromedp.Evaluate[chromedp.Void](`window.__lwNoReload = "detail"`))
	tb.waitFor("closed status on the detail page", `document.querySelector("#finding-status .st").textContent === "closed"`, 60*time.Second)
	if !tb.eval(`window.__lwNoReload === "detail" && document.body.innerText.includes("closed")`) {
		t.Error("the detail page was reloaded to show the closing")
	}

	// Acknowledge with a note.
	note := "Firewalled at 10:02 <b>not bold</b> — ticket SEC-42"
	tb.do(chromedp.SendKeys(chromedp.ID("ack-assignee"), "alice"),
		chromedp.SendKeys(chromedp.ID("ack-note"), note),
		chromedp.Click(chromedp.CSS(`form.ack button[type="submit"]`)))
	tb.waitFor("the acknowledgement", fmt.Sprintf(`!!document.querySelector("#live-acks blockquote") && document.querySelector("#live-acks blockquote").textContent === %q`, note), 60*time.Second)
	if !tb.eval(`document.querySelector("#live-acks").textContent.includes("alice") && !document.querySelector("#live-acks b")`) {
		t.Error("acknowledgement: assignee missing or the note rendered as markup")
	}
	var det store.FindingDetail
	idPath := ""
	if loc, err := chromedp.Run(tb.ctx, chromedp.Location()); err == nil {
		u := strings.TrimPrefix(loc, base)
		idPath = strings.SplitN(strings.TrimPrefix(u, "/ui/findings/"), "?", 2)[0]
	}
	if code := s.get(t, "/api/v1/findings/"+idPath, serveToken, &det); code != 200 || det.Finding.Status != "closed" {
		t.Errorf("API finding %s: %d, status %s", idPath, code, det.Finding.Status)
	}

	// The overview with the history: closed, in the exposure windows.
	tb.do(chromedp.Navigate(base + "/ui/"))
	tb.waitFor("overview", `document.body.getAttribute("data-live") === "on" && document.getElementById("open-count").textContent === "0"`, 60*time.Second)
	if !tb.eval(fmt.Sprintf(`document.querySelector("#live-windows").textContent.includes(%q)`, target)) {
		t.Error("the exposure-window chart lacks the finding")
	}

	dialogs, csp := tb.problems()
	if len(dialogs) > 0 || len(csp) > 0 {
		t.Errorf("dialogs %q, CSP violations %q", dialogs, csp)
	}
	if strings.Contains(s.log.String(), "CSP violation") {
		t.Error("serve logged a CSP violation report")
	}
	rd.Stop()
}

// hostileNames are table names a hostile store chooses: markup, an
// attribute break-out with an event handler, terminal escape sequences.
var hostileNames = []string{
	`<script>alert(1)</script>`,
	`"><img src=x onerror=alert(2)>`,
	"\x1b[31mred\x1b]0;pwned\x07",
}

// TestDashboardHostile: a real PostgreSQL whose table names, column names
// and values are hostile markup and terminal escapes; the dashboard shows
// them as text on the findings and detail pages, no dialog opens and the
// browser reports no CSP violation. Then, as a control, the test itself
// opens a dialog and injects an inline script, and both are seen — the
// listeners would have caught them.
func TestDashboardHostile(t *testing.T) {
	net24 := testenv.Subnet24(t)
	host := net24.Host(9)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{Addr: host})
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	var stmts []string
	for i, n := range hostileNames {
		stmts = append(stmts,
			fmt.Sprintf(`CREATE TABLE %s (email text, %s text)`, quote(n), quote(hostileNames[(i+1)%len(hostileNames)])),
			fmt.Sprintf(`INSERT INTO %s SELECT 'evil' || i || '@example.com', %s FROM generate_series(1, 12) i`, quote(n),
				"'"+strings.ReplaceAll(hostileNames[(i+2)%len(hostileNames)], "'", "''")+"'"),
			fmt.Sprintf(`ANALYZE %s`, quote(n)))
	}
	pg.Exec(t, "postgres", stmts...)

	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := net.JoinHostPort(apiAddr.String(), strconv.Itoa(testenv.FreePort(t, apiAddr)))
	s := startServe(t, t.TempDir(), serveConfig(api, h, "monitor: {cadence: 2s, recheck: 1s}",
		fmt.Sprintf("    targets: [%s]\n    ports: [%d]", host, pg.Port)))
	base := "http://" + api
	s.waitHealthy(t, base)

	// Wait for the finding through the API.
	var id string
	deadline := time.Now().Add(90 * time.Second)
	for id == "" {
		var list struct {
			Findings []store.Finding `json:"findings"`
		}
		s.get(t, "/api/v1/findings?status=open", serveToken, &list)
		for _, f := range list.Findings {
			if f.Service == "postgresql" || f.Service == "postgres" {
				if f.Last != nil && len(f.Last.Datasets) >= len(hostileNames) {
					id = f.ID
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no postgres finding with %d datasets: %+v", len(hostileNames), list.Findings)
		}
		if id == "" {
			time.Sleep(200 * time.Millisecond)
		}
	}

	tb := openTab(t, base)
	tb.login(serveToken)
	tb.waitFor("overview", `!!document.querySelector("h1") && document.querySelector("h1").textContent === "Overview"`, 60*time.Second)
	pages := []string{"/ui/", "/ui/findings?status=all&q=script", "/ui/findings/" + id}
	for _, p := range pages {
		tb.do(chromedp.Navigate(base + p))
		tb.waitFor("page "+p, `document.readyState === "complete" && document.body.getAttribute("data-live") === "on"`, 60*time.Second)
		// Markup from the store never became elements.
		if n := tb.eval(`document.querySelectorAll("img, iframe, object, embed, style").length === 0 &&
			[...document.scripts].every(s => s.src.endsWith("/ui/static/app.js"))`); !n {
			t.Errorf("%s: injected elements in the page", p)
		}
	}
	// On the detail page every hostile name shows as text; the terminal
	// escapes as visible text (the engine writes ESC as \x1b; a raw one
	// would be drawn as a control picture), never as a raw control
	// character.
	for _, n := range []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(2)>`, "[31mred"} {
		if !tb.eval(fmt.Sprintf(`document.querySelector("#live-numbers").innerText.includes(%q)`, n)) {
			t.Errorf("detail page does not show %q as text", n)
		}
	}
	if !tb.eval(`!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(document.body.innerText)`) {
		t.Error("a raw control character reached the page")
	}
	tb.screenshot("dashboard-hostile.png")
	dialogs, csp := tb.problems()
	if len(dialogs) > 0 || len(csp) > 0 {
		t.Errorf("hostile names: dialogs %q, CSP violations %q", dialogs, csp)
	}
	if strings.Contains(s.log.String(), "CSP violation") {
		t.Error("serve logged a CSP violation report")
	}

	// Controls: the listeners see a dialog and an inline script the CSP
	// blocks (reported to the console and to /ui/csp-report).
	tb.do(chromedp.Evaluate[chromedp.Void](`setTimeout(() => alert("control"), 0)`))
	tb.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.createElement("script"); s.textContent = "window.__x = 1"; document.body.append(s); })()`))
	start := time.Now()
	for {
		dialogs, csp = tb.problems()
		if len(dialogs) > 0 && len(csp) > 0 && strings.Contains(s.log.String(), "CSP violation") {
			break
		}
		if time.Since(start) > 60*time.Second {
			t.Fatalf("controls not seen: dialogs %q, CSP %q, reported to serve: %v", dialogs, csp, strings.Contains(s.log.String(), "CSP violation"))
		}
		time.Sleep(150 * time.Millisecond)
	}
	if tb.eval(`window.__x === 1`) {
		t.Error("an inline script ran: the CSP does not block it")
	}
}
