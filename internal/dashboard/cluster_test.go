package dashboard

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/net/html"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/postgres"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// gzipJSON is the cluster's message encoding (gzip'd JSON), for messages
// a test publishes as a worker would.
func gzipJSON(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hostileEmail is a value a parked error quotes from a target: the
// scrubber masks it, as in the API.
const hostileEmail = "alice.wonder@example.com"

// TestClusterSection (dashboard × cluster): serve as a cluster coordinator
// shows the cluster on the overview, read by the real cluster.ReadStatus
// from a real nats-server (JetStream) and PostgreSQL (history + the
// coordinator lease): the active coordinator, workers per site with their
// heartbeats, queue depth, and the parked work items — one parked by a
// real worker (a poison item that fails on every delivery), one published
// by a hostile worker whose error, site and name carry markup, an
// attribute break-out, terminal escapes and an e-mail address. Every
// value is shown as escaped, visible text, the error masked as the API
// masks it, and the scope whose newest sweep has parked chunks is shown
// as partially covered while a clean scope is not. Without a cluster the
// section is absent; a status that cannot be read is shown, and the rest
// of the overview still renders.
func TestClusterSection(t *testing.T) {
	testenv.Binary(t, "nats-server")
	nsrv := testenv.StartNATSJetStream(t)
	js := nsrv.JetStream(t)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	dsn := pg.URL(pg.NewDatabase(t))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	st, err := postgres.Open(ctx, dsn, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, st, false)
	db, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	n := cluster.Names{Prefix: "LWDASH"}
	if err := cluster.Setup(ctx, js, n); err != nil {
		t.Fatal(err)
	}

	// The active coordinator: a real lease on PostgreSQL.
	lctx, stopLease := context.WithCancel(ctx)
	defer stopLease()
	active := make(chan struct{})
	lease := &cluster.Lease{DSN: dsn, Name: `coord-<b>1</b>`, Key: n.Prefix, Poll: 200 * time.Millisecond}
	go func() {
		_ = lease.Run(lctx, func(ctx context.Context) { close(active); <-ctx.Done() })
	}()

	// Sweeps: lab's newest complete sweep and an older one, dmz's.
	sweep := func(scope string) store.ScanRun {
		r, err := st.BeginScan(ctx, scope)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.FinishScan(ctx, r.ID, store.ScanFinished, ""); err != nil {
			t.Fatal(err)
		}
		return r
	}
	older := sweep("lab")
	time.Sleep(5 * time.Millisecond)
	newest := sweep("lab")
	sweep("dmz")

	// A real worker parks a poison item of lab's newest sweep: its scope
	// cannot be built, on every delivery.
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := probe.NewRegistry()
	if err != nil {
		t.Fatal(err)
	}
	w, err := cluster.NewWorker(cluster.WorkerOptions{JS: js, Names: n, Name: "w-dc-a", Sites: []string{"dc-a"}, Registry: reg,
		Classifier: clf, Budget: probe.DefaultBudget(), AckWait: 2 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	go w.Run(wctx)
	poisonID := cluster.ItemID(newest.ID, 256, "dc-a")
	poison := cluster.Item{ID: poisonID, RunID: newest.ID, Scope: "lab", Site: "dc-a", Start: 256, MaxDeliver: 2,
		Spec: monitor.ScopeSpec{Targets: []string{`"><img src=x onerror=alert(3)>`}, Ports: []int{6379}}, Published: time.Now()}
	if _, err := js.Publish(ctx, n.WorkSubject("dc-a"), gzipJSON(t, poison), jetstream.WithMsgID(poisonID)); err != nil {
		t.Fatal(err)
	}

	// A hostile worker: a heartbeat and a parked record of lab's older
	// sweep, at a site no real worker serves.
	kv, err := js.KeyValue(ctx, n.WorkersBucket())
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := json.Marshal(cluster.Heartbeat{Name: hostile, Sites: []string{"dc-b"}, At: time.Now().UTC(), WorkerStats: cluster.WorkerStats{InFlight: 3}})
	if _, err := kv.Put(ctx, "hostile", hb); err != nil {
		t.Fatal(err)
	}
	evilID := cluster.ItemID(older.ID, 0, "dc-b")
	evil := cluster.Result{ItemID: evilID, RunID: older.ID, Site: "dc-b", Worker: hostile, Attempt: 7, Parked: true,
		Error: "probe of " + hostileEmail + ": " + hostile}
	if _, err := js.Publish(ctx, n.ParkedSubject("dc-b"), gzipJSON(t, evil)); err != nil {
		t.Fatal(err)
	}
	// A result arriving in parts whose last part has not come (its
	// worker died between parts), 5 minutes ago.
	if err := cluster.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(ctx, `INSERT INTO cluster_result_parts (item_id, attempt, part, parts, body, received_at)
		VALUES ($1, 1, 0, 2, 'x', now() - interval '5 minutes')`, cluster.ItemID(newest.ID, 0, "dc-a")); err != nil {
		t.Fatal(err)
	}

	var status cluster.Status
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		status, err = cluster.ReadStatus(ctx, js, n, db)
		if err == nil && status.ParkedTotal == 2 && status.Active != "" && len(status.Workers) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cluster status: %+v (err %v)", status, err)
		}
	}

	// The dashboard of serve as a coordinator.
	scopes := func() []api.ScopeView {
		return []api.ScopeView{{Name: "lab", Targets: []string{"127.0.0.0/24"}, Ports: []int{6379}, Cadence: "1m"},
			{Name: "dmz", Targets: []string{"127.0.1.0/24"}, Ports: []int{6379}, Cadence: "1m"}}
	}
	d, err := New(Options{Store: st, Tokens: []string{testToken}, Scopes: scopes, Chunk: 256, ClusterRefresh: time.Second,
		Endpoints: func(string) int { return 300 },
		Cluster:   func(ctx context.Context) (cluster.Status, error) { return cluster.ReadStatus(ctx, js, n, db) }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Mount(api.New(api.Options{Store: st, Tokens: []string{testToken}}), d))
	defer func() { srv.CloseClientConnections(); srv.Close() }()
	ce := &env{st: st, d: d, srv: srv}
	c := ce.client(t)
	ce.login(t, c)
	resp, page := do(t, c, "GET", srv.URL+"/ui/", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("overview: %d %s", resp.StatusCode, page)
	}
	section := regexp.MustCompile(`(?s)<section data-live id="live-cluster".*?</section>`).FindString(page)
	if section == "" {
		t.Fatal("no cluster section on a coordinator's overview")
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") || strings.Contains(page, "\x1b") ||
		strings.Contains(page, "<b>1</b>") {
		t.Error("hostile text unescaped on the overview")
	}
	for _, bad := range inlineContent(t, page) {
		t.Errorf("overview: %s", bad)
	}
	if strings.Contains(page, hostileEmail) {
		t.Error("the parked error's e-mail address is not masked")
	}
	for _, want := range []string{
		"coord-&lt;b&gt;1&lt;/b&gt;",                  // the active coordinator, as text
		"&lt;script&gt;alert(1)&lt;/script&gt;",       // the hostile worker's name and error, as text
		`&#34;&gt;&lt;img src=x onerror=alert(3)&gt;`, // the real worker's parse error quotes the poison target
		"\\x1b[31m",                 // terminal escapes in the worker name, made visible
		"w-dc-a",                    // the real worker, under its site
		"#256 – #299",               // the parked chunk: 256 on, cut at the scope's 300 endpoints
		"2 work items parked",       // the banner
		"older sweep",               // the hostile item belongs to lab's older sweep
		"latest sweep: not covered", // the poison item to the newest
		"a***@e******.com",          // the e-mail address, masked
	} {
		if !strings.Contains(section, want) {
			t.Errorf("cluster section lacks %q", want)
		}
	}
	for _, site := range []string{`dc-a</th><td class="name">w-dc-a</td>`, `dc-b</th><td class="name">&lt;script&gt;`} {
		if !strings.Contains(section, `<th scope="rowgroup" rowspan="1">`+site) {
			t.Errorf("workers are not listed by site (%s):\n%s", site, section)
		}
	}
	// Items in flight per worker: the hostile heartbeat says 3, the real
	// worker holds nothing once it parked the poison item.
	for name, n := range map[string]string{`&lt;script&gt;`: "3", `w-dc-a`: "0"} {
		if !regexp.MustCompile(`<td class="name">` + name + `[^<]*</td><td><time [^>]*>[^<]*</time></td><td>` + n + `</td>`).MatchString(section) {
			t.Errorf("worker %s not shown with %s items in flight:\n%s", name, n, section)
		}
	}
	if !strings.Contains(section, `<dt>Results arriving in parts, incomplete</dt><dd>1 <small>(oldest part 5m old)</small></dd>`) {
		t.Errorf("the incomplete result-part set is not in the cluster facts:\n%s", section)
	}
	parked := regexp.MustCompile(`(?s)<tr>\s*<th scope="row"><a href="/ui/findings\?scope=lab">.*?</tr>`).FindAllString(section, -1)
	if len(parked) != 2 || !strings.Contains(parked[0], "<td>2</td>") || !strings.Contains(parked[0], "scope: invalid target") ||
		!strings.Contains(parked[1], "<td>7</td>") || !strings.Contains(parked[1], "#0 – #255") {
		t.Errorf("parked rows (poison item of the newest sweep first, 2 attempts; then the hostile one, 7):\n%s", strings.Join(parked, "\n"))
	}
	row := func(scope string) string {
		return regexp.MustCompile(`(?s)<th scope="row">` + scope + `.*?</tr>`).FindString(page)
	}
	if lab := row("lab"); !strings.Contains(lab, "partially covered") || !strings.Contains(lab, "1 parked chunk, up to 44 endpoints not checked from dc-a") {
		t.Errorf("lab's coverage is not shown as partial:\n%s", lab)
	}
	if dmz := row("dmz"); dmz == "" || strings.Contains(dmz, "partial") {
		t.Errorf("dmz's coverage:\n%s", dmz)
	}
	checkScopedHeaders(t, page)

	// A third item parked while the page is open appears without a
	// reload (the section refreshes itself every ClusterRefresh).
	late := cluster.Result{ItemID: cluster.ItemID(newest.ID, 0, "dc-b"), RunID: newest.ID, Site: "dc-b", Attempt: 5, Parked: true, Error: "parked while the page was open"}
	browserCheck(t, srv.URL, func() {
		if _, err := js.Publish(ctx, n.ParkedSubject("dc-b"), gzipJSON(t, late)); err != nil {
			t.Fatal(err)
		}
	})

	// Single-process serve: no cluster section.
	sc := e.client(t)
	e.login(t, sc)
	if _, single := do(t, sc, "GET", e.srv.URL+"/ui/", nil); strings.Contains(single, "live-cluster") || strings.Contains(single, "partially covered") {
		t.Error("a single-process overview shows a cluster section")
	}

	// NATS gone: the section says so; the overview still renders.
	nsrv.Stop()
	resp, page = do(t, c, "GET", srv.URL+"/ui/", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "The cluster status could not be read") || !strings.Contains(page, "Coverage") {
		t.Errorf("overview without NATS: %d\n%s", resp.StatusCode, regexp.MustCompile(`(?s)<section data-live id="live-cluster".*?</section>`).FindString(page))
	}
}

// checkScopedHeaders: every header cell of a table row has a scope.
func checkScopedHeaders(t *testing.T, page string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "th" && n.Parent != nil && n.Parent.Data == "tr" {
			scoped := false
			for _, a := range n.Attr {
				scoped = scoped || (a.Key == "scope" && a.Val != "")
			}
			if !scoped {
				t.Errorf("th without scope: %v", n.FirstChild)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
}

// browserCheck opens the coordinator's overview in a real browser (Debian
// chromium): the cluster section's hostile names and errors are text, no
// element was injected, no dialog opened and no Content-Security-Policy
// violation was logged (a control proves the dialog listener hears one);
// an item parked (by park) while the page is open appears in it without a
// reload.
func browserCheck(t *testing.T, base string, park func()) {
	t.Helper()
	ctx := testenv.BrowserTab(t)
	var (
		mu      sync.Mutex
		dialogs []string
		csp     []string
	)
	evs := chromedp.Events(ctx, cdppage.JavascriptDialogOpening)
	console := chromedp.Console(ctx)
	go func() {
		for ev, err := range evs {
			if err != nil {
				return
			}
			mu.Lock()
			dialogs = append(dialogs, ev.Message)
			mu.Unlock()
			_, _ = chromedp.Call(ctx, cdppage.HandleJavaScriptDialog, cdppage.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			if strings.Contains(m.Text, "Content Security Policy") || strings.Contains(m.Text, "Refused to") {
				mu.Lock()
				csp = append(csp, m.Text)
				mu.Unlock()
			}
		}
	}()
	run := func(actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Do(rctx, actions...); err != nil {
			t.Fatalf("browser: %v", err)
		}
	}
	eval := func(js string) bool {
		rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		ok, err := chromedp.Run(rctx, chromedp.Evaluate[bool](js))
		return err == nil && ok
	}
	run(chromedp.Navigate(base+"/ui/"), chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken), chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("h-parked")))
	if !eval(`document.querySelectorAll("img, iframe, object, embed, style").length === 0 &&
		[...document.scripts].every(s => s.src.endsWith("/ui/static/app.js"))`) {
		t.Error("browser: injected elements on the overview")
	}
	for _, s := range []string{`<script>alert(1)</script>`, `"><img src=x onerror=alert(3)>`, `\x1b[31m`, `coord-<b>1</b>`} {
		if !eval(fmt.Sprintf(`document.querySelector("#live-cluster").innerText.includes(%q)`, s)) {
			t.Errorf("browser: the cluster section does not show %q as text", s)
		}
	}
	if !eval(`!/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(document.body.innerText)`) {
		t.Error("browser: a raw control character reached the page")
	}
	mu.Lock()
	if len(dialogs) > 0 || len(csp) > 0 {
		t.Errorf("browser: dialogs %q, CSP violations %q", dialogs, csp)
	}
	mu.Unlock()
	run(chromedp.Evaluate[chromedp.Void](`setTimeout(() => alert("control"), 0)`))
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		mu.Lock()
		heard := slices.Contains(dialogs, "control")
		mu.Unlock()
		if heard {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatal("browser: the dialog listener did not hear the control dialog")
		}
	}
	park()
	for start := time.Now(); !eval(`document.querySelector("#live-cluster").innerText.includes("3 work items parked")`); time.Sleep(200 * time.Millisecond) {
		if time.Since(start) > 60*time.Second {
			t.Fatal("browser: a newly parked item did not appear without a reload")
		}
	}
	if !eval(`document.querySelector("#live-cluster").innerText.includes("parked while the page was open")`) {
		t.Error("browser: the refreshed section lacks the new item's error")
	}
	run(chromedp.Navigate("about:blank")) // ends the page's live stream
}

// TestMarkPartial: a scope's newest complete sweep with parked chunks is
// partial, each chunk counted once (an item parked twice is listed twice),
// cut chunks counted by their length; items of older sweeps change
// nothing; a running sweep's parked items are counted apart; more parked
// items than listed make every scope's coverage doubtful.
func TestMarkPartial(t *testing.T) {
	last, running, old := &store.ScanRun{ID: "r2"}, &store.ScanRun{ID: "r3"}, "r1"
	item := func(run string, first, lastPos int64, site string) ParkedView {
		return ParkedView{ItemID: cluster.ItemID(run, first, site), RunID: run, Scope: "lab", First: first, Last: lastPos, HasRange: true, Site: site}
	}
	cv := &ClusterView{Parked: []ParkedView{
		item("r2", 0, 255, "dc-a"), item("r2", 0, 255, "dc-a"), item("r2", 256, 299, "dc-b"),
		item(old, 0, 255, "dc-c"), item("r3", 0, 255, "dc-a"),
	}}
	scopes := []ScopeCoverage{{ScopeView: api.ScopeView{Name: "lab"}, LastComplete: last, Running: running}, {ScopeView: api.ScopeView{Name: "dmz"}}}
	markPartial(cv, scopes)
	lab := scopes[0]
	if !lab.Partial() || lab.ParkedChunks != 2 || lab.NotChecked != 256+44 || lab.RunningParked != 1 ||
		!slices.Equal(lab.ParkedSites, []string{"dc-a", "dc-b"}) || lab.MayBePartial {
		t.Errorf("lab: %+v", lab)
	}
	if scopes[1].Partial() || scopes[1].MayBePartial {
		t.Errorf("dmz: %+v", scopes[1])
	}
	current := 0
	for _, p := range cv.Parked {
		if p.Current {
			current++
		}
	}
	if current != 4 || cv.Parked[4].RunID != old || cv.Parked[4].Current {
		t.Errorf("current items %d, order %+v", current, cv.Parked)
	}
	cv.Unlisted = 1
	markPartial(cv, scopes[1:])
	if !scopes[1].MayBePartial {
		t.Error("unlisted parked items do not make dmz's coverage doubtful")
	}
	for id, ok := range map[string]bool{"run/0/dc-a": true, "a/b/12/s": true, "run/-1/s": false, "run/x/s": false, "/0/s": false, "nosep": false, "run/0": false} {
		if _, _, _, got := splitItemID(id); got != ok {
			t.Errorf("splitItemID(%q) ok = %v", id, got)
		}
	}
}
