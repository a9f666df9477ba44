package output

import (
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestHumanize(t *testing.T) {
	cases := []struct {
		n              int64
		short, precise string
	}{
		{0, "0", "0"},
		{999, "999", "999"},
		{1000, "1k", "1.00k"},
		{1234, "1.2k", "1.23k"},
		{12_345, "12.3k", "12.3k"},
		{123_456, "123k", "123k"},
		{999_999, "1M", "1.00M"},
		{2_400_000, "2.4M", "2.40M"},
		{2_412_003, "2.4M", "2.41M"},
		{734_003_200, "734M", "734M"},
		{1_500_000_000, "1.5B", "1.50B"},
		{-1500, "-1.5k", "-1.50k"},
	}
	for _, c := range cases {
		if got := humanCount(c.n); got != c.short {
			t.Errorf("humanCount(%d) = %q, want %q", c.n, got, c.short)
		}
		if got := humanCountPrecise(c.n); got != c.precise {
			t.Errorf("humanCountPrecise(%d) = %q, want %q", c.n, got, c.precise)
		}
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 734_003_200: "700 MiB", 5 << 30: "5.0 GiB",
	} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestGroupDigits(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2_400_000: "2,400,000", -12345: "-12,345"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestClean(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"customers", 0, "customers"},
		{"kunden-ä", 0, "kunden-ä"},
		{"\x1b[31mred\x1b[0m", 0, `\x1b[31mred\x1b[0m`},
		{"a\nb\rc\td", 0, `a\x0ab\x0dc\x09d`},
		{"bidi\u202eevil", 0, `bidi\u202eevil`},
		{"c1\u009bx", 0, `c1\u009bx`},
		{"bad\xffutf8", 0, `bad\ufffdutf8`},
		{"abcdefghij", 5, "abcd…"},
	}
	for _, c := range cases {
		if got := clean(c.in, c.max); got != c.want {
			t.Errorf("clean(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestSortFindings(t *testing.T) {
	mk := func(host string, port int, sev finding.Severity) finding.Finding {
		return finding.Finding{Target: finding.Target{Host: host, Port: port}, Severity: sev}
	}
	in := []finding.Finding{
		mk("127.0.0.10", 9200, finding.SeverityInfo),
		mk("127.0.0.9", 9200, finding.SeverityInfo),
		mk("127.0.0.9", 6379, finding.SeverityInfo),
		mk("db.test", 1, finding.SeverityInfo),
		mk("::1", 1, finding.SeverityInfo),
		mk("127.0.0.200", 1, finding.SeverityCritical),
		mk("127.0.0.3", 1, finding.SeverityMedium),
	}
	var got []string
	for _, f := range sortFindings(in) {
		got = append(got, f.Target.Addr())
	}
	want := []string{"127.0.0.200:1", "127.0.0.3:1", "127.0.0.9:6379", "127.0.0.9:9200", "127.0.0.10:9200", "[::1]:1", "db.test:1"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v, want %v", got, want)
		}
	}
	if in[0].Target.Host != "127.0.0.10" {
		t.Error("sortFindings changed its input")
	}
}
