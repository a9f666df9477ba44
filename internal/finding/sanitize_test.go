package finding

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// hostileCounts are counts a server can report: the int64 extremes, just
// past the bound, negative.
var hostileCounts = []int64{math.MinInt64, math.MinInt64 + 1, -1, MaxCount + 1, math.MaxInt64 - 1, math.MaxInt64}

func TestSanitizeInvalidCountsBecomeNullWithFlag(t *testing.T) {
	for _, n := range hostileCounts {
		for _, field := range []string{"records", "bytes"} {
			d := Dataset{Name: "d", Kind: "index", Sampled: 10, Classes: []ClassCount{{
				Class: "email", Sampled: 10, Matched: 5,
				EstimatedRecords: Int64(n / 2), EstimateLow: Int64(n), EstimateHigh: Int64(-n),
				DistinctSubjects: Int64(n), Source: "values",
			}}}
			if field == "records" {
				d.Records = Int64(n)
			} else {
				d.Records, d.Bytes = Int64(100), Int64(n)
			}
			f := Finding{Status: StatusExposed, Auth: AuthNone, Datasets: []Dataset{d}}
			f.Finalize()
			got := f.Datasets[0]
			if field == "records" && got.Records != nil || field == "bytes" && got.Bytes != nil {
				t.Errorf("%s %d: kept, want null", field, n)
			}
			if !slices.Contains(got.Flags, FlagCountInvalid) || !slices.Contains(f.Flags, FlagCountInvalid) {
				t.Errorf("%s %d: flags %v / %v, want %s on dataset and finding", field, n, got.Flags, f.Flags, FlagCountInvalid)
			}
			checkEstimates(t, got)
			if total := f.TotalRecords(); !ValidCount(total) {
				t.Errorf("%s %d: total records %d", field, n, total)
			}
		}
	}
}

// checkEstimates asserts 0 ≤ low ≤ est ≤ high ≤ records for every class,
// and no estimate without a record count.
func checkEstimates(t *testing.T, d Dataset) {
	t.Helper()
	for _, c := range d.Classes {
		if c.Matched < 0 || c.Matched > c.Sampled {
			t.Errorf("%s: matched %d of %d", c.Class, c.Matched, c.Sampled)
		}
		if d.Records == nil {
			if c.EstimatedRecords != nil || c.EstimateLow != nil || c.EstimateHigh != nil || c.DistinctSubjects != nil {
				t.Errorf("%s: estimates without a record count", c.Class)
			}
			continue
		}
		if c.EstimatedRecords == nil {
			continue
		}
		est := *c.EstimatedRecords
		if est < 0 || est > *d.Records {
			t.Errorf("%s: estimate %d outside [0, %d]", c.Class, est, *d.Records)
		}
		if c.EstimateLow != nil && (*c.EstimateLow < 0 || *c.EstimateLow > est) {
			t.Errorf("%s: low %d > estimate %d", c.Class, *c.EstimateLow, est)
		}
		if c.EstimateHigh != nil && (*c.EstimateHigh < est || *c.EstimateHigh > *d.Records) {
			t.Errorf("%s: high %d outside [%d, %d]", c.Class, *c.EstimateHigh, est, *d.Records)
		}
		if c.DistinctSubjects != nil && !ValidCount(*c.DistinctSubjects) {
			t.Errorf("%s: distinct %d", c.Class, *c.DistinctSubjects)
		}
	}
}

func TestSanitizeValidCountsUntouched(t *testing.T) {
	d := Dataset{Name: "d", Kind: "index", Records: Int64(MaxCount), Bytes: Int64(0), Sampled: 200,
		Classes: []ClassCount{{Class: "email", Sampled: 200, Matched: 100, EstimatedRecords: Int64(MaxCount / 2),
			EstimateLow: Int64(MaxCount / 3), EstimateHigh: Int64(MaxCount), Source: "values"}}}
	f := Finding{Status: StatusExposed, Auth: AuthNone, Datasets: []Dataset{d}}
	f.Finalize()
	got := f.Datasets[0]
	if *got.Records != MaxCount || *got.Bytes != 0 || len(got.Flags) != 0 || len(f.Flags) != 0 {
		t.Fatalf("valid counts changed: %+v flags %v", got, f.Flags)
	}
	c := got.Classes[0]
	if *c.EstimatedRecords != MaxCount/2 || *c.EstimateLow != MaxCount/3 || *c.EstimateHigh != MaxCount {
		t.Errorf("valid estimates changed: %d %d %d", *c.EstimatedRecords, *c.EstimateLow, *c.EstimateHigh)
	}
}

// Estimates that break their order (from a store, a hand-built finding or
// a bug) are clamped into 0 ≤ low ≤ est ≤ high ≤ records.
func TestSanitizeOrdersEstimates(t *testing.T) {
	cases := []ClassCount{
		{Class: "a", Sampled: 10, Matched: 20, EstimatedRecords: Int64(500), EstimateLow: Int64(900), EstimateHigh: Int64(100)},
		{Class: "b", Sampled: -3, Matched: -1, EstimatedRecords: Int64(-7), EstimateLow: Int64(-9), EstimateHigh: Int64(-8)},
		{Class: "c", Sampled: 10, Matched: 5, EstimatedRecords: Int64(math.MaxInt64), EstimateLow: Int64(math.MinInt64), EstimateHigh: Int64(math.MaxInt64)},
		{Class: "d", Sampled: 10, Matched: 5, EstimateLow: Int64(1), EstimateHigh: Int64(2)}, // bounds without an estimate
		{Class: "e", Sampled: 10, Matched: 5, Confidence: math.NaN()},
		{Class: "f", Sampled: 10, Matched: 5, Confidence: 7},
	}
	d := Dataset{Name: "d", Kind: "index", Records: Int64(1000), Classes: cases}
	f := Finding{Status: StatusExposed, Auth: AuthNone, Datasets: []Dataset{d}}
	f.Finalize()
	checkEstimates(t, f.Datasets[0])
	for _, c := range f.Datasets[0].Classes {
		if c.Confidence < 0 || c.Confidence > 1 || math.IsNaN(c.Confidence) {
			t.Errorf("%s: confidence %v", c.Class, c.Confidence)
		}
		if c.EstimatedRecords == nil && (c.EstimateLow != nil || c.EstimateHigh != nil) {
			t.Errorf("%s: bounds without an estimate", c.Class)
		}
	}
	if slices.Contains(f.Flags, FlagCountInvalid) {
		t.Errorf("estimates are derived, not reported: flags %v", f.Flags)
	}
	if _, err := json.Marshal(f); err != nil {
		t.Fatal(err)
	}
}

func TestSanitizeNegativeSampled(t *testing.T) {
	f := Finding{Status: StatusExposed, Auth: AuthNone, Datasets: []Dataset{{Name: "d", Kind: "index", Sampled: -5}}}
	f.Finalize()
	if f.Datasets[0].Sampled != 0 || !slices.Contains(f.Datasets[0].Flags, FlagCountInvalid) {
		t.Errorf("sampled %d flags %v", f.Datasets[0].Sampled, f.Datasets[0].Flags)
	}
}

func TestSanitizeIdempotentAndCopySafe(t *testing.T) {
	flags := make([]string, 1, 8) // spare capacity a careless append would write into
	flags[0] = "x"
	d := Dataset{Name: "d", Kind: "index", Records: Int64(-1), Flags: flags}
	a := Finding{Status: StatusExposed, Datasets: []Dataset{d}, Flags: flags}
	b := a
	b.Datasets = slices.Clone(a.Datasets)
	b.Finalize()
	if got := flags[:cap(flags)][1]; got != "" {
		t.Fatalf("Sanitize wrote %q into a shared flags array", got)
	}
	once, _ := json.Marshal(b)
	b.Finalize()
	twice, _ := json.Marshal(b)
	if string(once) != string(twice) {
		t.Errorf("not idempotent:\n%s\n%s", once, twice)
	}
}

func TestTotalRecordsSaturates(t *testing.T) {
	var ds []Dataset
	for range 2000 {
		ds = append(ds, Dataset{Records: Int64(MaxCount)})
	}
	f := Finding{Datasets: ds}
	if got := f.TotalRecords(); got != MaxCount {
		t.Errorf("total %d, want %d", got, MaxCount)
	}
	if got := SatAdd(math.MinInt64, math.MaxInt64); got != MaxCount {
		t.Errorf("SatAdd = %d", got)
	}
}

type marshalsPanic struct{}

func (marshalsPanic) MarshalJSON() ([]byte, error) { panic("boom") }

// Evidence is rebuilt into plain JSON data; what JSON cannot carry
// becomes null with the flag evidence-invalid, and encoding never fails.
func TestSanitizeEvidence(t *testing.T) {
	type inner struct {
		Count int64 `json:"count"`
		Skip  int   `json:"-"`
		hid   int
	}
	cyc := map[string]any{}
	cyc["self"] = cyc
	f := Finding{Status: StatusExposed, Evidence: map[string]any{
		"nan": math.NaN(), "inf": math.Inf(-1), "huge": uint64(math.MaxUint64), "minint": int64(math.MinInt64),
		"neg": -3, "ok": 42, "f": 1.5, "fn": func() {}, "ch": make(chan int), "c": complex(1, 2),
		"typed":   map[string]int64{"a": 1, "b": math.MaxInt64},
		"struct":  inner{Count: 7, hid: 1},
		"bytes":   []byte("hi"),
		"ptr":     Int64(5),
		"nilptr":  (*int64)(nil),
		"num":     json.Number("1e400"),
		"time":    time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"panics":  marshalsPanic{},
		"cycle":   cyc,
		"intkeys": map[int]string{1: "one"},
	}}
	f.Finalize()
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatalf("encode after Sanitize: %v", err)
	}
	if !slices.Contains(f.Flags, FlagEvidenceInvalid) {
		t.Errorf("flags %v", f.Flags)
	}
	ev := f.Evidence
	for _, k := range []string{"nan", "inf", "huge", "minint", "fn", "ch", "c", "panics", "num"} {
		if ev[k] != nil {
			t.Errorf("%s = %v, want null", k, ev[k])
		}
	}
	if ev["neg"] != int64(-3) || ev["ok"] != int64(42) || ev["f"] != 1.5 || ev["ptr"] != int64(5) || ev["bytes"] != "aGk=" {
		t.Errorf("plain values changed: %s", b)
	}
	if m := ev["typed"].(map[string]any); m["a"] != int64(1) || m["b"] != nil {
		t.Errorf("typed map: %v", m)
	}
	if m := ev["struct"].(map[string]any); m["count"] != int64(7) || len(m) != 1 {
		t.Errorf("struct: %v", m)
	}
	if ev["time"] != "2026-01-02T03:04:05Z" || ev["intkeys"].(map[string]any)["1"] != "one" {
		t.Errorf("time/intkeys: %s", b)
	}
}

func TestVisibleText(t *testing.T) {
	for in, want := range map[string]string{
		"plain café":          "plain café",
		"evil\u202egnp.exe":   `evil\u202egnp.exe`,
		"a\x1b[31mred":        `a\x1b[31mred`,
		"zero\u200bwidth":     `zero\u200bwidth`,
		"tag\U000E0041":       `tag\U000e0041`,
		"del\x7f c1\u0085":    `del\x7f c1\u0085`,
		"bad\xffutf8":         `bad\ufffdutf8`,
		"line\u2028sep\nnext": `line\u2028sep\x0anext`,
	} {
		got := VisibleText(in)
		if got != want {
			t.Errorf("VisibleText(%q) = %q, want %q", in, got, want)
		}
		for _, r := range got {
			if Unsafe(r) {
				t.Errorf("VisibleText(%q) kept %U", in, r)
			}
		}
		if !strings.Contains(VisibleText(got), got) {
			t.Errorf("not idempotent on %q", got)
		}
	}
}
