package output

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestHumanBytesUnits(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10*1024 - 1: "10.0 KiB",
		10 * 1024: "10 KiB", 1023 * 1024: "1023 KiB", 1024 * 1024: "1.0 MiB", 734003200: "700 MiB",
		1 << 60: "1.0 EiB", 1<<62 + 1<<61: "6.0 EiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCleanTruncatesToMaxRunes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		max  int
		want string
	}{
		{"abc", 0, "abc"}, {"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"ab", 1, "…"}, {"a", 1, "a"},
		{"äöüß", 3, "äö…"}, {"a\x01b", 0, `a\x01b`},
	} {
		if got := clean(tc.s, tc.max); got != tc.want {
			t.Errorf("clean(%q, %d) = %q, want %q", tc.s, tc.max, got, tc.want)
		}
	}
}

func TestSeverityTitle(t *testing.T) {
	for s, want := range map[finding.Severity]string{
		finding.SeverityCritical: "Critical", finding.SeverityLow: "Low", "": "Unknown", "x": "X",
	} {
		if got := severityTitle(s); got != want {
			t.Errorf("severityTitle(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestFormatStringOutOfRange(t *testing.T) {
	for f, want := range map[Format]string{-1: "format(-1)", Format(len(formatNames)): fmt.Sprintf("format(%d)", len(formatNames))} {
		if got := f.String(); got != want {
			t.Errorf("Format(%d).String() = %q, want %q", int(f), got, want)
		}
	}
	for i, name := range formatNames {
		if got := Format(i).String(); got != name {
			t.Errorf("Format(%d).String() = %q, want %q", i, got, name)
		}
	}
}

// TestWritersAfterClose: a second Close writes nothing more, and every
// writer refuses a Write after Close (the streaming ones as much as those
// that hold findings until Close).
func TestWritersAfterClose(t *testing.T) {
	f := finding.Finding{Target: finding.Target{Host: "127.0.0.5", Port: 6379}, Service: "redis", Status: finding.StatusExposed, Auth: finding.AuthNone}
	f.Finalize()
	for _, tc := range []struct {
		name string
		mk   func(*bytes.Buffer) Writer
	}{
		{"table", func(b *bytes.Buffer) Writer { return NewTableWriter(b, Options{}) }},
		{"sarif", func(b *bytes.Buffer) Writer { return NewSARIFWriter(b, Options{}) }},
		{"ocsf", func(b *bytes.Buffer) Writer { return NewOCSFWriter(b, Options{}) }},
		{"jsonl", func(b *bytes.Buffer) Writer { return NewJSONLWriter(b) }},
	} {
		var b bytes.Buffer
		w := tc.mk(&b)
		if err := w.Write(f); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: close: %v", tc.name, err)
		}
		n := b.Len()
		if err := w.Close(); err != nil {
			t.Errorf("%s: second close: %v", tc.name, err)
		}
		if b.Len() != n {
			t.Errorf("%s: second close wrote %d more bytes", tc.name, b.Len()-n)
		}
		if err := w.Write(f); err == nil {
			t.Errorf("%s: write after close accepted", tc.name)
		}
		if err := w.Close(); err != nil || b.Len() != n {
			t.Errorf("%s: close after a refused write: %v, %d more bytes", tc.name, err, b.Len()-n)
		}
	}
}

// TestValidateJSONLCapsErrors: at most ten line errors, then one note.
func TestValidateJSONLCapsErrors(t *testing.T) {
	for _, lines := range []int{10, 11, 30} {
		in := strings.Repeat("{}\n", lines)
		err := ValidateJSONL(strings.NewReader(in))
		if err == nil {
			t.Fatalf("%d invalid lines accepted", lines)
		}
		msg := err.Error()
		got := strings.Count(msg, "line ")
		more := strings.Contains(msg, "more errors not shown")
		if lines == 10 && (got != 10 || !more) && (got != 10 || more) {
			t.Errorf("%d lines: %d errors, more=%v", lines, got, more)
		}
		if lines > 10 && (got != 10 || !more) {
			t.Errorf("%d lines: %d line errors (more note %v), want 10 and the note:\n%s", lines, got, more, msg)
		}
	}
}

// TestTopClassesCell: four classes are named, the rest counted.
func TestTopClassesCell(t *testing.T) {
	mk := func(n int) finding.Finding {
		f := finding.Finding{Status: finding.StatusExposed}
		d := finding.Dataset{Name: "d", Records: finding.Int64(10)}
		for i := 0; i < n; i++ {
			d.Classes = append(d.Classes, finding.ClassCount{Class: fmt.Sprintf("c%d", i), Sampled: 10, Matched: 10 - i})
		}
		f.Datasets = []finding.Dataset{d}
		f.Finalize()
		return f
	}
	if got := topClassesCell(mk(4)); strings.Contains(got, "+") || strings.Count(got, ",") != 3 {
		t.Errorf("four classes: %q", got)
	}
	if got := topClassesCell(mk(5)); !strings.HasSuffix(got, " +1") || strings.Count(got, ",") != 3 {
		t.Errorf("five classes: %q", got)
	}
}
