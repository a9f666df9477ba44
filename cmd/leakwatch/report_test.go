package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Raw values seeded into the PostgreSQL store of TestServeEvidenceReport;
// no report, alert or API answer may contain one.
var reportSecrets = []string{
	"customer7@example.com", "Maria Muster 7", "sess_7_0f1e2d3c4b5a69788796a5b4c3d2e1f0",
	"recover-data@proton.example", "bc1qexampleransomaddress0000",
}

// TestServeEvidenceReport: `leakwatch serve` watches a real PostgreSQL;
// between two observations the test drops a table and deletes most of
// another (destruction) and creates a ransom-note table (extortion): both
// become critical timeline events and are alerted. Then the server demands
// a password (pg_hba scram-sha-256, reloaded): the finding closes with the
// auth challenge as proof. `leakwatch report ID` in each format holds the
// window, counts, classes and measures and no seeded raw value; the HTML
// report renders in headless Chromium, which writes a screenshot.
func TestServeEvidenceReport(t *testing.T) {
	t.Parallel()
	testenv.Binary(t, "postgres")
	net24 := testenv.Subnet24(t)
	host, port := net24.Host(9), 5432
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{Addr: host, Port: port})
	pg.Exec(t, "postgres", "CREATE DATABASE shop")
	pg.Exec(t, "shop",
		`CREATE TABLE customers (id int PRIMARY KEY, email text, full_name text, session_token text)`,
		`INSERT INTO customers SELECT i, 'customer' || i || '@example.com', 'Maria Muster ' || i,
		        'sess_' || i || '_0f1e2d3c4b5a69788796a5b4c3d2e1f0' FROM generate_series(1, 400) i`,
		`CREATE TABLE orders (id int, customer_id int, total numeric(10,2))`,
		`INSERT INTO orders SELECT i, i % 400, i * 1.5 FROM generate_series(1, 300) i`,
		`ANALYZE customers`, `ANALYZE orders`)

	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := net.JoinHostPort(apiAddr.String(), strconv.Itoa(testenv.FreePort(t, apiAddr)))
	dir := t.TempDir()
	s := startServe(t, dir, serveConfig(api, h, "monitor: {cadence: 2s, recheck: 1s}",
		fmt.Sprintf("    targets: [%s]\n    ports: [%d]", host, port)))
	s.waitHealthy(t, "http://"+api)
	target := netip.AddrPortFrom(host, uint16(port)).String()
	opened := h.wait(t, lifecycle.EventOpened, target, 40*time.Second).a
	id := opened.Finding.ID
	if opened.Finding.Records < 700 || !slices.Contains(opened.Finding.Classes, "email") {
		// A first check a limit cut (flagged partial: seen once under a
		// loaded CI) opens the finding with what it proved; the next
		// complete check must then measure all the data.
		if !slices.Contains(opened.Finding.Flags, "partial") {
			t.Fatalf("opened alert: %+v", opened.Finding)
		}
		t.Logf("first check partial (%+v); waiting for a complete one", opened.Finding)
		waitCompleteCheck(t, s, id, 700, "email")
	}
	// One more exposed check with the data intact, so the destruction is
	// measured between two observations.
	n := observationCount(t, s, id)
	waitObservations(t, s, id, n+1)

	// One transaction: a check between the statements would split the
	// loss over two destroyed events.
	pg.Exec(t, "shop",
		`BEGIN`,
		`DROP TABLE orders`,
		`DELETE FROM customers WHERE id > 20`,
		`ANALYZE customers`,
		`CREATE TABLE read_me_to_recover (note text)`,
		`INSERT INTO read_me_to_recover VALUES ('All your data is backed up. Send 0.05 BTC to bc1qexampleransomaddress0000 and write to recover-data@proton.example')`,
		`ANALYZE read_me_to_recover`,
		`COMMIT`)
	destroyed := h.wait(t, lifecycle.EventDestroyed, target, 40*time.Second).a
	extortion := h.wait(t, lifecycle.EventExtortion, target, 40*time.Second).a
	for _, a := range []struct {
		kind lifecycle.EventKind
		got  string
	}{{destroyed.Event, string(destroyed.Finding.Severity)}, {extortion.Event, string(extortion.Finding.Severity)}} {
		if a.got != "critical" {
			t.Errorf("%s alert severity %s, want critical", a.kind, a.got)
		}
	}
	in := destroyed.Incident
	if in == nil || len(in.Vanished) != 1 || in.Vanished[0].Name != "shop.public.orders" || len(in.Dropped) != 1 ||
		in.Dropped[0].Name != "shop.public.customers" || *in.Dropped[0].To != 20 || in.RecordsLost != 680 {
		t.Errorf("destroyed incident %+v", in)
	}
	if x := extortion.Incident; x == nil || len(x.RansomNotes) != 1 || !strings.Contains(x.RansomNotes[0], "read_me_to_recover") {
		t.Errorf("extortion incident %+v", x)
	}
	t.Logf("destroyed: %s", destroyed.Summary)
	t.Logf("extortion: %s", extortion.Summary)

	// Protect it: a password for postgres and scram-sha-256 for TCP.
	pg.Exec(t, "postgres", "ALTER ROLE postgres PASSWORD 'Xq7-not-a-default-9Lm'")
	hba := filepath.Join(pg.Dir, "data", "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.0/8 scram-sha-256\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pg.Exec(t, "postgres", "SELECT pg_reload_conf()")
	closed := h.wait(t, lifecycle.EventClosed, target, 40*time.Second).a
	if len(closed.Proof) != 2 || closed.Proof[1].Outcome != lifecycle.OutcomeProtected || closed.Proof[1].Evidence["auth_method"] == nil {
		t.Errorf("closing proof %+v", closed.Proof)
	}
	t.Logf("closed: %s; proof %+v", closed.Summary, closed.Proof)

	// The reports, from the store serve wrote.
	db := filepath.Join(dir, "history.db")
	outs := map[string]string{}
	for _, format := range []string{"md", "html", "json", "sarif"} {
		var out syncBuf
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		code := a.run(context.Background(), []string{"report", "--db", db, "--format", format, id[:10],
			"--dpo", "Jane Roe, dpo@example.org", "--measure", "pg_hba.conf set to scram-sha-256", "--measure", "Session tokens revoked"})
		if code != exitOK {
			t.Fatalf("report --format %s: exit %d\n%s", format, code, out.String())
		}
		outs[format] = out.String()
		for _, raw := range reportSecrets {
			if strings.Contains(out.String(), raw) {
				t.Errorf("report %s carries the raw value %q", format, raw)
			}
		}
		for _, want := range []string{target, "scram-sha-256", "Jane Roe, dpo@example.org", "Session tokens revoked"} {
			if format != "sarif" && !strings.Contains(out.String(), want) {
				t.Errorf("report %s lacks %q", format, want)
			}
		}
	}
	for _, want := range []string{"First seen open", "Closed (first closing check)", "| email |", "destroyed", "extortion", "shop.public.orders", "auth\\_method=scram-sha-256"} {
		if !strings.Contains(outs["md"], want) {
			t.Errorf("markdown report lacks %q", want)
		}
	}
	var rep struct {
		Window struct {
			FirstSeenOpen time.Time `json:"first_seen_open"`
			ClosedAt      time.Time `json:"closed_at"`
			Open          bool      `json:"open"`
		} `json:"window"`
		Numbers struct {
			Records int64 `json:"records"`
		} `json:"numbers"`
		Categories []struct {
			Class string `json:"class"`
		} `json:"data_categories"`
		Incidents []struct {
			Kind string `json:"kind"`
		} `json:"incidents"`
		Measures struct {
			Closure *struct{} `json:"closure"`
			Taken   []string  `json:"taken"`
		} `json:"measures"`
	}
	if err := json.Unmarshal([]byte(outs["json"]), &rep); err != nil {
		t.Fatalf("json report: %v", err)
	}
	if rep.Window.Open || rep.Window.FirstSeenOpen.IsZero() || !rep.Window.ClosedAt.After(rep.Window.FirstSeenOpen) ||
		rep.Numbers.Records < 700 || len(rep.Categories) == 0 || len(rep.Incidents) != 2 || rep.Measures.Closure == nil || len(rep.Measures.Taken) != 2 {
		t.Errorf("json report %+v", rep)
	}
	if !strings.Contains(outs["sarif"], "firstDetectionTimeUtc") || !strings.Contains(outs["sarif"], "leakwatchExposure/v1") {
		t.Errorf("sarif lacks the window:\n%s", outs["sarif"])
	}

	// The API serves the same report.
	var body string
	if code := s.get(t, "/api/v1/findings/"+id+"/report?format=md", serveToken, &body); code != 200 || !strings.Contains(body, "extortion") {
		t.Errorf("API report: %d\n%s", code, body)
	}

	// Period report.
	var out syncBuf
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
	if code := a.run(context.Background(), []string{"report", "--db", db, "--scope", "lab", "--since", time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)}); code != exitOK ||
		!strings.Contains(out.String(), "| Exposures | 1 |") || !strings.Contains(out.String(), "1 destroyed, 1 extortion") {
		t.Errorf("period report: exit %d\n%s", code, out.String())
	}

	renderInChromium(t, outs["html"], outs["md"])
	if code := s.stop(); code != exitOK {
		t.Errorf("serve exited %d", code)
	}
}

// waitObservations waits until the finding has at least n observations.
// observationCount is the finding's number of observations now.
func observationCount(t *testing.T, s *served, id string) int {
	t.Helper()
	var f struct {
		Finding struct {
			Observations int `json:"observations"`
		} `json:"finding"`
	}
	if code := s.get(t, "/api/v1/findings/"+id+"?limit=1", serveToken, &f); code != 200 {
		t.Fatalf("finding %s: status %d", id, code)
	}
	return f.Finding.Observations
}

// waitCompleteCheck waits for an observation of the finding that counted at
// least records records, holds class and is not flagged partial.
func waitCompleteCheck(t *testing.T, s *served, id string, records int64, class string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var f struct {
			Timeline []struct {
				Observation *struct {
					Records int64    `json:"records"`
					Classes []string `json:"classes"`
					Flags   []string `json:"flags"`
				} `json:"observation"`
			} `json:"timeline"`
		}
		if s.get(t, "/api/v1/findings/"+id, serveToken, &f) == 200 {
			for _, e := range f.Timeline {
				if o := e.Observation; o != nil && o.Records >= records && slices.Contains(o.Classes, class) && !slices.Contains(o.Flags, "partial") {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("finding %s: no complete check with %d records and %s after 30s", id, records, class)
}

func waitObservations(t *testing.T, s *served, id string, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var f struct {
			Finding struct {
				Observations int `json:"observations"`
			} `json:"finding"`
		}
		if s.get(t, "/api/v1/findings/"+id+"?limit=1", serveToken, &f) == 200 && f.Finding.Observations >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("finding %s: fewer than %d observations after 30s", id, n)
}

// renderInChromium opens the HTML report in headless Chromium (no
// network: the page loads nothing) and keeps it, the Markdown report and a
// screenshot in $LEAKWATCH_ARTIFACTS or a temp dir printed in the log.
func renderInChromium(t *testing.T, html, markdown string) {
	t.Helper()
	bin, ok := testenv.LookPath("chromium")
	if !ok {
		testenv.Unavailable(t, "chromium not installed (apt-get install chromium)")
		return
	}
	dir := os.Getenv("LEAKWATCH_ARTIFACTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "leakwatch-report-"); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	page := filepath.Join(dir, "report.html")
	shot := filepath.Join(dir, "report.png")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(markdown), 0o644); err != nil {
		t.Fatal(err)
	}
	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + profile,
		"--proxy-server=127.0.0.1:9", "--enable-logging=stderr", "--v=0",
		"--window-size=1100,3000", "--screenshot=" + shot, "file://" + page}
	cmd := exec.CommandContext(ctx, bin, args...)
	logb, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, logb)
	}
	st, err := os.Stat(shot)
	if err != nil || st.Size() < 10_000 {
		t.Fatalf("no screenshot (%v)\n%s", err, logb)
	}
	for _, l := range strings.Split(string(logb), "\n") {
		// Console errors and failed loads of the page itself.
		if strings.Contains(l, "CONSOLE") && strings.Contains(strings.ToLower(l), "error") ||
			strings.Contains(l, "net::ERR_") && strings.Contains(l, "report.html") {
			t.Errorf("chromium: %s", l)
		}
	}
	// The DOM as rendered: the chart and the sections are there.
	dump := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir="+t.TempDir(),
		"--proxy-server=127.0.0.1:9", "--dump-dom", "file://"+page)
	dom, err := dump.Output()
	if err != nil {
		t.Fatalf("chromium --dump-dom: %v", err)
	}
	for _, want := range []string{"<svg", "<polyline", "Art. 33(3)(c)", "What we cannot know"} {
		if !strings.Contains(string(dom), want) {
			t.Errorf("rendered DOM lacks %q", want)
		}
	}
	t.Logf("HTML report and screenshot: %s, %s (%d bytes)", page, shot, st.Size())
}
