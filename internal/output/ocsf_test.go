package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func severityOf(s string) finding.Severity { return finding.Severity(s) }

func TestOCSFEvents(t *testing.T) {
	fs := fixtureFindings()
	out := render(t, FormatOCSF, Options{ToolVersion: "1.2.3"}, fs)
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	var events []map[string]any
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %d: %v", len(events)+1, err)
		}
		events = append(events, ev)
	}
	if len(events) != len(fs) {
		t.Fatalf("%d events for %d findings", len(events), len(fs))
	}
	wantSeverity := map[finding.Severity]float64{finding.SeverityInfo: 1, finding.SeverityMedium: 3, finding.SeverityCritical: 5}
	for i, ev := range events {
		f := fs[i] // OCSF streams in arrival order
		for k, v := range map[string]float64{"class_uid": 2002, "category_uid": 2, "activity_id": 1, "type_uid": 200201, "status_id": 1} {
			if ev[k] != v {
				t.Errorf("event %d: %s = %v, want %v", i, k, ev[k], v)
			}
		}
		if ev["severity_id"] != wantSeverity[f.Severity] {
			t.Errorf("event %d: severity_id %v for %s", i, ev["severity_id"], f.Severity)
		}
		if ev["time"] != float64(observedAt.UnixMilli()) {
			t.Errorf("event %d: time %v, want ms", i, ev["time"])
		}
		md := ev["metadata"].(map[string]any)
		prod := md["product"].(map[string]any)
		if md["version"] != OCSFVersion || prod["name"] != "leakwatch" || prod["version"] != "1.2.3" {
			t.Errorf("event %d: metadata %v", i, md)
		}
		fi := ev["finding_info"].(map[string]any)
		if fi["uid"] != f.ID || fi["title"] == "" || fi["last_seen_time"] != ev["time"] {
			t.Errorf("event %d: finding_info %v", i, fi)
		}
		res := ev["resources"].([]any)[0].(map[string]any)
		if res["type"] != "Data Store" || res["uid"] != "tcp://"+f.Target.Addr() || res["ip"] != f.Target.Host {
			t.Errorf("event %d: resource %v", i, res)
		}
		if len(ev["vulnerabilities"].([]any)) == 0 {
			t.Errorf("event %d: no vulnerabilities (required)", i)
		}
		um := ev["unmapped"].(map[string]any)
		if um["status"] != string(f.Status) || len(um["datasets"].([]any)) != len(f.Datasets) {
			t.Errorf("event %d: unmapped %v", i, um)
		}
	}
	// The open OpenSearch: CWE-306, datasets and classes carried along.
	os := events[2]
	v := os["vulnerabilities"].([]any)[0].(map[string]any)
	if v["cwe"].(map[string]any)["uid"] != "CWE-306" {
		t.Errorf("vulnerability %v", v)
	}
	if cls := os["unmapped"].(map[string]any)["classes"].([]any); len(cls) != 5 {
		t.Errorf("classes %v", cls)
	}
	// The ransom note is a second vulnerability.
	if n := len(events[4]["vulnerabilities"].([]any)); n != 2 {
		t.Errorf("ransom-note finding has %d vulnerabilities, want 2", n)
	}
}

func TestOCSFTimeWithoutObservedAt(t *testing.T) {
	f := fixtureFindings()[0]
	f.ObservedAt = time.Time{}
	var buf bytes.Buffer
	w := NewOCSFWriter(&buf, Options{})
	now := time.Date(2027, 1, 2, 3, 4, 5, 6_000_000, time.UTC)
	w.now = func() time.Time { return now }
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Time     int64 `json:"time"`
		Metadata struct {
			Product struct {
				Version string `json:"version"`
			} `json:"product"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(buf.Bytes(), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Time != now.UnixMilli() || ev.Metadata.Product.Version != "dev" {
		t.Errorf("time %d (want %d), version %q", ev.Time, now.UnixMilli(), ev.Metadata.Product.Version)
	}
}

func TestOCSFSeverityMap(t *testing.T) {
	for sev, want := range map[finding.Severity]int{
		finding.SeverityInfo: 1, finding.SeverityLow: 2, finding.SeverityMedium: 3,
		finding.SeverityHigh: 4, finding.SeverityCritical: 5, "": 0,
	} {
		if got, _ := ocsfSeverity(sev); got != want {
			t.Errorf("ocsfSeverity(%q) = %d, want %d", sev, got, want)
		}
	}
}
