package scope

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// spansOf parses "a-b a-b …" (addresses or a single address) into spans.
func spansOf(t *testing.T, s string) []span {
	t.Helper()
	var out []span
	for _, f := range strings.Fields(s) {
		lo, hi, ok := strings.Cut(f, "-")
		if !ok {
			hi = lo
		}
		out = append(out, spanOf(netip.MustParseAddr(lo), netip.MustParseAddr(hi)))
	}
	return out
}

func spansString(spans []span) string {
	var parts []string
	for _, s := range spans {
		lo, hi := s.lo.toAddr(s.v4), s.hi.toAddr(s.v4)
		if lo == hi {
			parts = append(parts, lo.String())
		} else {
			parts = append(parts, lo.String()+"-"+hi.String())
		}
	}
	return strings.Join(parts, " ")
}

// TestSubtractBoundaries: an exclusion removes exactly its addresses,
// whichever end of a target range it touches.
func TestSubtractBoundaries(t *testing.T) {
	for _, tc := range []struct{ in, ex, want string }{
		{"127.0.0.10-127.0.0.20", "127.0.0.5-127.0.0.10", "127.0.0.11-127.0.0.20"},  // ends on the first address
		{"127.0.0.10-127.0.0.20", "127.0.0.5-127.0.0.9", "127.0.0.10-127.0.0.20"},   // ends just before
		{"127.0.0.10-127.0.0.20", "127.0.0.20-127.0.0.30", "127.0.0.10-127.0.0.19"}, // starts on the last
		{"127.0.0.10-127.0.0.20", "127.0.0.21-127.0.0.30", "127.0.0.10-127.0.0.20"}, // starts just after
		{"127.0.0.10-127.0.0.20", "127.0.0.10", "127.0.0.11-127.0.0.20"},
		{"127.0.0.10-127.0.0.20", "127.0.0.20", "127.0.0.10-127.0.0.19"},
		{"127.0.0.10-127.0.0.20", "127.0.0.11", "127.0.0.10 127.0.0.12-127.0.0.20"},
		{"127.0.0.10-127.0.0.20", "127.0.0.10-127.0.0.20", ""},
		{"127.0.0.10-127.0.0.20", "127.0.0.0-127.0.0.255", ""},
		{"127.0.0.10-127.0.0.20", "127.0.0.12-127.0.0.13 127.0.0.15 127.0.0.19-127.0.0.25", "127.0.0.10-127.0.0.11 127.0.0.14 127.0.0.16-127.0.0.18"},
		{"127.0.0.10-127.0.0.20 127.0.0.30-127.0.0.40", "127.0.0.20-127.0.0.30", "127.0.0.10-127.0.0.19 127.0.0.31-127.0.0.40"},
		{"127.0.0.10 127.0.0.12", "127.0.0.11", "127.0.0.10 127.0.0.12"},
		// Families never mix: ::ffff:… and ::a are not 127.0.0.10.
		{"127.0.0.10-127.0.0.20", "::a-::14", "127.0.0.10-127.0.0.20"},
		{"::a-::14", "127.0.0.10-127.0.0.20", "::a-::14"},
		{"127.0.0.10-127.0.0.20 ::a-::14", "::10", "127.0.0.10-127.0.0.20 ::a-::f ::11-::14"},
	} {
		got := spansString(subtract(normalize(spansOf(t, tc.in)), normalize(spansOf(t, tc.ex))))
		if got != tc.want {
			t.Errorf("subtract(%s, %s) = %q, want %q", tc.in, tc.ex, got, tc.want)
		}
	}
}

// TestNormalizeMergesAdjacentOnly: touching and overlapping ranges of
// one family merge; a gap of one address or another family does not.
func TestNormalizeMergesAdjacentOnly(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1-127.0.0.5 127.0.0.6-127.0.0.10", "127.0.0.1-127.0.0.10"},
		{"127.0.0.6-127.0.0.10 127.0.0.1-127.0.0.5", "127.0.0.1-127.0.0.10"},
		{"127.0.0.1-127.0.0.5 127.0.0.7-127.0.0.10", "127.0.0.1-127.0.0.5 127.0.0.7-127.0.0.10"},
		{"127.0.0.1-127.0.0.8 127.0.0.3-127.0.0.5", "127.0.0.1-127.0.0.8"},
		{"127.0.0.1-127.0.0.5 127.0.0.5-127.0.0.9", "127.0.0.1-127.0.0.9"},
		{"255.255.255.250-255.255.255.255 255.255.255.252", "255.255.255.250-255.255.255.255"},
		{"::1-::5 127.0.0.6", "127.0.0.6 ::1-::5"},
		{"0.0.0.5 ::6", "0.0.0.5 ::6"},
	} {
		if got := spansString(normalize(spansOf(t, tc.in))); got != tc.want {
			t.Errorf("normalize(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestFindEdges: the ends of a span are in it, their neighbours are not,
// and the invalid address is in none (not even a span starting at ::).
func TestFindEdges(t *testing.T) {
	spans := normalize(spansOf(t, "127.0.0.10-127.0.0.20 127.0.0.30 ::-::5"))
	for _, tc := range []struct {
		a    netip.Addr
		want int
	}{
		{netip.MustParseAddr("127.0.0.9"), -1}, {netip.MustParseAddr("127.0.0.10"), 0},
		{netip.MustParseAddr("127.0.0.20"), 0}, {netip.MustParseAddr("127.0.0.21"), -1},
		{netip.MustParseAddr("127.0.0.30"), 1}, {netip.MustParseAddr("127.0.0.31"), -1},
		{netip.MustParseAddr("::"), 2}, {netip.MustParseAddr("::5"), 2}, {netip.MustParseAddr("::6"), -1},
		{netip.MustParseAddr("0.0.0.0"), -1}, {netip.Addr{}, -1},
	} {
		if got := find(spans, tc.a); got != tc.want {
			t.Errorf("find(%v) = %d, want %d", tc.a, got, tc.want)
		}
	}
}

// TestExcludeTouchingTargetEnds: through Build, an exclusion that ends on
// a target range's first address (or starts on its last) takes it out.
func TestExcludeTouchingTargetEnds(t *testing.T) {
	s := build(t, Options{
		Targets:  []string{"127.0.0.10-127.0.0.20"},
		Excludes: []string{"127.0.0.5-127.0.0.10", "127.0.0.20-127.0.0.25"},
		Ports:    []int{80},
	})
	for a, want := range map[string]bool{"127.0.0.10": false, "127.0.0.11": true, "127.0.0.19": true, "127.0.0.20": false} {
		if got := s.Contains(netip.MustParseAddr(a)); got != want {
			t.Errorf("Contains(%s) = %v, want %v", a, got, want)
		}
	}
	if s.Addresses() != 9 {
		t.Errorf("Addresses() = %d, want 9", s.Addresses())
	}
}

// TestStringCountsEndpoints: the summary names port-specific endpoints
// from the first one on.
func TestStringCountsEndpoints(t *testing.T) {
	for _, tc := range []struct {
		targets []string
		want    string
	}{
		{[]string{"127.0.0.1:80"}, "0 addresses × 1 ports + 1 host:port endpoints"},
		{[]string{"127.0.0.1:80", "127.0.0.2:81"}, "0 addresses × 1 ports + 2 host:port endpoints"},
		{[]string{"127.0.0.1"}, "1 addresses × 1 ports"},
	} {
		s := build(t, Options{Targets: tc.targets, Ports: []int{9200}})
		if got := s.String(); got != tc.want {
			t.Errorf("%v: String() = %q, want %q", tc.targets, got, tc.want)
		}
	}
}

// TestNaabuPortObject: naabu's {"Port":N} object is read one level deep;
// an object inside it is not a port.
func TestNaabuPortObject(t *testing.T) {
	for _, tc := range []struct {
		line string
		port int
		ok   bool
	}{
		{`{"ip":"127.0.0.5","port":{"Port":9200}}`, 9200, true},
		{`{"ip":"127.0.0.5","port":{"Port":{"Port":9200}}}`, 0, false},
		{`{"ip":"127.0.0.5","port":{"Port":{}}}`, 0, false},
		{`{"ip":"127.0.0.5","port":{}}`, 0, false},
	} {
		sp, ok, err := ParseLine(tc.line)
		if tc.ok != (err == nil && ok) || tc.ok && sp.Port != tc.port {
			t.Errorf("ParseLine(%s) = port %d, %v, %v; want port %d ok %v", tc.line, sp.Port, ok, err, tc.port, tc.ok)
		}
	}
}

// TestParseEdges: range ends at the last octet, prefix lengths written
// with too many digits, and a bad range start named in the error.
func TestParseEdges(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.250-255", "127.0.0.250-127.0.0.255"},
		{"127.0.0.0-0", "127.0.0.0-127.0.0.0"},
		{"127.0.0.250-256", `invalid target "127.0.0.250-256": range end "256" is not an octet (0-255)`},
		{"127.0.0.250-0255", `invalid target "127.0.0.250-0255": range end "0255" is not an octet (0-255)`},
		{"127.0.0.0/0024", `invalid target "127.0.0.0/0024": bad prefix length "0024"`},
		{"127.0.0.0/", `invalid target "127.0.0.0/": bad prefix length ""`},
		{"127.0.0.0/2x", `invalid target "127.0.0.0/2x": bad prefix length "2x"`},
		{"127.0.0.256-127.0.0.5", `invalid target "127.0.0.256-127.0.0.5": not an IP address: IPv4 field has value >255`},
	} {
		sp, err := Parse(tc.in)
		got := fmt.Sprint(sp)
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// addrLines returns n distinct loopback addresses, one a line.
func addrLines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "127.1.%d.%d\n", i>>8, i&255)
	}
	return b.String()
}

// TestMaxHostsExactly: a list of exactly --max-hosts addresses is
// accepted, also when the streaming check runs on it; one more is not.
func TestMaxHostsExactly(t *testing.T) {
	s := build(t, Options{Targets: []string{"-"}, Ports: []int{80}, MaxHosts: minCheck, Stdin: strings.NewReader(addrLines(minCheck))})
	if s.Addresses() != minCheck {
		t.Errorf("Addresses() = %d, want %d", s.Addresses(), minCheck)
	}
	err := buildErr(t, Options{Targets: []string{"-"}, Ports: []int{80}, MaxHosts: minCheck, Stdin: strings.NewReader(addrLines(minCheck + 1))})
	if !strings.Contains(err, "exceed --max-hosts 4096") {
		t.Errorf("one over the cap: %s", err)
	}
}

// TestLongListRefusedAtFirstCheck: a list far over the cap is refused at
// the first streaming check, not read whole.
func TestLongListRefusedAtFirstCheck(t *testing.T) {
	err := buildErr(t, Options{Targets: []string{"-"}, Ports: []int{80}, MaxHosts: 100, Stdin: strings.NewReader(addrLines(3 * minCheck))})
	if want := fmt.Sprintf("(stdin read to line %d)", minCheck); !strings.Contains(err, want) {
		t.Errorf("error %q does not say %s", err, want)
	}
}

// TestTooManyHostnamesRefusedBeforeLookup: hostname targets past the cap
// are refused before any name is resolved (noResolver fails on a lookup).
func TestTooManyHostnamesRefusedBeforeLookup(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= 4*1+minCheck; i++ {
		fmt.Fprintf(&b, "h%d.example\n", i)
	}
	err := buildErr(t, Options{Targets: []string{"-"}, Ports: []int{80}, MaxHosts: 1, Stdin: strings.NewReader(b.String())})
	if !strings.Contains(err, "hostname targets for --max-hosts 1") {
		t.Errorf("error %q", err)
	}
}

// TestEndpointNameOnSweptAddress: a naabu line's hostname for an address
// that a block also covers names the swept endpoints of that address.
func TestEndpointNameOnSweptAddress(t *testing.T) {
	in := `{"host":"es.example.internal","ip":"127.0.0.6","port":9201}` + "\n"
	s := build(t, Options{Targets: []string{"127.0.0.4/30", "-"}, Ports: []int{9200}, Stdin: strings.NewReader(in)})
	got := sorted(endpoints(s))
	want := sorted([]string{"127.0.0.4:9200", "127.0.0.5:9200", "127.0.0.6:9200(es.example.internal)", "127.0.0.7:9200", "127.0.0.6:9201(es.example.internal)"})
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("endpoints %v, want %v", got, want)
	}
}

// TestIPv6EndpointsDeduplicated: the same IPv6 host:port given twice is
// one endpoint.
func TestIPv6EndpointsDeduplicated(t *testing.T) {
	s := build(t, Options{Targets: []string{"[::1]:80", "[::1]:80", "[::1]:81", "127.0.0.1:80", "127.0.0.1:80"}, Ports: []int{9200}})
	got := sorted(endpoints(s))
	if want := []string{"127.0.0.1:80", "[::1]:80", "[::1]:81"}; strings.Join(got, " ") != strings.Join(sorted(want), " ") {
		t.Errorf("endpoints %v, want %v", got, want)
	}
	if s.Endpoints() != 3 {
		t.Errorf("Endpoints() = %d, want 3", s.Endpoints())
	}
}

// TestLongArgumentListNamesNoLine: a cap exceeded by arguments (no stdin)
// says so without a line number.
func TestLongArgumentListNamesNoLine(t *testing.T) {
	targets := strings.Fields(addrLines(2 * minCheck))
	err := buildErr(t, Options{Targets: targets, Ports: []int{80}, MaxHosts: 100})
	if strings.Contains(err, "line") || !strings.Contains(err, "more than 100 addresses exceed --max-hosts 100") {
		t.Errorf("error %q", err)
	}
}
