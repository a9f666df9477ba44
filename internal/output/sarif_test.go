package output

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const sarifSchemaFile = "testdata/sarif-2.1.0-rtm.5.schema.json"

// validateSARIF checks a log against the published SARIF 2.1.0 schema,
// formats (uri, uri-reference, date-time) asserted as GitHub's upload does.
func validateSARIF(t *testing.T, log []byte) {
	t.Helper()
	if err := sarifSchemaCheck(t, log); err != nil {
		t.Fatalf("SARIF log does not match the 2.1.0 schema: %v", err)
	}
}

func sarifSchemaCheck(t *testing.T, log []byte) error {
	t.Helper()
	raw, err := os.ReadFile(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(sarifSchemaFile, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// TestSARIFSchemaBites: the schema check rejects what GitHub would.
func TestSARIFSchemaBites(t *testing.T) {
	good := render(t, FormatSARIF, Options{}, fixtureFindings())
	for _, bad := range [][2]string{
		{`"level": "error"`, `"level": "critical"`},
		{`"version": "2.1.0"`, `"version": "2.2"`},
		{`"ruleIndex": 0`, `"ruleIndex": -2`},
		{`"text": "Data store readable without credentials"`, `"txt": "x"`},
		{`"startLine": 1`, `"startLine": 0`},
	} {
		mutated := bytes.Replace(good, []byte(bad[0]), []byte(bad[1]), 1)
		if bytes.Equal(mutated, good) {
			t.Fatalf("log lacks %s", bad[0])
		}
		if err := sarifSchemaCheck(t, mutated); err == nil {
			t.Errorf("schema accepted %s", bad[1])
		}
	}
}

// sarifDoc is the part of a SARIF log the assertions read.
type sarifDoc struct {
	Schema  string `json:"$schema"`
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name    string `json:"name"`
				Version string `json:"version"`
				Rules   []struct {
					ID         string `json:"id"`
					Name       string `json:"name"`
					Properties struct {
						Tags             []string `json:"tags"`
						SecuritySeverity string   `json:"security-severity"`
					} `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct {
				Text string `json:"text"`
			} `json:"message"`
			Locations []struct {
				PhysicalLocation struct {
					ArtifactLocation struct {
						URI string `json:"uri"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				LogicalLocations []struct {
					FullyQualifiedName string `json:"fullyQualifiedName"`
					Kind               string `json:"kind"`
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          struct {
				FindingID string `json:"finding_id"`
				Records   int64  `json:"records"`
				Classes   []struct {
					Class            string `json:"class"`
					EstimatedRecords *int64 `json:"estimated_records"`
				} `json:"classes"`
			} `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func TestSARIFValidAndShaped(t *testing.T) {
	out := render(t, FormatSARIF, Options{ToolVersion: "1.2.3"}, fixtureFindings())
	validateSARIF(t, out)
	var doc sarifDoc
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2.1.0" || !strings.Contains(doc.Schema, "sarif-2.1.0") || len(doc.Runs) != 1 {
		t.Fatalf("header: %q %q runs=%d", doc.Version, doc.Schema, len(doc.Runs))
	}
	run := doc.Runs[0]
	if run.Tool.Driver.Name != "leakwatch" || run.Tool.Driver.Version != "1.2.3" {
		t.Errorf("driver = %+v", run.Tool.Driver)
	}
	ruleIDs := map[string]int{}
	for i, r := range run.Tool.Driver.Rules {
		ruleIDs[r.ID] = i
		if !strings.HasPrefix(r.ID, "LW") || r.Name == "" || !contains(r.Properties.Tags, "security") {
			t.Errorf("rule %+v", r)
		}
	}
	for id, name := range map[string]string{"LW001": "exposed-data-store", "LW002": "protected-data-store", "LW003": "ransom-note", "LW004": "code-execution"} {
		i, ok := ruleIDs[id]
		if !ok || run.Tool.Driver.Rules[i].Name != name {
			t.Errorf("rule %s %s missing", id, name)
		}
	}

	// 5 findings, the ransom-note one yields a second result.
	type want struct{ rule, level, uri string }
	wants := []want{
		{"LW001", "error", "tcp/127.0.0.5:9200"},
		{"LW001", "error", "tcp/127.0.0.10:9201"},
		{"LW003", "error", "tcp/127.0.0.10:9201"},
		{"LW001", "warning", "tcp/127.0.0.7:6379"},
		{"LW002", "note", "tcp/127.0.0.6:9200"},
		{"LW006", "note", "tcp/127.0.0.8:27017"},
	}
	if len(run.Results) != len(wants) {
		t.Fatalf("%d results, want %d", len(run.Results), len(wants))
	}
	for i, w := range wants {
		r := run.Results[i]
		if r.RuleID != w.rule || r.Level != w.level || ruleIDs[r.RuleID] != r.RuleIndex {
			t.Errorf("result %d: rule %s (index %d) level %s; want %+v", i, r.RuleID, r.RuleIndex, r.Level, w)
		}
		if len(r.Locations) != 1 {
			t.Fatalf("result %d: %d locations", i, len(r.Locations))
		}
		loc := r.Locations[0]
		if loc.PhysicalLocation.ArtifactLocation.URI != w.uri || loc.PhysicalLocation.Region.StartLine != 1 {
			t.Errorf("result %d: physical location %+v, want %s line 1", i, loc.PhysicalLocation, w.uri)
		}
		if fq := loc.LogicalLocations[0].FullyQualifiedName; fq != "tcp://"+strings.TrimPrefix(w.uri, "tcp/") {
			t.Errorf("result %d: logical location %q", i, fq)
		}
		if fp := r.PartialFingerprints[sarifFingerprintKey]; fp == "" || fp != r.Properties.FindingID {
			t.Errorf("result %d: fingerprint %q, finding id %q", i, fp, r.Properties.FindingID)
		}
	}
	os := run.Results[0]
	for _, s := range []string{"opensearch 2.19.6", "tcp://127.0.0.5:9200", "without credentials", "3 datasets", "2.41M records", "username ~2.40M", "auth_token ~1.80M"} {
		if !strings.Contains(os.Message.Text, s) {
			t.Errorf("message lacks %q: %s", s, os.Message.Text)
		}
	}
	if os.Properties.Records != 2_412_000 || len(os.Properties.Classes) != 5 || os.Properties.Classes[0].Class != "username" ||
		os.Properties.Classes[0].EstimatedRecords == nil || *os.Properties.Classes[0].EstimatedRecords != 2_400_000 {
		t.Errorf("properties = %+v", os.Properties)
	}
}

func TestSARIFEmptyAndIPv6(t *testing.T) {
	validateSARIF(t, render(t, FormatSARIF, Options{}, nil))
	f := fixtureFindings()[1]
	f.Target.Host = "::1"
	out := render(t, FormatSARIF, Options{}, append(fixtureFindings()[:1], f))
	validateSARIF(t, out)
	if !bytes.Contains(out, []byte(`"uri": "tcp/%5B::1%5D:6379"`)) || !bytes.Contains(out, []byte(`"fullyQualifiedName": "tcp://[::1]:6379"`)) {
		t.Errorf("IPv6 location:\n%s", out)
	}
}

func TestSARIFLevels(t *testing.T) {
	for sev, want := range map[string]string{"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note", "": "note"} {
		if got := sarifLevel(severityOf(sev)); got != want {
			t.Errorf("sarifLevel(%q) = %q, want %q", sev, got, want)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
