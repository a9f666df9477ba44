package output

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestJSONLValidatesAgainstSchema(t *testing.T) {
	out := render(t, FormatJSONL, Options{}, fixtureFindings())
	if err := ValidateJSONL(bytes.NewReader(out)); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(out, []byte("\n")); n != len(fixtureFindings()) {
		t.Errorf("%d lines for %d findings", n, len(fixtureFindings()))
	}
	if err := ValidateJSONL(strings.NewReader("")); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

func TestJSONLShape(t *testing.T) {
	f := fixtureFindings()[2]
	f.Datasets[0].Name = "<cust&omers>"
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	if err := w.Write(f); err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	if !strings.HasPrefix(line, `{"schema":"leakwatch.finding/v1","id":"`) || !strings.HasSuffix(line, "}\n") {
		t.Errorf("line = %.80q...", line)
	}
	if !strings.Contains(line, `"name":"<cust&omers>"`) {
		t.Error("HTML characters were escaped")
	}
	// Fields in the struct's order.
	var last int
	for _, key := range []string{`"schema"`, `"id"`, `"target"`, `"service"`, `"product"`, `"version"`, `"status"`, `"auth"`, `"severity"`, `"datasets"`, `"classes"`, `"evidence"`, `"observed_at"`} {
		i := strings.Index(line, key+":")
		if i < last {
			t.Errorf("%s at %d, before the previous field (%d)", key, i, last)
		}
		last = i
	}
	var back finding.Finding
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.ID != f.ID || back.TotalRecords() != f.TotalRecords() || !back.ObservedAt.Equal(f.ObservedAt) {
		t.Errorf("round trip lost data: %+v", back)
	}
}

// TestJSONLStreams: each Write is on the wire before Close.
func TestJSONLStreams(t *testing.T) {
	var buf bytes.Buffer
	w := New(FormatJSONL, &buf, Options{})
	for i, f := range fixtureFindings() {
		if err := w.Write(f); err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(buf.Bytes(), []byte("\n")); n != i+1 {
			t.Fatalf("after %d writes, %d lines", i+1, n)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestJSONLNormalizes: a finding straight from a prober (no Finalize, nil
// lists) still meets the contract, and the caller's finding is untouched.
func TestJSONLNormalizes(t *testing.T) {
	f := finding.Finding{
		Target:  finding.Target{Host: "127.0.0.4", Port: 6379},
		Service: "redis", Status: finding.StatusExposed, Auth: finding.AuthNone, Severity: finding.SeverityHigh,
		Datasets: []finding.Dataset{{Name: "db0", Kind: "keyspace", Classes: []finding.ClassCount{
			{Class: "email", Sampled: 3, Matched: 1, Source: "values"},
		}}},
		ObservedAt: observedAt,
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, []finding.Finding{f}); err != nil {
		t.Fatal(err)
	}
	if err := ValidateJSONL(&buf); err != nil {
		t.Fatal(err)
	}
	if f.Schema != "" || f.ID != "" || f.Classes != nil || f.Datasets[0].Classes[0].Examples != nil {
		t.Error("writing changed the caller's finding")
	}
}

func TestJSONLConcurrent(t *testing.T) {
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	fs := fixtureFindings()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range fs {
				if err := w.Write(f); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := ValidateJSONL(&buf); err != nil {
		t.Fatal(err)
	}
}

func TestValidateJSONLRejects(t *testing.T) {
	good := strings.TrimSuffix(string(render(t, FormatJSONL, Options{}, fixtureFindings()[:1])), "\n")
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("fixture line lacks %q", old)
		}
		return strings.Replace(good, old, new, 1) + "\n"
	}
	cases := map[string]string{
		"not json":           "{nope\n",
		"array":              "[]\n",
		"blank line":         good + "\n\n" + good + "\n",
		"unterminated":       good,
		"wrong schema":       edit(`"leakwatch.finding/v1"`, `"leakwatch.finding/v2"`),
		"bad status":         edit(`"status":"protected"`, `"status":"open"`),
		"bad auth":           edit(`"auth":"required"`, `"auth":"maybe"`),
		"bad severity":       edit(`"severity":"info"`, `"severity":"urgent"`),
		"port 0":             edit(`"port":9200`, `"port":0`),
		"port text":          edit(`"port":9200`, `"port":"9200"`),
		"bad time":           edit(`"observed_at":"2026-11-28T15:00:00Z"`, `"observed_at":"yesterday"`),
		"missing id":         edit(`"id":`, `"ident":`),
		"null datasets":      edit(`"datasets":[]`, `"datasets":null`),
		"bad class name":     edit(`"classes":[]`, `"classes":["E-Mail"]`),
		"duplicate classes":  edit(`"classes":[]`, `"classes":["email","email"]`),
		"negative records":   edit(`"datasets":[]`, `"datasets":[{"name":"a","kind":"index","records":-1,"sampled":0,"classes":[]}]`),
		"fractional records": edit(`"datasets":[]`, `"datasets":[{"name":"a","kind":"index","records":1.5,"sampled":0,"classes":[]}]`),
		"class without examples": edit(`"datasets":[]`,
			`"datasets":[{"name":"a","kind":"index","records":1,"sampled":1,"classes":[{"class":"email","sampled":1,"matched":1,"estimated_records":1,"source":"values"}]}]`),
	}
	for name, in := range cases {
		if err := ValidateJSONL(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
	err := ValidateJSONL(strings.NewReader(good + "\n" + edit(`"port":9200`, `"port":0`)))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("error does not name line 2: %v", err)
	}
	// Extra fields are welcome.
	if err := ValidateJSONL(strings.NewReader(edit(`"service":`, `"x_extra":{"a":1},"service":`))); err != nil {
		t.Errorf("extra field rejected: %v", err)
	}
}
