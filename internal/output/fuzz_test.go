package output

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
)

// Values planted in every server-controlled name of the fuzzed finding;
// none may appear in any output.
const (
	fuzzEmail = "planted.subject@example.org"
	fuzzToken = "ghp_pLaNtEdT0kEn0123456789abcdefghijklmn"
)

var (
	fuzzEngOnce sync.Once
	fuzzEng     *classify.RuleClassifier
)

func fuzzClassifier(t testing.TB) *classify.RuleClassifier {
	fuzzEngOnce.Do(func() {
		e, err := classify.New(classify.Options{Key: []byte("fuzz-key-0123456789abcdef")})
		if err != nil {
			t.Fatal(err)
		}
		fuzzEng = e
	})
	return fuzzEng
}

// FuzzServerValuesToWriters takes what a server reports — dataset counts
// and sizes, a sample size, names, a banner, evidence numbers — through
// the engine's path (classify on the original names, classify.Scrub,
// finding.Finalize) into every writer, and asserts: no panic, every
// writer writes the finding, JSONL validates against the schema, SARIF
// against its schema, 0 ≤ low ≤ estimate ≤ high ≤ records, no planted
// value and no bidi/control rune anywhere in any output.
func FuzzServerValuesToWriters(f *testing.F) {
	f.Fuzz(func(t *testing.T, records, size int64, sampled int, matched uint8, name, field, banner string, evNum float64, evInt int64) {
		e := fuzzClassifier(t)
		n := int(matched % 12)
		var sample []classify.Record
		for i := range n {
			sample = append(sample, classify.Record{Values: []classify.Value{
				{Path: field, Text: "user" + strconv.Itoa(i) + "@example.net"},
				{Path: "contacts." + fuzzEmail, Text: name},
			}})
		}
		for range n / 3 {
			sample = append(sample, classify.Record{Values: []classify.Value{{Path: field, Text: banner}}})
		}
		fields := []finding.Field{
			{Name: field, Type: banner},
			{Name: "contacts." + fuzzEmail, Type: "keyword"},
			{Name: "tokens:" + fuzzToken, Type: "keyword"},
		}
		out := e.Classify(classify.Input{Schema: fields, Sample: sample, Records: &records})
		fd := &finding.Finding{
			Target:  finding.Target{Host: "127.0.0.77", Port: 9200},
			Service: "elasticsearch", Product: banner, Version: banner + " " + fuzzToken,
			Status: finding.StatusExposed, Auth: finding.AuthNone,
			Flags: []string{banner},
			Error: "server said: " + banner + " " + fuzzEmail,
			Evidence: map[string]any{
				"num": evNum, "int": evInt, "banner": banner, fuzzEmail: 1,
				"typed": map[string]int64{name: evInt, fuzzToken: 2},
			},
			Datasets: []finding.Dataset{
				{Name: name + " " + fuzzEmail, Kind: "index", Records: &records, Bytes: &size, Sampled: sampled,
					Fields: fields, Classes: out.Classes, Canary: out.Canaries},
				{Name: banner, Kind: "index", Records: finding.Int64(records / 2), Bytes: finding.Int64(-size)},
			},
			ObservedAt: observedAt,
		}
		classify.Scrub(fd)
		fd.Finalize()

		outs := renderAll(t, []finding.Finding{*fd})
		if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
			t.Fatalf("JSONL fails the schema: %v\n%s", err, outs[FormatJSONL])
		}
		var back finding.Finding
		if err := json.Unmarshal(outs[FormatJSONL], &back); err != nil {
			t.Fatal(err)
		}
		for _, d := range back.Datasets {
			for _, c := range d.Classes {
				checkOrdered(t, d, c)
			}
		}
		for format, b := range outs {
			if bytes.Contains(b, []byte(FlagWriteError)) {
				t.Errorf("%v: the finding was not rendered:\n%s", format, b)
			}
			for _, raw := range []string{fuzzEmail, fuzzToken} {
				if bytes.Contains(b, []byte(raw)) {
					t.Fatalf("%v: planted %q written raw:\n%s", format, raw, b)
				}
			}
			if !utf8.Valid(b) {
				t.Errorf("%v: invalid UTF-8", format)
			}
			for _, r := range string(b) {
				if finding.Unsafe(r) && r != '\n' && !(r == 0x1b && format == FormatTable) {
					t.Fatalf("%v: raw %U in output", format, r)
				}
			}
		}
	})
}

func checkOrdered(t *testing.T, d finding.Dataset, c finding.ClassCount) {
	t.Helper()
	if c.EstimatedRecords == nil {
		if c.EstimateLow != nil || c.EstimateHigh != nil {
			t.Errorf("%s/%s: bounds without an estimate", d.Name, c.Class)
		}
		return
	}
	if d.Records == nil {
		t.Fatalf("%s/%s: estimate without a record count", d.Name, c.Class)
	}
	est, n := *c.EstimatedRecords, *d.Records
	lo, hi := est, est
	if c.EstimateLow != nil {
		lo = *c.EstimateLow
	}
	if c.EstimateHigh != nil {
		hi = *c.EstimateHigh
	}
	if !(0 <= lo && lo <= est && est <= hi && hi <= n && n <= finding.MaxCount) {
		t.Fatalf("%s/%s: low %d est %d high %d records %d", d.Name, c.Class, lo, est, hi, n)
	}
}
