package output

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// render writes findings in a format and returns the output.
func render(t *testing.T, format Format, opts Options, fs []finding.Finding) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteAll(format, &buf, opts, fs); err != nil {
		t.Fatalf("WriteAll(%v): %v", format, err)
	}
	return buf.Bytes()
}

// golden compares got with testdata/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Errorf("%s differs from the golden file at line %d (run go test -update and review the diff)\n got: %.300q\nwant: %.300q", name, i+1, g, w)
			return
		}
	}
}

func TestGolden(t *testing.T) {
	opts := Options{ToolVersion: "1.2.3"}
	verbose := opts
	verbose.Verbose = true
	color := verbose
	color.Color = true
	cases := []struct {
		name   string
		format Format
		opts   Options
		fs     []finding.Finding
	}{
		{"table.txt", FormatTable, opts, fixtureFindings()},
		{"table-verbose.txt", FormatTable, verbose, fixtureFindings()},
		{"table-color.txt", FormatTable, color, fixtureFindings()},
		{"table-empty.txt", FormatTable, opts, nil},
		{"findings.jsonl", FormatJSONL, opts, fixtureFindings()},
		{"findings.sarif", FormatSARIF, opts, fixtureFindings()},
		{"empty.sarif", FormatSARIF, opts, nil},
		{"findings.ocsf.jsonl", FormatOCSF, opts, fixtureFindings()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, render(t, tc.format, tc.opts, tc.fs))
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{
		"table": FormatTable, "TEXT": FormatTable, "jsonl": FormatJSONL, "json": FormatJSONL,
		"ndjson": FormatJSONL, " sarif ": FormatSARIF, "Ocsf": FormatOCSF,
	} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, f := range []Format{FormatTable, FormatJSONL, FormatSARIF, FormatOCSF} {
		if got, err := ParseFormat(f.String()); err != nil || got != f {
			t.Errorf("ParseFormat(%v.String()) = %v, %v", f, got, err)
		}
	}
	_, err := ParseFormat("xml")
	if err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) || !strings.Contains(err.Error(), "table, jsonl, sarif, ocsf") {
		t.Errorf("ParseFormat(xml) error = %v", err)
	}
}

func TestNewUnknownFormat(t *testing.T) {
	w := New(Format(42), &bytes.Buffer{}, Options{})
	if err := w.Write(fixtureFindings()[0]); err == nil {
		t.Error("Write on an unknown format succeeded")
	}
	if err := w.Close(); err == nil {
		t.Error("Close on an unknown format succeeded")
	}
}

func TestColorAuto(t *testing.T) {
	if ColorAuto(&bytes.Buffer{}) {
		t.Error("ColorAuto(buffer) = true")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ColorAuto(f) {
		t.Error("ColorAuto(regular file) = true")
	}
	// A character device that is no terminal: output nobody sees.
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("IsTerminal(/dev/null) = true")
	}
	// A pseudo-terminal, not /dev/tty: CI runs without a controlling
	// terminal, and this must not be skipped there.
	_, tty := openPTY(t)
	t.Setenv("TERM", "xterm")
	t.Setenv("NO_COLOR", "")
	if !ColorAuto(tty) {
		t.Error("ColorAuto(tty) = false")
	}
	t.Setenv("NO_COLOR", "1")
	if ColorAuto(tty) {
		t.Error("ColorAuto(tty) with NO_COLOR = true")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("TERM", "dumb")
	if ColorAuto(tty) {
		t.Error("ColorAuto(tty) with TERM=dumb = true")
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	for _, f := range []Format{FormatTable, FormatJSONL, FormatSARIF, FormatOCSF} {
		err := WriteAll(f, failWriter{}, Options{}, fixtureFindings())
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%v: error = %v, want the write error", f, err)
		}
	}
}

// TestNoRawSecrets: whatever the format, only what a finding holds is
// printed, and the table shows neither examples nor hashes. The raw values
// below are what a prober sampled; the finding carries only their masks.
func TestNoRawSecrets(t *testing.T) {
	raw := []string{"jane.doe@example.com", "jane_doe", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJqYW5lIn0.c2lnbmF0dXJl", "HomeWifi-5G", "s3cr3t-p4ss"}
	fs := fixtureFindings()
	for _, f := range []Format{FormatTable, FormatJSONL, FormatSARIF, FormatOCSF} {
		for _, verbose := range []bool{false, true} {
			out := string(render(t, f, Options{Verbose: verbose, Color: verbose}, fs))
			for _, r := range raw {
				if strings.Contains(out, r) {
					t.Errorf("%v (verbose %v) output contains the raw value %q", f, verbose, r)
				}
			}
			if f != FormatTable {
				continue
			}
			for _, masked := range []string{"j***@e******.com", "eyJ***", "9f2cemail"} {
				if strings.Contains(out, masked) {
					t.Errorf("table (verbose %v) prints example/hash %q", verbose, masked)
				}
			}
		}
	}
}
