package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// TestFileTargetReport: a report about a file (the history never holds
// one — lifecycle refuses it — but Build is pure rendering) names the file
// by its path, with terminal and bidi controls made visible, speaks of a
// file rather than a data store at an address, and its JSON keeps the
// contract's file target.
func TestFileTargetReport(t *testing.T) {
	const path = "/srv/exports/\x1b]0;pwned\x07us\u202eers|*.csv"
	f := &finding.Finding{Target: finding.FileTarget(path), Service: "file", Product: "leakwatch classify",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: t0,
		Datasets: []finding.Dataset{{Name: "users.csv", Kind: "file", Records: finding.Int64(3), Sampled: 3,
			Classes: []finding.ClassCount{{Class: "email", Sampled: 3, Matched: 3, EstimatedRecords: finding.Int64(3), Source: "values", Examples: []string{"j***@e******.com"}}}}}}
	f.Finalize()
	if _, err := lifecycle.DefaultPolicy().Apply(lifecycle.State{}, lifecycle.FromFinding(f, "")); err == nil {
		t.Error("the lifecycle took a file target")
	}
	d := &store.FindingDetail{Finding: store.Finding{State: lifecycle.State{
		ID: f.ID, Target: f.Target, Service: f.Service, Status: lifecycle.StatusOpen, Severity: f.Severity,
		FirstSeen: t0, LastSeen: t0, LastSeenOpen: t0, Last: f, Baseline: f,
	}, Observations: 1}}
	r := Build(d, testOptions())
	visible := `/srv/exports/\x1b]0;pwned\x07us\u202eers|*.csv`
	if !strings.HasPrefix(r.Nature[0], "Personal data in a file: "+visible+" holds") {
		t.Errorf("nature: %q", r.Nature[0])
	}
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, format, r); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, raw := range []string{"\x1b", "\x07", "\u202e"} {
			if strings.Contains(out, raw) {
				t.Errorf("%s report holds the raw %q of the path", format, raw)
			}
		}
		if strings.Contains(out, "data store at") {
			t.Errorf("%s report speaks of a data store at an address", format)
		}
		switch format {
		case "md":
			if !strings.HasPrefix(out, "# Incident report: file on /srv/exports/\\\\x1b\\]0;pwned\\\\x07us\\\\u202eers\\|\\*.csv\n") {
				t.Errorf("markdown title: %.120q", out)
			}
		case "html":
			if !strings.Contains(out, "<h1>Incident report: file on "+visible+"</h1>") {
				t.Errorf("html lacks the path title")
			}
		case "json":
			var back struct {
				Finding struct {
					Target finding.Target `json:"target"`
				} `json:"finding"`
			}
			if err := json.Unmarshal(b.Bytes(), &back); err != nil || back.Finding.Target != f.Target {
				t.Errorf("json target %+v, %v", back.Finding.Target, err)
			}
		}
	}
	var b bytes.Buffer
	p := BuildPeriod("", t0.Add(-time.Hour), t0.Add(time.Hour), []*Report{r}, testOptions())
	for _, format := range Formats {
		b.Reset()
		if err := WritePeriod(&b, format, p); err != nil {
			t.Fatal(err)
		}
		if format != "json" && !strings.Contains(b.String(), `\x1b`) || strings.Contains(b.String(), "\x1b") {
			t.Errorf("%s period report: the path not shown escaped", format)
		}
	}
}
