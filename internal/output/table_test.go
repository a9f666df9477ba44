package output

import (
	"regexp"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestTableEmpty(t *testing.T) {
	for _, verbose := range []bool{false, true} {
		out := string(render(t, FormatTable, Options{Verbose: verbose}, nil))
		if out != "no data stores found\n" {
			t.Errorf("empty table (verbose %v) = %q", verbose, out)
		}
	}
}

func TestTableColumnsAndOrder(t *testing.T) {
	out := string(render(t, FormatTable, Options{}, fixtureFindings()))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 7 {
		t.Fatalf("got %d lines, want header + 5 rows + summary:\n%s", len(lines), out)
	}
	for _, col := range []string{"TARGET", "SERVICE", "VERSION", "STATUS", "AUTH", "DATASETS", "RECORDS", "TOP CLASSES", "SEVERITY"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header lacks %s: %q", col, lines[0])
		}
	}
	// Aligned: every row's SEVERITY starts in the header's column.
	col := strings.Index(lines[0], "SEVERITY")
	for _, l := range lines[1:6] {
		if len(l) <= col || l[col-2:col] != "  " || l[col] == ' ' {
			t.Errorf("row not aligned at column %d: %q", col, l)
		}
	}
	wantOrder := []string{"127.0.0.5:9200", "127.0.0.10:9201", "127.0.0.7:6379", "127.0.0.6:9200", "127.0.0.8:27017"}
	for i, w := range wantOrder {
		if !strings.HasPrefix(lines[i+1], w+" ") {
			t.Errorf("row %d = %q, want %s first", i+1, lines[i+1], w)
		}
	}
	row := lines[1]
	for _, want := range []string{"elasticsearch (opensearch)", "2.19.6", "exposed", "2.4M", "username, email, device_model, auth_token +1", "critical"} {
		if !strings.Contains(row, want) {
			t.Errorf("OpenSearch row lacks %q: %q", want, row)
		}
	}
	if want := "5 services: 3 exposed (2 critical, 1 medium), 1 protected, 1 unknown; at least 2.41M records exposed"; lines[6] != want {
		t.Errorf("summary = %q, want %q", lines[6], want)
	}
}

func TestSummaryLine(t *testing.T) {
	fs := fixtureFindings()
	// The brief's example: one critical exposure, one protected, one unknown... minus the unknown.
	got := summaryLine([]finding.Finding{fs[2], fs[0]})
	if want := "2 services: 1 exposed (critical), 1 protected; 2.41M records exposed"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
	if got, want := summaryLine([]finding.Finding{fs[0]}), "1 service: 0 exposed, 1 protected"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestTableColorKeepsAlignment(t *testing.T) {
	fs := fixtureFindings()
	plain := string(render(t, FormatTable, Options{Verbose: true}, fs))
	colored := string(render(t, FormatTable, Options{Verbose: true, Color: true}, fs))
	if !strings.Contains(colored, ansiBoldRed+"critical"+ansiReset) {
		t.Error("colored table does not paint critical")
	}
	if stripped := ansiRE.ReplaceAllString(colored, ""); stripped != plain {
		t.Errorf("colored table without escapes differs from the plain one:\n%s\n---\n%s", stripped, plain)
	}
	if strings.Contains(plain, "\x1b") {
		t.Error("plain table contains escapes")
	}
}

// TestTableSanitizes: names and versions come from scanned servers; a
// hostile one must not be able to drive the terminal or forge rows.
func TestTableSanitizes(t *testing.T) {
	f := finding.Finding{
		Target:  finding.Target{Host: "127.0.0.9", Port: 9200},
		Service: "elasticsearch", Product: "open\x1b]0;pwned\x07search", Version: "1.0\r\n127.0.0.1:1 fake row",
		Status: finding.StatusExposed, Auth: finding.AuthNone,
		Datasets: []finding.Dataset{{
			Name: "\x1b[2J\x1b[Hcustomers\u202e" + strings.Repeat("x", 200), Kind: "index", Records: finding.Int64(5),
			Classes: []finding.ClassCount{{Class: "email\x1b[8m", Sampled: 5, Matched: 5}},
		}},
		Flags:      []string{"odd\nflag"},
		Error:      "boom\x1b[31m",
		ObservedAt: observedAt,
	}
	f.Finalize()
	for _, verbose := range []bool{false, true} {
		out := string(render(t, FormatTable, Options{Verbose: verbose}, []finding.Finding{f}))
		if strings.ContainsAny(out, "\x1b\r\x07\u202e") {
			t.Errorf("verbose %v: control characters reach the terminal: %q", verbose, out)
		}
		if strings.Contains(out, "\n127.0.0.1:1 fake row") {
			t.Errorf("verbose %v: a version forged a row:\n%s", verbose, out)
		}
		if strings.Contains(out, strings.Repeat("x", 100)) {
			t.Errorf("verbose %v: long dataset name not cut", verbose)
		}
	}
}
