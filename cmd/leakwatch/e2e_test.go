package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// The breach fixture: an open OpenSearch 2.19 node holding 100,000
// breach-shaped customer records and a catalogue without personal data, an
// open Elasticsearch 7.10.2 node wiped by a ransom bot, an nginx with basic
// auth in front of the OpenSearch node (protected) and an nginx serving a
// static page on 9200 (not a search node) — all in one loopback /24.
const (
	breachRecords  = 100000
	productRecords = 5000
	breachSeed     = 2019
)

type fleet struct {
	net                  testenv.Net24
	os, es7              *testenv.SearchNode
	authHost, staticHost string
	keyFile              string
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	if testing.Short() {
		t.Skip("fleet test boots two search nodes")
	}
	f := &fleet{net: testenv.Subnet24(t)}
	ctx := context.Background()
	type res struct {
		n   *testenv.SearchNode
		err error
	}
	boot := func(flavor string, host byte) chan res {
		ch := make(chan res, 1)
		go func() {
			dir, err := os.MkdirTemp("", "leakwatch-e2e-"+flavor+"-")
			if err != nil {
				ch <- res{err: err}
				return
			}
			n, err := testenv.StartSearchNode(flavor, f.net.Host(host), 9200, dir)
			ch <- res{n, err}
		}()
		return ch
	}
	osc, esc := boot("opensearch", 10), boot("elasticsearch7", 11)
	r1, r2 := <-osc, <-esc
	for _, r := range []res{r1, r2} {
		if r.n != nil {
			n := r.n
			t.Cleanup(func() { n.Stop(); os.RemoveAll(n.Dir) })
		}
	}
	if r1.err != nil || r2.err != nil {
		testenv.Unavailable(t, "search nodes: %v %v", r1.err, r2.err)
	}
	f.os, f.es7 = r1.n, r2.n

	start := time.Now()
	must(t, f.os.Client.CreateIndex(ctx, "customers", `{"properties":{"location":{"type":"geo_point"}}}`))
	must(t, testenv.Bulk(ctx, f.os.Client, "customers", testenv.Customers(breachSeed, breachRecords)))
	must(t, f.os.Client.CreateIndex(ctx, "products", ""))
	must(t, testenv.Bulk(ctx, f.os.Client, "products", testenv.Products(7, productRecords)))
	must(t, f.es7.Client.CreateIndex(ctx, "read_me", ""))
	must(t, testenv.Bulk(ctx, f.es7.Client, "read_me", []map[string]string{{
		"message": "All your data is backed up. You must pay 0.05 BTC to recover it. Contact recover@example.invalid",
	}}))
	t.Logf("seeded %d + %d + 1 documents in %s", breachRecords, productRecords, time.Since(start).Round(time.Millisecond))

	dir := t.TempDir()
	pw := testenv.Htpasswd(t, dir, "ops", "n0t-the-default")
	must(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html><body><h1>Welcome</h1></body></html>"), 0o644))
	auth, static := f.net.Host(12), f.net.Host(13)
	testenv.Nginx(t, dir,
		testenv.NginxSite{Addr: auth, Port: 9200, Body: fmt.Sprintf(`auth_basic "restricted"; auth_basic_user_file %s; location / { proxy_pass %s; }`, pw, f.os.URL())},
		testenv.NginxSite{Addr: static, Port: 9200, Body: fmt.Sprintf(`root %s; location / { try_files $uri /index.html; }`, dir)},
	)
	f.authHost, f.staticHost = auth.String(), static.String()
	f.keyFile = filepath.Join(t.TempDir(), "key")
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// runCLI runs leakwatch in-process and returns exit code, stdout, stderr.
func runCLI(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code := a.run(ctx, args)
	return code, out.String(), errb.String()
}

// decodeFindings validates scan output against the JSONL contract and
// returns its findings by host (the last one of a host wins).
func decodeFindings(t *testing.T, jsonl string) map[string]finding.Finding {
	t.Helper()
	byHost := map[string]finding.Finding{}
	for _, f := range decodeFindingList(t, jsonl) {
		byHost[f.Target.Host] = f
	}
	return byHost
}

// decodeFindingList validates scan output against the JSONL contract and
// returns every finding in order.
func decodeFindingList(t *testing.T, jsonl string) []finding.Finding {
	t.Helper()
	if err := output.ValidateJSONL(strings.NewReader(jsonl)); err != nil {
		t.Fatalf("JSONL does not validate against the contract: %v", err)
	}
	var out []finding.Finding
	for _, line := range strings.Split(strings.TrimSpace(jsonl), "\n") {
		if line == "" {
			continue
		}
		var f finding.Finding
		must(t, json.Unmarshal([]byte(line), &f))
		out = append(out, f)
	}
	return out
}

func datasetNamed(f finding.Finding, name string) (finding.Dataset, bool) {
	for _, d := range f.Datasets {
		if d.Name == name {
			return d, true
		}
	}
	return finding.Dataset{}, false
}

func TestScanBreachFleet(t *testing.T) {
	f := startFleet(t)
	ctx := context.Background()
	// Read-only digests of both search nodes: indices, counts, mappings and
	// every document's contents (testenv.SearchClient.State).
	before, err := f.os.Client.State(ctx)
	must(t, err)
	beforeES7, err := f.es7.Client.State(ctx)
	must(t, err)

	// outputs are what each scan printed, stdout and stderr, by format.
	outputs := map[string]string{}
	t.Run("jsonl", func(t *testing.T) {
		start := time.Now()
		code, out, stderr := runCLI(t, "", "scan", "--format", "jsonl", "--key-file", f.keyFile, f.net.CIDR())
		t.Logf("scan of %s took %s; stderr: %s", f.net.CIDR(), time.Since(start).Round(time.Millisecond), stderr)
		outputs["jsonl"], outputs["jsonl stderr"] = out, stderr
		if code != exitExposed {
			t.Fatalf("exit code %d, want %d; stderr: %s", code, exitExposed, stderr)
		}
		got := decodeFindings(t, out)
		if len(got) != 3 {
			t.Errorf("%d findings, want 3 (opensearch, es7, nginx-auth); got hosts %v", len(got), keys(got))
		}
		osf, ok := got[f.os.Addr.String()]
		if !ok {
			t.Fatalf("no finding for the OpenSearch node")
		}
		if osf.Service != "elasticsearch" || osf.Product != "opensearch" || osf.Status != finding.StatusExposed || osf.Severity != finding.SeverityCritical {
			t.Errorf("opensearch finding: %s %s %s %s", osf.Service, osf.Product, osf.Status, osf.Severity)
		}
		cust, ok := datasetNamed(osf, "customers")
		if !ok || cust.Records == nil || *cust.Records != breachRecords {
			t.Fatalf("customers dataset: %+v", cust)
		}
		classes := map[string]finding.ClassCount{}
		for _, c := range cust.Classes {
			classes[c.Class] = c
		}
		held := []string{"email", "username", "auth_token", "wifi_ssid", "device_model"}
		for _, want := range held {
			c, ok := classes[want]
			if !ok {
				t.Errorf("customers lacks class %s (has %v)", want, keysCC(classes))
				continue
			}
			if c.Source != "values" || c.Matched == 0 || c.EstimatedRecords == nil {
				t.Errorf("%s: source %s matched %d estimate %v", want, c.Source, c.Matched, c.EstimatedRecords)
				continue
			}
			// Every record holds these classes: the estimate must be the
			// truth, within the stated interval.
			if c.EstimateLow != nil && c.EstimateHigh != nil && (breachRecords < *c.EstimateLow || breachRecords > *c.EstimateHigh) {
				t.Errorf("%s: estimate %d [%d, %d] misses the truth %d", want, *c.EstimatedRecords, *c.EstimateLow, *c.EstimateHigh, breachRecords)
			}
			for _, ex := range c.Examples {
				if !strings.ContainsAny(ex, "*…•") {
					t.Errorf("%s example %q is not masked", want, ex)
				}
			}
		}
		// Every other class of the vocabulary is absent, but two: device_id
		// (the records do carry a 12-hex-digit device id, which may or may
		// not be recognised) and geo_location from the schema only (the
		// index maps a geo_point field that no record fills).
		for _, class := range classify.Classes() {
			c, ok := classes[class]
			switch {
			case !ok || slices.Contains(held, class) || class == classify.ClassDeviceID:
			case class == classify.ClassGeoLocation && c.Source == "schema":
			default:
				t.Errorf("customers wrongly holds class %s (source %s, matched %d of %d)", class, c.Source, c.Matched, c.Sampled)
			}
		}
		if c, ok := classes["email"]; ok && (c.DistinctSubjects == nil || *c.DistinctSubjects < breachRecords/2) {
			t.Errorf("email distinct subjects %v, want an estimate near %d", c.DistinctSubjects, breachRecords)
		}
		prod, ok := datasetNamed(osf, "products")
		if !ok || prod.Records == nil || *prod.Records != productRecords {
			t.Errorf("products dataset: %+v", prod)
		}
		for _, c := range prod.Classes {
			if c.Source == "values" {
				t.Errorf("products (no personal data) classified as %s", c.Class)
			}
		}
		es := got[f.es7.Addr.String()]
		if es.Product != "elasticsearch" || es.Version != "7.10.2" || !slices.Contains(es.Flags, "ransom-note") || es.Severity != finding.SeverityCritical {
			t.Errorf("es7 finding: %s %s flags %v severity %s", es.Product, es.Version, es.Flags, es.Severity)
		}
		auth := got[f.authHost]
		if auth.Status != finding.StatusProtected || len(auth.Datasets) != 0 {
			t.Errorf("nginx basic-auth finding: %s with %d datasets", auth.Status, len(auth.Datasets))
		}
		if _, ok := got[f.staticHost]; ok {
			t.Errorf("static nginx reported as a finding")
		}
	})

	for _, format := range []string{"table", "sarif", "ocsf"} {
		t.Run(format, func(t *testing.T) {
			code, out, stderr := runCLI(t, "", "scan", "--ports", "9200", "--format", format, "--key-file", f.keyFile, "-v", f.net.CIDR())
			outputs[format], outputs[format+" stderr"] = out, stderr
			if code != exitExposed {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			if format == "table" {
				for _, want := range []string{"opensearch", "customers", "protected", "critical", "email"} {
					if !strings.Contains(out, want) {
						t.Errorf("table lacks %q:\n%s", want, out)
					}
				}
				if strings.Contains(out, f.staticHost) {
					t.Errorf("table lists the static web server:\n%s", out)
				}
			}
		})
	}

	// Every field of every seeded record (testenv.RawValues lists the
	// struct's fields by reflection), in every format, stdout and stderr,
	// as is, lower/upper-cased, JSON-escaped and base64'd.
	t.Run("no-raw-values", func(t *testing.T) {
		values := testenv.RawValues(testenv.Customers(breachSeed, breachRecords))
		if want := breachRecords * reflect.TypeFor[testenv.Customer]().NumField(); len(values) != want {
			t.Fatalf("%d raw values, want %d (every field of every record)", len(values), want)
		}
		raw := testenv.NewRawSet(values)
		for _, name := range keys(outputs) {
			for _, h := range raw.Find([]byte(outputs[name]), 5) {
				t.Errorf("%s holds the raw seeded value (%s) %q in …%q…", name, h.Encoding, h.Text, h.Context)
			}
		}
		for _, w := range []string{"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."} {
			for format, out := range outputs {
				if strings.Contains(out, w) {
					t.Errorf("%s output holds a whole JWT header+payload prefix", format)
				}
			}
		}
		t.Logf("%d outputs searched for %d seeded values", len(outputs), raw.Len())
	})

	t.Run("read-only", func(t *testing.T) {
		after, err := f.os.Client.State(ctx)
		must(t, err)
		if before != after {
			t.Errorf("scans changed the OpenSearch node:\nbefore:\n%s\nafter:\n%s", before, after)
		}
		afterES7, err := f.es7.Client.State(ctx)
		must(t, err)
		if beforeES7 != afterES7 {
			t.Errorf("scans changed the Elasticsearch 7 node:\nbefore:\n%s\nafter:\n%s", beforeES7, afterES7)
		}
		if !strings.Contains(before, "customers docs=100000 deleted=0 read=100000 content=") || !strings.Contains(beforeES7, "read_me docs=1 deleted=0 read=1 content=") {
			t.Errorf("digests did not read every document:\n%s\n%s", before, beforeES7)
		}
	})

	// Runs last: it plants data in the node.
	t.Run("canary", func(t *testing.T) { testCanaries(t, f) })
}

// testCanaries mints canaries with the CLI, plants one in an OpenSearch
// index and one in a PostgreSQL table (as a team would plant them in
// production data), and checks that a scan names both copies.
func testCanaries(t *testing.T, f *fleet) {
	ctx := context.Background()
	mint := func(kind, label string) string {
		code, out, stderr := runCLI(t, "", "canary", "new", "--kind", kind, "--label", label, "--key-file", f.keyFile)
		if code != exitOK {
			t.Fatalf("canary new: exit %d: %s", code, stderr)
		}
		return strings.TrimSpace(out)
	}
	email := mint("email", "prod-customers")
	user := mint("username", "billing-db")

	docs := []map[string]string{}
	for i := 0; i < 20; i++ {
		docs = append(docs, map[string]string{"email": fmt.Sprintf("client%d@mailbox.example", i), "plan": "basic"})
	}
	docs = append(docs, map[string]string{"email": email, "plan": "pro"})
	must(t, f.os.Client.CreateIndex(ctx, "crm_export", ""))
	must(t, testenv.Bulk(ctx, f.os.Client, "crm_export", docs))

	pgAddr := f.net.Host(20)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{Addr: pgAddr, Port: 5432})
	pg.Exec(t, "postgres",
		`CREATE TABLE accounts (login text, created date)`,
		`INSERT INTO accounts SELECT 'member' || i, DATE '2020-01-01' + i FROM generate_series(1, 30) i`,
		fmt.Sprintf(`INSERT INTO accounts VALUES ('%s', DATE '2021-05-05')`, user),
		`ANALYZE accounts`)

	code, out, stderr := runCLI(t, "", "scan", "--ports", "9200,5432", "--format", "jsonl", "--key-file", f.keyFile,
		f.os.Addr.String(), pgAddr.String())
	if code != exitExposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(out, email) || strings.Contains(out, user) {
		t.Fatalf("output holds a raw canary value")
	}
	got := decodeFindings(t, out)
	check := func(host, dataset, label string) {
		t.Helper()
		fd, ok := got[host]
		if !ok {
			t.Fatalf("no finding for %s", host)
		}
		if !slices.Contains(fd.Flags, "canary") || fd.Severity != finding.SeverityCritical {
			t.Errorf("%s: flags %v severity %s, want canary/critical", host, fd.Flags, fd.Severity)
		}
		d, ok := datasetNamed(fd, dataset)
		if !ok || !slices.Contains(d.Canary, label) {
			t.Errorf("%s dataset %s: canaries %v, want %s", host, dataset, d.Canary, label)
		}
	}
	check(f.os.Addr.String(), "crm_export", "prod-customers")
	check(pgAddr.String(), "postgres.public.accounts", "billing-db")
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func keysCC(m map[string]finding.ClassCount) []string { return keys(m) }

// TestBadInput: bad targets and flags exit 2 and contact nothing, even
// when a valid target precedes the bad one.
func TestBadInput(t *testing.T) {
	decoy := probetest.NewDecoy(t, netip.Addr{}, 0) // counts connections: none may come
	live := decoy.AddrPort().String()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"scan", live, "300.1.2.3"}, "300.1.2.3"},
		{[]string{"scan", live, "10.0.0.0/8"}, "max-hosts"},
		{[]string{"scan", "--bogus", live}, "unknown flag"},
		{[]string{"scan", "--ports", "70000", live}, "port"},
		{[]string{"scan", "--format", "xml", live}, "format"},
		{[]string{"scan", "--rate", "-1", live}, "rate"},
		{[]string{"frobnicate"}, "unknown command"},
	}
	for _, c := range cases {
		code, _, stderr := runCLI(t, "", c.args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, stderr)
		}
		if !strings.Contains(stderr, c.want) {
			t.Errorf("%v: stderr %q lacks %q", c.args, stderr, c.want)
		}
	}
	time.Sleep(100 * time.Millisecond)
	if n := decoy.Accepts(); n != 0 {
		t.Fatalf("%d connections made on bad input", n)
	}
}

func TestHelpAndVersion(t *testing.T) {
	code, out, _ := runCLI(t, "", "scan", "--help")
	if code != exitOK || !strings.Contains(out, "--max-hosts") || !strings.Contains(out, "TARGET") {
		t.Errorf("scan --help: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "", "version")
	if code != exitOK || !strings.HasPrefix(out, "leakwatch ") {
		t.Errorf("version: %d %q", code, out)
	}
	code, _, errOut := runCLI(t, "")
	if code != exitUsage || !strings.Contains(errOut, "Commands:") {
		t.Errorf("no args: %d %q", code, errOut)
	}
}
