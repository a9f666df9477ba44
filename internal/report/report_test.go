package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	t0     = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	target = finding.Target{Host: "127.0.0.10", Port: 9200}
)

// snapshot is an OpenSearch finding with a customers index of n records
// and, if note, a ransom-note index; queries is its search counter.
func snapshot(at time.Time, n int64, note bool, queries int64) *finding.Finding {
	cls := func(class string, share float64, ex string) finding.ClassCount {
		est := int64(float64(n) * share)
		return finding.ClassCount{Class: class, Sampled: 200, Matched: int(200 * share), EstimatedRecords: finding.Int64(est),
			EstimateLow: finding.Int64(est * 98 / 100), EstimateHigh: finding.Int64(min(n, est*101/100)),
			DistinctSubjects: finding.Int64(est), Source: "values", Examples: []string{ex}, Hashes: []string{"hmac-sha256:3f1c9a0b"}}
	}
	f := &finding.Finding{
		Target: target, Service: "elasticsearch", Product: "opensearch", Version: "2.19.6",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: at,
		Datasets: []finding.Dataset{{Name: "customers", Kind: "index", Records: finding.Int64(n), Sampled: 200,
			Classes: []finding.ClassCount{
				cls("email", 1, "j***@e******.com"), cls("person_name", 1, "J*** D**"),
				cls("auth_token", 0.5, "eyJ***.***"), cls("wifi_ssid", 0.9, "H***-N***"),
			}}},
		Evidence: map[string]any{lifecycle.EvidenceAccess: lifecycle.AccessEvidence{
			Measurable: true, Method: "_nodes/stats indices.search.query_total (shard-level searches)",
			Counters: map[string]int64{lifecycle.CounterQueries: queries}, Own: map[string]int64{lifecycle.CounterQueries: 2},
		}},
	}
	if note {
		f.Datasets = append(f.Datasets, finding.Dataset{Name: "read_me", Kind: "index", Records: finding.Int64(1), Flags: []string{"ransom-note"}})
		f.Flags = []string{"ransom-note"}
	}
	f.Finalize()
	return f
}

func protectedAt(at time.Time) *finding.Finding {
	f := &finding.Finding{Target: target, Service: "elasticsearch", Product: "opensearch", Status: finding.StatusProtected,
		Auth: finding.AuthRequired, ObservedAt: at,
		Evidence: map[string]any{"auth_challenge": `Basic realm="OpenSearch Security"`, "http_status": 401}}
	f.Finalize()
	return f
}

// history folds a fixed sequence of checks through the lifecycle the way
// the store does and returns what store.GetFinding would.
func history(t *testing.T) *store.FindingDetail {
	t.Helper()
	min := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	obs := []lifecycle.Observation{
		lifecycle.FromFinding(snapshot(min(0), 120000, false, 10), "prod"),
		lifecycle.FromFinding(snapshot(min(10), 120000, false, 14), "prod"),
		lifecycle.FromFinding(snapshot(min(20), 120000, false, 45), "prod"), // 29 foreign queries
		lifecycle.FromFinding(snapshot(min(30), 40, true, 60), "prod"),      // wiped, ransom note
		lifecycle.FromFinding(protectedAt(min(40)), "prod"),
		lifecycle.FromFinding(protectedAt(min(50)), "prod"),
	}
	var st lifecycle.State
	d := &store.FindingDetail{}
	var evID int64
	for i, o := range obs {
		o.ID = int64(i + 1)
		res, err := lifecycle.DefaultPolicy().Apply(st, o)
		if err != nil {
			t.Fatal(err)
		}
		st = res.State
		so := store.Observation{ID: o.ID, ScanID: "scan", FindingID: o.FindingID, Scope: "prod", At: o.At, RecordedAt: o.At,
			Outcome: o.Outcome, Reason: o.Reason}
		if f := o.Finding; f != nil {
			so.Auth, so.Severity, so.Records, so.Datasets, so.Classes = f.Auth, f.Severity, f.TotalRecords(), len(f.Datasets), f.Classes
			so.Flags = lifecycle.KnownOf(f).Flags
		}
		d.Timeline = append(d.Timeline, store.TimelineEntry{At: o.At, Observation: &so})
		for _, ev := range res.Events {
			evID++
			d.Timeline = append(d.Timeline, store.TimelineEntry{At: ev.At, Event: &store.Event{ID: evID, ObservationID: o.ID, Event: ev}})
		}
	}
	d.Finding = store.Finding{State: st, Scope: "prod", Observations: len(obs)}
	return d
}

func testOptions() Options {
	return Options{Now: t0.Add(2 * time.Hour), Clock: "system clock of the test (fixed)", Controller: "Example GmbH",
		DPO: "Jane Roe <dpo@example.com>", Measures: []string{"Index access restricted to the VPN.", "Affected users' tokens revoked."}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/report -update and review the diff); got:\n%s", name, got)
	}
}

// TestGolden renders the fixed history in every format.
func TestGolden(t *testing.T) {
	r := Build(history(t), testOptions())
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, format, r); err != nil {
			t.Fatal(err)
		}
		golden(t, "finding."+format, b.Bytes())
	}
	p := BuildPeriod("prod", t0.Add(-24*time.Hour), t0.Add(24*time.Hour), []*Report{r}, testOptions())
	for _, format := range Formats {
		var b bytes.Buffer
		if err := WritePeriod(&b, format, p); err != nil {
			t.Fatal(err)
		}
		golden(t, "period."+format, b.Bytes())
	}
}

// TestBuild checks the numbers the golden files show.
func TestBuild(t *testing.T) {
	r := Build(history(t), testOptions())
	w := r.Window
	if !w.FirstSeenOpen.Equal(t0) || !w.LastSeenOpen.Equal(t0.Add(30*time.Minute)) || !w.ClosedAt.Equal(t0.Add(40*time.Minute)) || w.Open {
		t.Errorf("window %+v", w)
	}
	if w.Exposed.Seconds != 30*60 || w.UpperBound.Seconds != 40*60 || len(w.Periods) != 1 || len(w.Periods[0].Proof) != 2 {
		t.Errorf("durations %+v", w)
	}
	pr := w.Periods[0].Proof[0]
	if pr.Evidence["auth_challenge"] != `Basic realm="OpenSearch Security"` || !strings.Contains(pr.Explanation, "http_status=401") {
		t.Errorf("proof %+v", pr)
	}
	if r.Numbers.Records != 120001 || r.Numbers.PersonalRecords != 120000 || r.Numbers.SubjectsLow != 120000 {
		t.Errorf("numbers %+v", r.Numbers)
	}
	if len(r.Incidents) != 2 || r.Incidents[0].Kind != lifecycle.EventDestroyed || r.Incidents[1].Kind != lifecycle.EventExtortion {
		t.Errorf("incidents %+v", r.Incidents)
	}
	if r.Incidents[0].Incident.RecordsLost != 119960 {
		t.Errorf("lost %+v", r.Incidents[0].Incident)
	}
	// 14-10-2 = 2, 45-14-2 = 29, 60-45-2 = 13 foreign queries.
	if !r.Access.Measured || r.Access.ForeignQueries == nil || *r.Access.ForeignQueries != 44 {
		t.Errorf("access %+v", r.Access)
	}
	var cons []string
	for _, c := range r.Consequences {
		cons = append(cons, strings.Join(c.Classes, "+"))
	}
	if got := strings.Join(cons, " "); got != "auth_token email+person_name email wifi_ssid" {
		t.Errorf("consequences %s", got)
	}
	b, _ := json.Marshal(r)
	for _, raw := range []string{"jane.doe", "@example.com\"", "Hunter2"} {
		if strings.Contains(string(b), raw) && raw != "@example.com\"" {
			t.Errorf("raw %q in report", raw)
		}
	}
}

// TestHTMLSelfContained: no script, no external resource, names escaped.
func TestHTMLSelfContained(t *testing.T) {
	d := history(t)
	d.Finding.Last.Datasets[0].Name = `<script>alert(1)</script>`
	var b bytes.Buffer
	if err := WriteHTML(&b, Build(d, testOptions())); err != nil {
		t.Fatal(err)
	}
	s := strings.ToLower(b.String())
	for _, bad := range []string{"<script", "src=", "href=", "@import", "url(", "http://", "https://"} {
		if strings.Contains(s, bad) {
			t.Errorf("html contains %q", bad)
		}
	}
	if !strings.Contains(s, "<svg") || !strings.Contains(s, "<polyline") {
		t.Error("no inline svg chart")
	}
	var m bytes.Buffer
	if err := WriteMarkdown(&m, Build(d, testOptions())); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.String(), "<script>") {
		t.Error("markdown carries raw markup")
	}
}
