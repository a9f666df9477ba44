package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	osEvidenceSeed      = 0x0510
	osEvidenceCustomers = 2000
)

// TestServeOpenSearchEvidence (issue 10): `leakwatch serve` watches a real
// OpenSearch 2.19 node holding 2,000 breach-shaped customers, reached
// through a real nginx proxy on a loopback address of its own. Quiet
// intervals show 0 foreign queries (leakwatch's own probes and re-checks
// are subtracted); between two observations the test runs 25 searches and
// reads 3 documents through the proxy, and the timeline's accessed event
// counts them. Then the test deletes the customer index and creates a
// ransom-note index: destroyed and extortion, critical and alerted. nginx
// is reloaded with basic auth on the same address:port: the finding closes
// with the 401 and its WWW-Authenticate header as proof. `leakwatch
// report ID` in each format holds the window, counts, classes, the access
// evidence and the measures, and no seeded value.
func TestServeOpenSearchEvidence(t *testing.T) {
	if testing.Short() {
		t.Skip("boots an OpenSearch node and runs serve end to end")
	}
	t.Parallel()
	testenv.Binary(t, "nginx")
	ctx := context.Background()
	net24 := testenv.Subnet24(t)
	proxyHost, nodeHost, port := net24.Host(9), net24.Host(10), 9200

	start := time.Now()
	nodeDir, err := os.MkdirTemp("", "leakwatch-serve-opensearch-")
	if err != nil {
		t.Fatal(err)
	}
	node, err := testenv.StartSearchNode("opensearch", nodeHost, port, nodeDir)
	if node != nil {
		t.Cleanup(func() { node.Stop(); os.RemoveAll(nodeDir) })
	}
	if err != nil {
		os.RemoveAll(nodeDir)
		testenv.Unavailable(t, "opensearch node: %v", err)
	}
	customers := testenv.Customers(osEvidenceSeed, osEvidenceCustomers)
	must(t, node.Client.CreateIndex(ctx, "customers", `{"properties":{"location":{"type":"geo_point"}}}`))
	must(t, testenv.Bulk(ctx, node.Client, "customers", customers))
	t.Logf("node booted and %d customers seeded in %s", len(customers), time.Since(start).Round(time.Millisecond))

	// The proxy: plain now, basic auth later (same address and port).
	proxyDir := t.TempDir()
	location := fmt.Sprintf(`location / { proxy_pass %s; }`, node.URL())
	testenv.Nginx(t, proxyDir, testenv.NginxSite{Addr: proxyHost, Port: port, Body: location})
	proxy := testenv.NewSearchClient("http://" + netip.AddrPortFrom(proxyHost, uint16(port)).String())
	target := netip.AddrPortFrom(proxyHost, uint16(port)).String()

	h := newHook(t)
	apiAddr := testenv.Addr(t)
	api := fmt.Sprintf("%s:%d", apiAddr, testenv.FreePort(t, apiAddr))
	dir := t.TempDir()
	s := startServe(t, dir, serveConfig(api, h, "monitor: {cadence: 2s, recheck: 1s}",
		fmt.Sprintf("    targets: [%s]\n    ports: [%d]", proxyHost, port)))
	s.waitHealthy(t, "http://"+api)
	opened := h.wait(t, lifecycle.EventOpened, target, 90*time.Second).a
	id := opened.Finding.ID
	if opened.Finding.Records < osEvidenceCustomers || !slices.Contains(opened.Finding.Classes, "email") {
		t.Fatalf("opened alert: %+v", opened.Finding)
	}
	t.Logf("opened after %s: %s", time.Since(start).Round(time.Millisecond), opened.Summary)

	db := filepath.Join(dir, "history.db")
	st, err := storeopen.Open(ctx, "sqlite:"+db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	// Quiet: only leakwatch talks to the node. Every interval between two
	// exposed observations so far counts 0 foreign queries.
	waitObservations(t, s, id, 4)
	quiet := storetest.ExposedDeltas(t, st, id, time.Time{})
	if len(quiet) < 2 {
		t.Fatalf("%d quiet intervals, want at least 2", len(quiet))
	}
	for _, d := range quiet {
		if !d.Measurable || d.ForeignQueries == nil || *d.ForeignQueries != 0 {
			t.Errorf("quiet interval counts leakwatch as foreign: %s %+v", d.Summary(), d.Counters)
		}
	}
	t.Logf("%d quiet intervals, 0 foreign queries each (e.g. %s)", len(quiet), quiet[len(quiet)-1].Summary())

	// Another client: one search to learn three ids, 24 more, 3 reads.
	traffic := time.Now()
	body, err := proxy.Do(ctx, "GET", "/customers/_search?size=3&filter_path=hits.hits._id", nil, "")
	must(t, err)
	var hits struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &hits); err != nil || len(hits.Hits.Hits) != 3 {
		t.Fatalf("ids: %v %s", err, body)
	}
	for range 24 {
		_, err := proxy.Do(ctx, "GET", "/customers/_search?q=wifi_ssid:*&size=1", nil, "")
		must(t, err)
	}
	for _, hit := range hits.Hits.Hits {
		_, err := proxy.Do(ctx, "GET", "/customers/_doc/"+hit.ID, nil, "")
		must(t, err)
	}
	trafficEnd := time.Now()
	// The accessed event(s) after the traffic: their sum is the 28
	// requests (an observation may fall in the middle of the burst).
	var foreign int64
	var accessed []lifecycle.Event
	deadline := time.Now().Add(40 * time.Second)
	for foreign < 25 && time.Now().Before(deadline) {
		foreign, accessed = 0, nil
		d, err := st.GetFinding(ctx, id, store.TimelineQuery{})
		must(t, err)
		for _, e := range d.Timeline {
			if e.Event != nil && e.Event.Kind == lifecycle.EventAccessed && e.Event.At.After(traffic) && e.Event.Access != nil && e.Event.Access.ForeignQueries != nil {
				foreign += *e.Event.Access.ForeignQueries
				accessed = append(accessed, e.Event.Event)
			}
		}
		if foreign < 25 {
			time.Sleep(300 * time.Millisecond)
		}
	}
	if foreign < 25 || foreign > 28 {
		t.Fatalf("accessed events after the test's 25 searches + 3 reads count %d foreign queries, want 25–28: %+v", foreign, accessed)
	}
	for _, e := range accessed {
		t.Logf("accessed: %s (datasets %v)", e.Summary, e.Access.Datasets)
	}
	t.Logf("traffic took %s", trafficEnd.Sub(traffic).Round(time.Millisecond))

	// Destruction and extortion.
	_, err = node.Client.Do(ctx, http.MethodDelete, "/customers", nil, "")
	must(t, err)
	must(t, node.Client.CreateIndex(ctx, "read_me", ""))
	must(t, testenv.Bulk(ctx, node.Client, "read_me", []map[string]string{{
		"message": "All your data is backed up. You must pay 0.05 BTC to bc1qexampleransomaddress0000 to recover it. Contact recover-data@proton.example",
	}}))
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
	if in := destroyed.Incident; in == nil || len(in.Vanished) != 1 || in.Vanished[0].Name != "customers" || in.RecordsLost != osEvidenceCustomers {
		t.Errorf("destroyed incident %+v", in)
	}
	if x := extortion.Incident; x == nil || len(x.RansomNotes) != 1 || !strings.Contains(x.RansomNotes[0], "read_me") {
		t.Errorf("extortion incident %+v", x)
	}
	t.Logf("destroyed: %s", destroyed.Summary)
	t.Logf("extortion: %s", extortion.Summary)

	// Basic auth in front of it: nginx reloads its config (SIGHUP) on the
	// same address and port.
	pw := testenv.Htpasswd(t, proxyDir, "ops", "Xq7-not-a-default-9Lm")
	conf := filepath.Join(proxyDir, "nginx.conf")
	cb, err := os.ReadFile(conf)
	must(t, err)
	authed := strings.Replace(string(cb), location, fmt.Sprintf(`auth_basic "restricted"; auth_basic_user_file %s; %s`, pw, location), 1)
	if authed == string(cb) {
		t.Fatalf("nginx config lacks the proxy location:\n%s", cb)
	}
	must(t, os.WriteFile(conf, []byte(authed), 0o644))
	pidb, err := os.ReadFile(filepath.Join(proxyDir, "nginx.pid"))
	must(t, err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidb)))
	must(t, err)
	must(t, syscall.Kill(pid, syscall.SIGHUP))
	authAt := time.Now()
	for {
		resp, err := http.Get("http://" + target + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		if time.Since(authAt) > 15*time.Second {
			t.Fatalf("nginx did not demand credentials after reload (%v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	closed := h.wait(t, lifecycle.EventClosed, target, 40*time.Second).a
	if len(closed.Proof) != 2 {
		t.Fatalf("closing proof %+v", closed.Proof)
	}
	for _, p := range closed.Proof {
		if p.Outcome != lifecycle.OutcomeProtected || fmt.Sprint(p.Evidence["http_status"]) != "401" ||
			!strings.Contains(fmt.Sprint(p.Evidence["auth_challenge"]), `Basic realm="restricted"`) {
			t.Errorf("closing proof %+v, want protected with http_status 401 and the WWW-Authenticate challenge", p)
		}
	}
	t.Logf("closed: %s; proof %+v", closed.Summary, closed.Proof)

	// The reports.
	raw := testenv.NewRawSet(testenv.RawValues(customers))
	outs := map[string]string{}
	for _, format := range []string{"md", "html", "json", "sarif"} {
		var out syncBuf
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		code := a.run(ctx, []string{"report", "--db", db, "--format", format, id[:10],
			"--dpo", "Jane Roe, dpo@example.org", "--measure", "nginx basic auth in front of OpenSearch", "--measure", "Camera tokens revoked"})
		if code != exitOK {
			t.Fatalf("report --format %s: exit %d\n%s", format, code, out.String())
		}
		outs[format] = out.String()
		for _, hit := range raw.Find([]byte(out.String()), 5) {
			t.Errorf("report %s holds the seeded value (%s) %q in …%q…", format, hit.Encoding, hit.Text, hit.Context)
		}
		for _, want := range []string{"bc1qexampleransomaddress0000", "recover-data@proton.example"} {
			if strings.Contains(out.String(), want) {
				t.Errorf("report %s carries the ransom note's %q", format, want)
			}
		}
		if format == "sarif" {
			continue
		}
		for _, want := range []string{target, "Jane Roe, dpo@example.org", "nginx basic auth in front of OpenSearch", "Camera tokens revoked", "read_me", "restricted"} {
			if format == "md" {
				want = strings.ReplaceAll(want, "_", "\\_") // Markdown escapes
			}
			if !strings.Contains(out.String(), want) {
				t.Errorf("report %s lacks %q", format, want)
			}
		}
	}
	for _, want := range []string{"First seen open", "Closed (first closing check)", "| email |", "destroyed", "extortion", "2,000",
		"http\\_status=401", "auth\\_challenge=Basic realm=\"restricted\"", "Requests by clients other than leakwatch: "} {
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
		Access struct {
			Measured       bool   `json:"measured"`
			ForeignQueries *int64 `json:"foreign_queries"`
		} `json:"access"`
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
	var classes []string
	for _, c := range rep.Categories {
		classes = append(classes, c.Class)
	}
	if rep.Window.Open || rep.Window.FirstSeenOpen.IsZero() || !rep.Window.ClosedAt.After(rep.Window.FirstSeenOpen) ||
		rep.Numbers.Records < osEvidenceCustomers || !slices.Contains(classes, "email") || len(rep.Incidents) != 2 ||
		!rep.Access.Measured || rep.Access.ForeignQueries == nil || *rep.Access.ForeignQueries < 25 ||
		rep.Measures.Closure == nil || len(rep.Measures.Taken) != 2 {
		t.Errorf("json report %+v", rep)
	}
	if rep.Access.ForeignQueries != nil {
		// The report sums every accessed interval (the one after the
		// index deletion may add a few: see the summary of that event).
		if want := fmt.Sprintf("Requests by clients other than leakwatch: %d\n", *rep.Access.ForeignQueries); !strings.Contains(outs["md"], want) {
			t.Errorf("markdown report lacks %q", want)
		}
		t.Logf("report: %d records, classes %v, %d foreign queries, window %s – %s", rep.Numbers.Records, classes,
			*rep.Access.ForeignQueries, rep.Window.FirstSeenOpen.Format(time.RFC3339), rep.Window.ClosedAt.Format(time.RFC3339))
	}
	if os.Getenv("LEAKWATCH_DUMP_REPORT") != "" {
		t.Logf("markdown report:\n%s", outs["md"])
	}
	if !strings.Contains(outs["sarif"], "firstDetectionTimeUtc") || !strings.Contains(outs["sarif"], "leakwatchExposure/v1") {
		t.Errorf("sarif lacks the window:\n%s", outs["sarif"])
	}
	if code := s.stop(); code != exitOK {
		t.Errorf("serve exited %d", code)
	}
	t.Logf("total %s", time.Since(start).Round(time.Millisecond))
}
