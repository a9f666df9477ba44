package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// hostilePath is a file name someone else chose: a terminal title escape,
// a colour, a bidi override, a newline, URI delimiters and invalid UTF-8.
const hostilePath = "/srv/in box/\x1b]0;pwned\x07\x1b[31mred\u202egpj.exe\nx?#%\xff.csv"

// fileFindings are what `leakwatch classify` reports: one file with
// personal data and a password, one with a hostile name and nothing
// found, and stdin.
func fileFindings() []finding.Finding {
	fs := []finding.Finding{
		{
			Target: finding.FileTarget("/srv/exports/users.csv"), Service: "file", Product: "leakwatch classify",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{{
				Name: "users.csv", Kind: "file", Records: finding.Int64(3), Bytes: finding.Int64(120), Sampled: 3,
				Fields: []finding.Field{{Name: "email"}, {Name: "password"}},
				Classes: []finding.ClassCount{
					classCount("email", 3, 3, 3, "j***@e******.com"),
					classCount("password", 2, 3, 3, "h*****2***"),
				},
			}},
		},
		{
			Target: finding.FileTarget(hostilePath), Service: "file", Product: "leakwatch classify",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{{Name: "x.csv", Kind: "file", Records: finding.Int64(1), Sampled: 1}},
		},
		{
			Target: finding.FileTarget(finding.StdinPath), Service: "file", Product: "leakwatch classify",
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Datasets: []finding.Dataset{{Name: "stdin", Kind: "file", Records: finding.Int64(1), Sampled: 1,
				Classes: []finding.ClassCount{classCount("email", 1, 1, 1, "b**@c***.io")}}},
			Flags: []string{"canary"},
		},
	}
	for i := range fs {
		fs[i].ObservedAt = observedAt
		fs[i].Finalize()
	}
	return fs
}

func TestFileTargetGolden(t *testing.T) {
	opts := Options{ToolVersion: "1.2.3"}
	verbose := opts
	verbose.Verbose = true
	for _, tc := range []struct {
		name   string
		format Format
		opts   Options
	}{
		{"files-table.txt", FormatTable, verbose},
		{"files.jsonl", FormatJSONL, opts},
		{"files.sarif", FormatSARIF, opts},
		{"files.ocsf.jsonl", FormatOCSF, opts},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, render(t, tc.format, tc.opts, fileFindings()))
		})
	}
}

// TestFileTargetWriters: each writer renders a file target as a file —
// the JSONL contract's {"kind":"file","path"} (schema-valid, no host or
// port), SARIF's file URI as the artifact under rule LW008, OCSF's File
// resource, the table's path — and the hostile name reaches none of them
// raw.
func TestFileTargetWriters(t *testing.T) {
	fs := fileFindings()
	mixed := append(fileFindings(), fixtureFindings()...)
	outs := map[Format][]byte{}
	for _, f := range allFormats {
		outs[f] = render(t, f, Options{Verbose: true}, mixed)
	}
	for f, out := range outs {
		for _, raw := range []string{"\x1b", "\x07", "\u202e", "\xff", "pwned\x07"} {
			if bytes.Contains(out, []byte(raw)) {
				t.Errorf("%v output holds the raw %q of a file name", f, raw)
			}
		}
	}

	// JSONL: the contract, and nothing of a network target.
	if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
		t.Fatalf("JSONL with file targets fails the schema: %v", err)
	}
	lines := jsonLines(t, outs[FormatJSONL])
	var files int
	for _, l := range lines {
		var doc struct {
			ID     string                     `json:"id"`
			Target map[string]json.RawMessage `json:"target"`
		}
		must(t, json.Unmarshal(l, &doc))
		if _, ok := doc.Target["kind"]; !ok {
			continue
		}
		files++
		if len(doc.Target) != 2 || string(doc.Target["kind"]) != `"file"` {
			t.Errorf("file target %s", l)
		}
		var back finding.Finding
		must(t, json.Unmarshal(l, &back))
		// (JSON carries invalid UTF-8 as U+FFFD: that path reads back changed.)
		if !back.Target.IsFile() || utf8.ValidString(back.Target.Path) && !strings.ContainsRune(back.Target.Path, utf8.RuneError) && back.ID != finding.Fingerprint(back.Target, "file") {
			t.Errorf("file finding read back: %+v", back.Target)
		}
	}
	if files != len(fs) {
		t.Errorf("%d file targets in JSONL, want %d", files, len(fs))
	}
	if !bytes.Contains(outs[FormatJSONL], []byte(`"target":{"kind":"file","path":"/srv/exports/users.csv"}`)) {
		t.Errorf("JSONL lacks the file target:\n%s", outs[FormatJSONL])
	}

	// SARIF: valid, the file URI as artifact and logical location, rule LW008.
	validateSARIF(t, outs[FormatSARIF])
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string } `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []sarifResult `json:"results"`
		} `json:"runs"`
	}
	must(t, json.Unmarshal(outs[FormatSARIF], &log))
	rules := log.Runs[0].Tool.Driver.Rules
	uris := map[string]string{}
	for _, r := range log.Runs[0].Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(rules) || rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %s points at rule %d", r.RuleID, r.RuleIndex)
		}
		if r.Properties.Service == "file" {
			uris[r.RuleID+" "+r.Locations[0].PhysicalLocation.ArtifactLocation.URI] = r.Message.Text
		}
	}
	for _, want := range []string{
		"LW008 file:///srv/exports/users.csv",
		"LW008 file:///srv/in%20box/%1B%5D0;pwned%07%1B%5B31mred%E2%80%AEgpj.exe%0Ax%3F%23%25%FF.csv",
		"LW008 stdin", "LW007 stdin",
	} {
		if _, ok := uris[want]; !ok {
			t.Errorf("SARIF lacks result %q; has %v", want, uris)
		}
	}
	if msg := uris["LW008 file:///srv/exports/users.csv"]; !strings.HasPrefix(msg, "Local file file:///srv/exports/users.csv: 1 dataset, 3 records.") || strings.Contains(msg, "data store") {
		t.Errorf("SARIF message for a file: %q", msg)
	}
	// A log of network findings alone does not list the file rule.
	if bytes.Contains(render(t, FormatSARIF, Options{}, fixtureFindings()), []byte("LW008")) {
		t.Error("a network-only SARIF log lists LW008")
	}

	// OCSF: the resource is a file, the vulnerability names it.
	for _, l := range jsonLines(t, outs[FormatOCSF]) {
		var ev struct {
			Resources []struct {
				UID, Name, Type string
				IP              string `json:"ip"`
				Data            map[string]any
			} `json:"resources"`
			Vulnerabilities []struct {
				CWE          *ocsfCWE           `json:"cwe"`
				AffectedCode []ocsfAffectedCode `json:"affected_code"`
			} `json:"vulnerabilities"`
			Unmapped struct {
				Classes []string `json:"classes"`
			} `json:"unmapped"`
		}
		must(t, json.Unmarshal(l, &ev))
		r := ev.Resources[0]
		if r.Data["service"] != "file" {
			if r.Type != ocsfResourceType || len(ev.Vulnerabilities[0].AffectedCode) != 0 {
				t.Errorf("network event changed: %s", l)
			}
			continue
		}
		ac := ev.Vulnerabilities[0].AffectedCode
		if r.Type != "File" || r.Data["path"] == nil || r.Data["port"] != nil || len(ac) != 1 || ac[0].File.TypeID != 1 || ac[0].File.Path != r.Data["path"] {
			t.Errorf("OCSF file resource: %s", l)
		}
		if cwe := ev.Vulnerabilities[0].CWE; len(ev.Unmapped.Classes) > 0 && (cwe == nil || cwe.UID != "CWE-312") {
			t.Errorf("OCSF file with classes %v: cwe %+v", ev.Unmapped.Classes, cwe)
		}
		if r.Data["path"] == "/srv/exports/users.csv" && (r.Name != "/srv/exports/users.csv" || r.UID != "file:///srv/exports/users.csv" || ac[0].File.Name != "users.csv") {
			t.Errorf("OCSF users.csv resource: %s", l)
		}
	}

	// Table: the path (escaped), files counted as files.
	table := string(render(t, FormatTable, Options{}, fs))
	for _, want := range []string{"/srv/exports/users.csv", `/srv/in box/\x1b]0;pwned\x07\x1b[31mred\u202egpj.exe\x0ax?#%\ufffd.csv`, "stdin", "3 files: 3 exposed"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}

// TestFileTargetNonsense: a target that is half file, half network (or of
// an unknown kind) is never written with a part dropped: each writer
// writes its error record, which keeps the path and passes the schema.
func TestFileTargetNonsense(t *testing.T) {
	bad := []finding.Finding{
		{Target: finding.Target{Kind: finding.TargetFile, Path: "/srv/a.csv", Port: 9200}, Service: "file", Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: observedAt},
		{Target: finding.Target{Host: "127.0.0.5", Port: 9200, Path: "/srv/b.csv"}, Service: "redis", Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: observedAt},
		{Target: finding.Target{Kind: "socket", Path: "/run/c.sock"}, Service: "redis", Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: observedAt},
	}
	outs := renderAll(t, bad)
	if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
		t.Fatalf("error records fail the schema: %v\n%s", err, outs[FormatJSONL])
	}
	lines := jsonLines(t, outs[FormatJSONL])
	if len(lines) != len(bad) {
		t.Fatalf("%d lines for %d findings", len(lines), len(bad))
	}
	for i, l := range lines {
		var f finding.Finding
		must(t, json.Unmarshal(l, &f))
		if f.Error == "" || f.Flags[0] != FlagWriteError {
			t.Errorf("%+v written as %s", bad[i].Target, l)
		}
		if i == 0 && (f.Target != finding.FileTarget("/srv/a.csv")) {
			t.Errorf("the error record of a file target with a port: %+v", f.Target)
		}
		if i > 0 && f.Target.IsFile() {
			t.Errorf("the error record of %+v is a file: %s", bad[i].Target, l)
		}
	}
	// The schema refuses the mixtures as documents too.
	for _, doc := range []string{
		`{"kind":"file","path":"/a","port":1}`,
		`{"kind":"file","path":"/a","host":"127.0.0.1"}`,
		`{"kind":"file","path":""}`,
		`{"kind":"socket","path":"/a"}`,
		`{"host":"127.0.0.1","port":1,"hostname":"","kind":"file"}`,
		`{"host":"127.0.0.1","port":1,"hostname":"","path":"/a"}`,
		`{"host":"","port":1,"hostname":""}`,
		`{"path":"/a"}`,
	} {
		line := `{"schema":"leakwatch.finding/v1","id":"x","target":` + doc + `,"service":"file","status":"exposed","auth":"none","severity":"low","datasets":[],"classes":[],"observed_at":"2026-11-28T15:00:00Z"}`
		if ValidateFinding([]byte(line)) == nil {
			t.Errorf("schema accepts target %s", doc)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
