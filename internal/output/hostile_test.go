package output

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/leakwatch/leakwatch/internal/finding"
)

var allFormats = []Format{FormatTable, FormatJSONL, FormatSARIF, FormatOCSF}

// hostileNumbers are counts a store can report.
var hostileNumbers = []int64{math.MinInt64, math.MinInt64 + 1, -1, finding.MaxCount + 1, math.MaxInt64}

// TestHumanizeAnyInt64: the table's number formatting handles every
// int64. On the old code humanize(math.MinInt64) recursed on -n (which is
// math.MinInt64 again) until the stack overflowed — a fatal error no
// recover can catch, losing the whole report.
func TestHumanizeAnyInt64(t *testing.T) {
	for n, want := range map[int64]string{
		math.MinInt64:     "-9.22E",
		math.MinInt64 + 1: "-9.22E",
		math.MaxInt64:     "9.22E",
		-1:                "-1",
		-999_999:          "-1.00M",
		0:                 "0",
	} {
		if got := humanCountPrecise(n); got != want {
			t.Errorf("humanCountPrecise(%d) = %q, want %q", n, got, want)
		}
		_ = humanCount(n)
		_ = humanBytes(n)
		_ = groupDigits(n)
	}
}

// hostileFinding is an open store whose datasets report hostile counts,
// handed to the writers as it came (not finalized: as from a store or an
// API client), with estimates computed naively from them.
func hostileFinding(n int64) finding.Finding {
	return finding.Finding{
		Target:  finding.Target{Host: "127.0.0.66", Port: 9200},
		Service: "elasticsearch", Status: finding.StatusExposed, Auth: finding.AuthNone, Severity: finding.SeverityCritical,
		Datasets: []finding.Dataset{{
			Name: "hostile", Kind: "index", Records: finding.Int64(n), Bytes: finding.Int64(n), Sampled: 10,
			Classes: []finding.ClassCount{{
				Class: "email", Sampled: 10, Matched: 5, Source: "values", Examples: []string{"j***@e*****.com"},
				EstimatedRecords: finding.Int64(n / 2), EstimateLow: finding.Int64(n), EstimateHigh: finding.Int64(n / 3),
			}},
		}},
		Classes:    []string{"email"},
		ObservedAt: observedAt,
	}
}

// TestWritersBoundHostileNumbers: a finding with a count of −2^63, −1 or
// past 2^53 costs nothing else: every writer writes every finding, JSONL
// validates against the schema (count → null, flag count-invalid) and
// estimates are ordered. On the old code the table overflowed its stack
// and JSONL failed the schema (negative records, low > high).
func TestWritersBoundHostileNumbers(t *testing.T) {
	for _, n := range hostileNumbers {
		fs := []finding.Finding{fixtureFindings()[2], hostileFinding(n), fixtureFindings()[1]}
		outs := renderAll(t, fs)
		if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
			t.Errorf("%d: %v", n, err)
		}
		lines := jsonLines(t, outs[FormatJSONL])
		if len(lines) != 3 {
			t.Fatalf("%d: %d JSONL lines, want 3", n, len(lines))
		}
		var got finding.Finding
		if err := json.Unmarshal(lines[1], &got); err != nil {
			t.Fatal(err)
		}
		d := got.Datasets[0]
		if d.Records != nil || d.Bytes != nil || !slices.Contains(d.Flags, finding.FlagCountInvalid) || !slices.Contains(got.Flags, finding.FlagCountInvalid) {
			t.Errorf("%d: records %v bytes %v flags %v / %v", n, d.Records, d.Bytes, d.Flags, got.Flags)
		}
		if c := d.Classes[0]; c.EstimatedRecords != nil || c.EstimateLow != nil || c.EstimateHigh != nil {
			t.Errorf("%d: estimates kept without a valid count", n)
		}
		for _, f := range []Format{FormatTable, FormatSARIF, FormatOCSF} {
			if !bytes.Contains(outs[f], []byte("127.0.0.66")) || !bytes.Contains(outs[f], []byte("127.0.0.5")) || !bytes.Contains(outs[f], []byte("127.0.0.7")) {
				t.Errorf("%d: %v lost a finding:\n%s", n, f, outs[f])
			}
			if bytes.Contains(outs[f], []byte("-9")) && f == FormatTable {
				t.Errorf("%d: table shows a negative count:\n%s", n, outs[f])
			}
		}
	}
}

// renderAll writes fs in every format (verbose table) and checks the JSON
// formats parse and SARIF matches its schema.
func renderAll(t testing.TB, fs []finding.Finding) map[Format][]byte {
	t.Helper()
	outs := map[Format][]byte{}
	for _, f := range allFormats {
		var buf bytes.Buffer
		if err := WriteAll(f, &buf, Options{Verbose: true}, fs); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		outs[f] = buf.Bytes()
	}
	if err := sarifSchemaCached(t, outs[FormatSARIF]); err != nil {
		t.Errorf("SARIF does not match its schema: %v", err)
	}
	for _, l := range jsonLines(t, outs[FormatOCSF]) {
		if !json.Valid(l) {
			t.Errorf("OCSF line is not JSON: %q", l)
		}
	}
	return outs
}

func jsonLines(t testing.TB, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for _, l := range bytes.Split(b, []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}

var (
	sarifSchemaOnce sync.Once
	sarifSchema     *jsonschema.Schema
	sarifSchemaErr  error
)

// sarifSchemaCached is sarifSchemaCheck with the schema compiled once (the
// fuzz target calls it per input).
func sarifSchemaCached(t testing.TB, log []byte) error {
	sarifSchemaOnce.Do(func() {
		raw, err := os.ReadFile(sarifSchemaFile)
		if err != nil {
			sarifSchemaErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			sarifSchemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if sarifSchemaErr = c.AddResource(sarifSchemaFile, doc); sarifSchemaErr != nil {
			return
		}
		sarifSchema, sarifSchemaErr = c.Compile(sarifSchemaFile)
	})
	if sarifSchemaErr != nil {
		t.Fatal(sarifSchemaErr)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(log))
	if err != nil {
		return err
	}
	return sarifSchema.Validate(v)
}

// setPanicHook makes rendering the finding with id panic in every writer
// (the error record that stands in for it renders normally).
func setPanicHook(t *testing.T, id string, value any) {
	t.Helper()
	testHookFinding = func(f *finding.Finding) {
		if f.ID == id && !slices.Contains(f.Flags, FlagWriteError) {
			panic(value)
		}
	}
	t.Cleanup(func() { testHookFinding = nil })
}

// TestWritersRecoverPerFinding: a panic while rendering one finding is
// that finding's error record, in every writer, and the findings before
// and after it are written in full. On the old code the panic unwound
// through Write/Close and took the whole output (and the scan) with it.
func TestWritersRecoverPerFinding(t *testing.T) {
	fs := fixtureFindings()
	for i := range fs {
		fs[i].Finalize()
	}
	victim := fs[2] // the critical OpenSearch
	for _, value := range []any{"secret jane@example.com", runtimeErr()} {
		setPanicHook(t, victim.ID, value)
		outs := renderAll(t, fs)
		for _, f := range allFormats {
			out := outs[f]
			if !bytes.Contains(out, []byte("could not be written")) {
				t.Errorf("%v: no error record:\n%s", f, out)
			}
			if bytes.Contains(out, []byte("jane@example.com")) {
				t.Errorf("%v: the panic value was written raw", f)
			}
			for _, other := range fs {
				if other.ID != victim.ID && !bytes.Contains(out, []byte(addrIn(f, other.Target))) {
					t.Errorf("%v: lost %s", f, other.Target.Addr())
				}
			}
		}
		if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
			t.Error(err)
		}
		lines := jsonLines(t, outs[FormatJSONL])
		if len(lines) != len(fs) {
			t.Fatalf("%d JSONL lines for %d findings", len(lines), len(fs))
		}
		var rec finding.Finding
		for _, l := range lines {
			var f finding.Finding
			if err := json.Unmarshal(l, &f); err != nil {
				t.Fatal(err)
			}
			if f.ID == victim.ID {
				rec = f
			}
		}
		if rec.Severity != victim.Severity || rec.Status != victim.Status || !slices.Contains(rec.Flags, FlagWriteError) || !strings.HasPrefix(rec.Error, "could not be written: panic") {
			t.Errorf("error record %+v", rec)
		}
	}
}

// addrIn is how a target appears in a format's output.
func addrIn(f Format, t finding.Target) string {
	if f == FormatJSONL {
		b, _ := json.Marshal(t)
		return string(b)
	}
	return t.Addr()
}

func runtimeErr() (err any) {
	defer func() { err = recover() }()
	var m map[string]int
	m["x"] = 1 // assignment to entry in nil map
	return nil
}

// TestWritersSurviveUnencodableEvidence: evidence JSON cannot carry (NaN,
// a channel) reaches the writers from a hand-built or stored finding. On
// the old code JSONL/OCSF Write returned an encoding error and WriteAll
// (like the scan) stopped at it, losing every later finding.
func TestWritersSurviveUnencodableEvidence(t *testing.T) {
	bad := fixtureFindings()[1]
	bad.Evidence = map[string]any{"ratio": math.NaN(), "ch": make(chan int), "ok": 1}
	fs := []finding.Finding{bad, fixtureFindings()[2]}
	outs := renderAll(t, fs)
	if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
		t.Error(err)
	}
	for _, f := range allFormats {
		if !bytes.Contains(outs[f], []byte(addrIn(f, fs[1].Target))) {
			t.Errorf("%v lost the finding after the bad one", f)
		}
	}
	if !bytes.Contains(outs[FormatJSONL], []byte(finding.FlagEvidenceInvalid)) {
		t.Error("no evidence-invalid flag")
	}
}

// unsafeRunes are runes that must never reach an output raw.
var unsafeRunes = []string{"\u202e", "\u2066", "\u200b", "\ufeff", "\u0085", "\x7f", "\U000E0041", "\u2028", "\x1b"}

// TestWritersEscapeBidiAndControls: bidi overrides, C1 controls, zero-width
// and tag characters in any server string are escaped in every writer;
// JSON outputs decode back to the same text. On the old code JSONL, SARIF
// and OCSF wrote them raw.
func TestWritersEscapeBidiAndControls(t *testing.T) {
	evil := strings.Join(unsafeRunes, "x")
	f := fixtureFindings()[2]
	f.Version = "2.19.6" + evil
	f.Product = "open" + evil
	f.Error = "err" + evil
	f.Flags = []string{"flag" + evil}
	f.Evidence = map[string]any{"key" + evil: "val" + evil}
	f.Datasets[0].Name = "cust" + evil + "omers"
	f.Datasets[0].Fields = append(f.Datasets[0].Fields, finding.Field{Name: "field" + evil, Type: "t" + evil})
	f.Datasets[0].Classes[0].Examples = []string{"ex" + evil}
	f.Target.Hostname = "host" + evil
	outs := renderAll(t, []finding.Finding{f})
	for format, out := range outs {
		for _, r := range unsafeRunes {
			if r == "\x1b" && format != FormatTable {
				continue // encoding/json escapes C0 controls itself
			}
			if bytes.Contains(out, []byte(r)) {
				t.Errorf("%v: raw %U in output", format, []rune(r)[0])
			}
		}
		if !utf8.Valid(out) {
			t.Errorf("%v: invalid UTF-8", format)
		}
	}
	var back finding.Finding
	if err := json.Unmarshal(outs[FormatJSONL], &back); err != nil {
		t.Fatal(err)
	}
	if back.Version != f.Version || back.Datasets[0].Name != f.Datasets[0].Name || back.Evidence["key"+evil] != "val"+evil {
		t.Errorf("escaping changed the JSON value: %q %q", back.Version, back.Datasets[0].Name)
	}
	if err := ValidateJSONL(bytes.NewReader(outs[FormatJSONL])); err != nil {
		t.Error(err)
	}
}

func TestEscapeUnsafeJSON(t *testing.T) {
	in := []byte(`{"a":"x` + "\u202e\U000E0041\x7f\u00e9" + `"}` + "\n")
	got := escapeUnsafeJSON(in)
	want := `{"a":"x\u202e\udb40\udc41\u007f` + "\u00e9" + `"}` + "\n"
	if string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var a, b map[string]string
	if json.Unmarshal(in, &a) != nil || json.Unmarshal(got, &b) != nil || a["a"] != b["a"] {
		t.Errorf("value changed: %q vs %q", a["a"], b["a"])
	}
	plain := []byte(`{"a":"café"}`)
	if out := escapeUnsafeJSON(plain); &out[0] != &plain[0] {
		t.Error("clean input was copied")
	}
}
