package scope

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

// nonTargetForms are addresses that must never be a target, in every
// spelling a user, a list or a resolver may give.
var nonTargetForms = []struct {
	addr string
	why  string
}{
	{"0.0.0.0", "unspecified"},
	{"0.1.2.3", "unspecified"}, // 0.0.0.0/8 "this network"
	{"0.255.255.255", "unspecified"},
	{"::", "unspecified"},
	{"::ffff:0.0.0.0", "unspecified"},
	{"::ffff:0.0.0.7", "unspecified"},
	{"224.0.0.1", "multicast"}, // link-local multicast, all hosts
	{"224.0.0.251", "multicast"},
	{"239.255.255.250", "multicast"},
	{"233.252.0.1", "multicast"},
	{"::ffff:224.0.0.1", "multicast"},
	{"255.255.255.255", "broadcast"},
	{"::ffff:255.255.255.255", "broadcast"},
	{"ff02::1", "multicast"}, // link-local all nodes
	{"ff05::2", "multicast"},
	{"ff0e::1", "multicast"},
	{"ff00::", "multicast"},
	{"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "multicast"},
}

// unicastForms are neighbours of the non-target blocks that stay targets.
var unicastForms = []string{
	"127.0.0.1", "127.255.255.254", "1.0.0.0", "223.255.255.255", "240.0.0.1", "255.255.255.254",
	"::1", "::2", "fe80::1", "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:127.0.0.1", "::ffff:1.0.0.0",
}

func TestNonTarget(t *testing.T) {
	for _, tt := range nonTargetForms {
		a := netip.MustParseAddr(tt.addr)
		if why := NonTarget(a); !strings.Contains(why, tt.why) {
			t.Errorf("NonTarget(%s) = %q, want %q", tt.addr, why, tt.why)
		}
		if a.Is6() && !a.Is4In6() {
			if why := NonTarget(a.WithZone("eth0")); why == "" {
				t.Errorf("NonTarget(%s%%eth0) = \"\"", tt.addr)
			}
		}
	}
	for _, s := range unicastForms {
		if why := NonTarget(netip.MustParseAddr(s)); why != "" {
			t.Errorf("NonTarget(%s) = %q, want unicast", s, why)
		}
	}
	if NonTarget(netip.Addr{}) == "" {
		t.Error("the zero Addr is a target")
	}
}

// TestBuildRefusesNonTargets puts every non-target form through every way
// a target comes in: an address, host:port, a masscan, naabu or bare line
// on stdin, a block, a range, and a hostname's resolution. Each is refused
// with a clear error; nothing is contacted (the resolver is a table).
func TestBuildRefusesNonTargets(t *testing.T) {
	for _, tt := range nonTargetForms {
		a := netip.MustParseAddr(tt.addr)
		bare := tt.addr
		hostPort := tt.addr + ":9200"
		if a.Is6() {
			hostPort = "[" + tt.addr + "]:9200"
		}
		r := &fakeResolver{table: map[string][]string{"sinkholed.example.internal": {"127.0.0.1", tt.addr}}}
		block := netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()-4).Masked().String()
		cases := []struct {
			name string
			o    Options
		}{
			{"address", Options{Targets: []string{bare}, Ports: []int{80}}},
			{"host:port", Options{Targets: []string{hostPort}}},
			{"among others", Options{Targets: []string{"127.0.0.1", bare}, Ports: []int{80}}},
			{"cidr", Options{Targets: []string{block}, Ports: []int{80}}},
			{"range", Options{Targets: []string{rangeAround(a)}, Ports: []int{80}}},
			{"stdin bare", Options{Targets: []string{"-"}, Ports: []int{80}, Stdin: strings.NewReader("127.0.0.1\n" + bare + "\n")}},
			{"stdin masscan", Options{Targets: []string{"-"}, Stdin: strings.NewReader("open tcp 9200 127.0.0.1 1\nopen tcp 9200 " + tt.addr + " 1\n")}},
			{"stdin naabu", Options{Targets: []string{"-"}, Stdin: strings.NewReader(`{"ip":"127.0.0.1","port":1}` + "\n" + `{"host":"x.internal","ip":"` + tt.addr + `","port":9200}` + "\n")}},
			{"stdin cidr", Options{Targets: []string{"-"}, Ports: []int{80}, Stdin: strings.NewReader(block + "\n")}},
			{"hostname", Options{Targets: []string{"sinkholed.example.internal"}, Ports: []int{80}, Resolver: r}},
			{"hostname:port", Options{Targets: []string{"sinkholed.example.internal:9200"}, Resolver: r}},
		}
		for _, c := range cases {
			got := buildErr(t, c.o)
			if !strings.Contains(got, "never a target") || !strings.Contains(got, tt.why) {
				t.Errorf("%s %s: error %q does not say why", c.name, tt.addr, got)
			}
			if strings.HasPrefix(c.name, "stdin") && !strings.HasPrefix(got, "stdin line ") {
				t.Errorf("%s %s: error %q does not name the line", c.name, tt.addr, got)
			}
		}
	}
}

// rangeAround is a range that starts at a unicast address and runs into a.
func rangeAround(a netip.Addr) string {
	a = a.Unmap()
	first := a
	if p := a.Prev(); p.IsValid() && NonTarget(p) == "" {
		first = p
	}
	return first.String() + "-" + a.String()
}

func TestBuildNonTargetsExcludedFromBlocks(t *testing.T) {
	// A block whose non-target part is excluded is fine; so is a hostname
	// whose non-target answer is excluded.
	r := &fakeResolver{table: map[string][]string{"sinkholed.example.internal": {"127.0.0.1", "0.0.0.0"}}}
	s := build(t, Options{
		Targets:  []string{"223.255.255.254-224.0.0.3", "sinkholed.example.internal"},
		Excludes: []string{"224.0.0.0/4", "0.0.0.0"},
		Ports:    []int{80},
		Resolver: r,
	})
	if got := sorted(endpoints(s)); strings.Join(got, " ") != "127.0.0.1:80(sinkholed.example.internal) 223.255.255.254:80 223.255.255.255:80" {
		t.Fatalf("endpoints %v", got)
	}
	// Loopback holds no non-target address.
	s = build(t, Options{Targets: []string{"127.0.0.0/8"}, Ports: []int{80}, MaxHosts: 1 << 24})
	if s.Addresses() != 1<<24 {
		t.Fatalf("addresses %d", s.Addresses())
	}
	// Exclusions may name non-target addresses.
	build(t, Options{Targets: []string{"127.0.0.1"}, Excludes: []string{"0.0.0.0", "::", "ff00::/8"}, Ports: []int{80}})
	if err := CheckTargets([]string{"127.0.0.1", "223.255.255.0/24"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := CheckTargets([]string{"223.255.255.0/23"}, []string{"224.0.0.0/4"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckTargets([]string{"127.0.0.1", "0.0.0.0"}, []string{"0.0.0.0"}); err == nil || !strings.Contains(err.Error(), "never a target") {
		t.Fatalf("CheckTargets(0.0.0.0) = %v", err)
	}
}

// TestAllowsRefusesNonTargets is the last line of defence: even a scope
// that somehow spans everything never allows a non-target address, in any
// form, on any port.
func TestAllowsRefusesNonTargets(t *testing.T) {
	everything := &Scope{spans: []span{
		spanOf(netip.MustParseAddr("0.0.0.0"), netip.MustParseAddr("255.255.255.255")),
		spanOf(netip.MustParseAddr("::"), netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
	}}
	for _, tt := range nonTargetForms {
		a := netip.MustParseAddr(tt.addr)
		for _, port := range []uint16{1, 80, 9200} {
			if everything.Allows(netip.AddrPortFrom(a, port)) || everything.Contains(a) {
				t.Errorf("%s allowed", netip.AddrPortFrom(a, port))
			}
		}
	}
	for _, s := range unicastForms {
		if !everything.Allows(netip.AddrPortFrom(netip.MustParseAddr(s), 80)) {
			t.Errorf("%s refused", s)
		}
	}
}

// lineGen produces n masscan lines of distinct loopback addresses on the
// fly and counts how many lines were handed out.
type lineGen struct {
	n, next int
	buf     []byte
}

func (g *lineGen) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.next < g.n {
		i := g.next + 1
		g.buf = fmt.Appendf(g.buf, "open tcp %d 127.%d.%d.%d 1700000000\n", 1+i%7, i>>16&255, i>>8&255, i&255)
		g.next++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[n:]
	return n, nil
}

// TestBuildStdinRefusedAsItStreams: a list far past --max-hosts is refused
// after reading about twice the cap, not after reading it whole.
func TestBuildStdinRefusedAsItStreams(t *testing.T) {
	g := &lineGen{n: 1_000_000}
	got := buildErr(t, Options{Targets: []string{"-"}, Stdin: g, MaxHosts: 1000})
	if !strings.HasPrefix(got, "scope: more than 1000 addresses (stdin read to line ") || !strings.HasSuffix(got, "exceed --max-hosts 1000; narrow the targets or raise --max-hosts") {
		t.Fatalf("error %q", got)
	}
	if g.next > 10_000 {
		t.Fatalf("read %d lines before refusing a list past --max-hosts 1000", g.next)
	}
	// Duplicates and exclusions do not count.
	in := strings.Repeat("open tcp 80 127.0.0.1 1\nopen tcp 81 127.0.0.1 1\n", 5000) + strings.Repeat("open tcp 80 127.0.0.2 1\n", 5000)
	s := build(t, Options{Targets: []string{"-"}, Excludes: []string{"127.0.0.2"}, Stdin: strings.NewReader(in), MaxHosts: 1})
	if s.Addresses() != 1 || s.Endpoints() != 2 {
		t.Fatalf("scope %s: %d addresses", s, s.Addresses())
	}
}

// TestBuildStdinCompact: an allowed list of many endpoints is kept in a
// few bytes per endpoint (8 for IPv4), and every endpoint comes out once.
func TestBuildStdinCompact(t *testing.T) {
	const n = 200_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Build(context.Background(), Options{Targets: []string{"-"}, Stdin: &lineGen{n: n}, MaxHosts: n, Resolver: noResolver{t}})
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if perEP := float64(after.HeapAlloc-before.HeapAlloc) / n; perEP > 16 {
		t.Errorf("scope holds %.0f bytes per endpoint", perEP)
	}
	if s.Endpoints() != n || s.Addresses() != n {
		t.Fatalf("scope %s, %d addresses", s, s.Addresses())
	}
	seen := map[netip.AddrPort]bool{}
	for ep := range s.All() {
		if seen[ep.AddrPort()] || !s.Allows(ep.AddrPort()) {
			t.Fatalf("%s twice or not allowed", ep)
		}
		seen[ep.AddrPort()] = true
	}
	if len(seen) != n {
		t.Fatalf("%d endpoints", len(seen))
	}
	runtime.KeepAlive(s)
}

func TestBuildStdinErrorsKeepLines(t *testing.T) {
	_, err := Build(context.Background(), Options{Targets: []string{"-"}, Stdin: strings.NewReader("127.0.0.1:1\n\n224.0.0.1:5\n")})
	var te *Error
	if !errors.As(err, &te) || te.Line != 3 || te.What != "target" {
		t.Fatalf("err %v", err)
	}
}
