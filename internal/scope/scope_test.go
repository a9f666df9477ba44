package scope

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeResolver answers from a table and counts lookups. Nothing is dialed.
type fakeResolver struct {
	mu    sync.Mutex
	table map[string][]string
	calls map[string]int
	block bool
}

func (r *fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[host]++
	r.mu.Unlock()
	if r.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	addrs, ok := r.table[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range addrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// noResolver fails the test when asked.
type noResolver struct{ t *testing.T }

func (r noResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.t.Errorf("unexpected lookup of %q", host)
	return nil, errors.New("unexpected")
}

func build(t *testing.T, o Options) *Scope {
	t.Helper()
	if o.Resolver == nil {
		o.Resolver = noResolver{t}
	}
	s, err := Build(context.Background(), o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return s
}

func buildErr(t *testing.T, o Options) string {
	t.Helper()
	if o.Resolver == nil {
		o.Resolver = noResolver{t}
	}
	s, err := Build(context.Background(), o)
	if err == nil {
		t.Fatalf("Build(%+v) = %v, want error", o, s)
	}
	return err.Error()
}

func endpoints(s *Scope) []string {
	var out []string
	for ep := range s.All() {
		str := ep.String()
		if ep.Hostname != "" {
			str += "(" + ep.Hostname + ")"
		}
		out = append(out, str)
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func TestBuildRejectsOversizedInstantly(t *testing.T) {
	tests := []struct {
		targets []string
		max     int
		want    string
	}{
		{[]string{"10.0.0.0/8"}, 0, "scope: 16777216 addresses exceed --max-hosts 65536; narrow the targets or raise --max-hosts"},
		{[]string{"0.0.0.0/0"}, 0, "scope: 4294967296 addresses exceed --max-hosts 65536; narrow the targets or raise --max-hosts"},
		{[]string{"2001:db8::/64", "db.example.internal"}, 0, "scope: 18446744073709551616 addresses exceed --max-hosts 65536; narrow the targets or raise --max-hosts"},
		{[]string{"::/0"}, 1 << 40, "scope: 340282366920938463463374607431768211456 addresses exceed --max-hosts 1099511627776; narrow the targets or raise --max-hosts"},
		{[]string{"127.0.0.0/24", "127.0.1.0-127.0.1.10"}, 266, "scope: 267 addresses exceed --max-hosts 266; narrow the targets or raise --max-hosts"},
	}
	for _, tt := range tests {
		start := time.Now()
		got := buildErr(t, Options{Targets: tt.targets, Ports: []int{9200}, MaxHosts: tt.max})
		if got != tt.want {
			t.Errorf("Build(%v):\n got  %s\n want %s", tt.targets, got, tt.want)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Build(%v) took %s; counting must not enumerate", tt.targets, d)
		}
	}
}

func TestBuildExcludesCountBeforeCap(t *testing.T) {
	s := build(t, Options{
		Targets:  []string{"127.0.0.0/15"},
		Excludes: []string{"127.1.0.0/16"},
		Ports:    []int{1},
	})
	if s.Addresses() != 65536 || !s.Contains(netip.MustParseAddr("127.0.255.255")) || s.Contains(netip.MustParseAddr("127.1.0.0")) {
		t.Fatalf("scope %s", s)
	}
	// An IPv6 /112 is fine.
	s = build(t, Options{Targets: []string{"2001:db8::/112"}, Ports: []int{1}})
	if s.Endpoints() != 65536 {
		t.Fatalf("endpoints %d", s.Endpoints())
	}
}

func TestBuildDeduplicatesOverlaps(t *testing.T) {
	s := build(t, Options{
		Targets: []string{"127.0.0.0/30", "127.0.0.2-127.0.0.5,127.0.0.3", "127.0.0.4:2", "127.0.0.4:3", "127.0.0.4:3", "::ffff:127.0.0.1"},
		Ports:   []int{1, 2, 1},
	})
	got := endpoints(s)
	want := []string{"127.0.0.4:3"}
	for _, p := range []int{1, 2} {
		for i := 0; i <= 5; i++ {
			want = append(want, fmt.Sprintf("127.0.0.%d:%d", i, p))
		}
	}
	if !slices.Equal(sorted(got), sorted(want)) {
		t.Fatalf("endpoints\n got  %v\n want %v", sorted(got), sorted(want))
	}
	if s.Endpoints() != int64(len(want)) || s.Addresses() != 6 {
		t.Fatalf("Endpoints() = %d, Addresses() = %d", s.Endpoints(), s.Addresses())
	}
	if got[0] != "127.0.0.4:3" {
		t.Fatalf("port-specific endpoints first, got %v", got)
	}
}

func TestBuildPortSpecificTargets(t *testing.T) {
	s := build(t, Options{
		Targets: []string{"127.0.0.9:9200", "[::1]:27017", "127.0.0.0/31"},
		Ports:   []int{80},
	})
	got := sorted(endpoints(s))
	want := []string{"127.0.0.0:80", "127.0.0.1:80", "127.0.0.9:9200", "[::1]:27017"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for a, in := range map[string]bool{"127.0.0.9": true, "::1": true, "127.0.0.1": true, "127.0.0.2": false, "127.0.0.8": false, "::2": false} {
		if s.Contains(netip.MustParseAddr(a)) != in {
			t.Errorf("Contains(%s) = %v", a, !in)
		}
	}
	// Only port-specific targets: no ports needed.
	s = build(t, Options{Targets: []string{"127.0.0.9:9200"}})
	if got := endpoints(s); !slices.Equal(got, []string{"127.0.0.9:9200"}) {
		t.Fatalf("got %v", got)
	}
}

func TestBuildExcludes(t *testing.T) {
	r := &fakeResolver{table: map[string][]string{
		"db.example.internal":  {"127.0.0.3", "::ffff:127.0.0.4"},
		"bad.example.internal": {"127.0.0.6"},
	}}
	s := build(t, Options{
		Targets:  []string{"127.0.0.0/29", "127.0.0.20:9200", "127.0.0.21:9200", "bad.example.internal:5432"},
		Excludes: []string{"127.0.0.1", "127.0.0.5-7", "db.example.internal", "127.0.0.2:80", "127.0.0.21:9200"},
		Ports:    []int{80, 443},
		Resolver: r,
	})
	want := []string{"127.0.0.0:80", "127.0.0.0:443", "127.0.0.2:443", "127.0.0.20:9200"}
	if got, want := sorted(endpoints(s)), sorted(want); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if s.Endpoints() != int64(len(want)) {
		t.Fatalf("Endpoints() = %d", s.Endpoints())
	}
	for a, in := range map[string]bool{"127.0.0.0": true, "127.0.0.1": false, "127.0.0.2": true, "127.0.0.3": false, "127.0.0.4": false, "127.0.0.6": false, "127.0.0.20": true, "127.0.0.21": false} {
		if s.Contains(netip.MustParseAddr(a)) != in {
			t.Errorf("Contains(%s) = %v", a, !in)
		}
	}
}

func TestBuildHostnamesResolvedOnce(t *testing.T) {
	r := &fakeResolver{table: map[string][]string{
		"es.example.internal": {"127.0.0.10", "127.0.0.11", "::1"},
		"db.example.internal": {"127.0.0.11"},
		"ex.example.internal": {"127.0.0.11"},
	}}
	s := build(t, Options{
		Targets:  []string{"es.example.internal", "ES.example.internal.", "es.example.internal:9300", "db.example.internal:5432", "127.0.0.12"},
		Excludes: []string{"ex.example.internal"},
		Ports:    []int{9200},
		Resolver: r,
	})
	for name, n := range r.calls {
		if n != 1 {
			t.Errorf("%s resolved %d times", name, n)
		}
	}
	want := []string{
		"127.0.0.10:9200(es.example.internal)", "127.0.0.10:9300(es.example.internal)", "127.0.0.12:9200",
		"[::1]:9200(es.example.internal)", "[::1]:9300(es.example.internal)",
	}
	if got := sorted(endpoints(s)); !slices.Equal(got, sorted(want)) {
		t.Fatalf("got %v\nwant %v", got, sorted(want))
	}
	if s.Contains(netip.MustParseAddr("127.0.0.11")) {
		t.Fatal("excluded resolved address in scope")
	}
}

func TestBuildResolveErrors(t *testing.T) {
	r := &fakeResolver{table: map[string][]string{}}
	got := buildErr(t, Options{Targets: []string{"missing.example.internal"}, Ports: []int{1}, Resolver: r})
	if got != `scope: resolve "missing.example.internal": no such host` {
		t.Fatalf("got %s", got)
	}
	r = &fakeResolver{block: true}
	start := time.Now()
	got = buildErr(t, Options{Targets: []string{"slow.example.internal"}, Ports: []int{1}, Resolver: r, ResolveTimeout: 50 * time.Millisecond})
	if got != `scope: resolve "slow.example.internal": no answer within 50ms` || time.Since(start) > 2*time.Second {
		t.Fatalf("got %s after %s", got, time.Since(start))
	}
}

func TestBuildStdin(t *testing.T) {
	in := strings.Join([]string{
		"# masscan",
		"open tcp 9200 127.0.0.5 1700000000",
		"open tcp 9200 127.0.0.5 1700000001",
		"closed tcp 9201 127.0.0.5 1700000000",
		`{"host":"es.example.internal","ip":"127.0.0.6","port":9201}`,
		"",
		"127.0.0.7:6379",
		"127.0.0.8",
	}, "\n")
	s := build(t, Options{Targets: []string{"-"}, Ports: []int{11211}, Stdin: strings.NewReader(in)})
	want := []string{"127.0.0.5:9200", "127.0.0.6:9201(es.example.internal)", "127.0.0.7:6379", "127.0.0.8:11211"}
	if got, want := sorted(endpoints(s)), sorted(want); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		o    Options
		want string
	}{
		{Options{}, "scope: no targets"},
		{Options{Targets: []string{"300.1.2.3"}, Ports: []int{1}}, `invalid target "300.1.2.3": not an IP address: IPv4 field has value >255`},
		{Options{Targets: []string{"127.0.0.1,300.1.2.3"}, Ports: []int{1}}, `invalid target "300.1.2.3": not an IP address: IPv4 field has value >255`},
		{Options{Targets: []string{"127.0.0.1"}, Excludes: []string{"127.0.0.0/33"}, Ports: []int{1}}, `invalid exclude "127.0.0.0/33": prefix length /33 is too long for IPv4`},
		{Options{Targets: []string{"127.0.0.1"}}, "scope: no ports to scan; give --ports or host:port targets"},
		{Options{Targets: []string{"127.0.0.1"}, Ports: []int{0}}, "scope: port 0 out of range 1-65535"},
		{Options{Targets: []string{"127.0.0.1"}, Ports: []int{1}, MaxHosts: -1}, "scope: --max-hosts must be positive, not -1"},
		{Options{Targets: []string{"127.0.0.0/24"}, Excludes: []string{"127.0.0.0/16"}, Ports: []int{1}}, "scope: nothing to scan: every target is excluded"},
		{Options{Targets: []string{"127.0.0.1:80"}, Excludes: []string{"127.0.0.1:80"}}, "scope: nothing to scan: every target is excluded"},
		{Options{Targets: []string{"-"}, Ports: []int{1}}, `scope: "-" given but no stdin to read`},
		{Options{Targets: []string{"-", "-"}, Ports: []int{1}, Stdin: strings.NewReader("127.0.0.1\n")}, `scope: "-" (stdin) given more than once`},
		{Options{Targets: []string{"-"}, Ports: []int{1}, Stdin: strings.NewReader("127.0.0.1\nopen tcp 0 127.0.0.1 1\n")}, `stdin line 2: invalid target "open tcp 0 127.0.0.1 1": masscan line: port 0 out of range 1-65535`},
		{Options{Targets: []string{"127.0.0.1"}, Excludes: []string{"-"}, Ports: []int{1}, Stdin: strings.NewReader("bad!\n")}, `stdin line 1: invalid exclude "bad!": hostname has invalid character '!'`},
	}
	for _, tt := range tests {
		if got := buildErr(t, tt.o); got != tt.want {
			t.Errorf("Build(%+v):\n got  %s\n want %s", tt.o, got, tt.want)
		}
	}
}

func TestAllInterleavesHosts(t *testing.T) {
	s := build(t, Options{Targets: []string{"127.0.0.0/24", "127.0.5.0/30"}, Ports: []int{1, 2, 3}})
	var prev Endpoint
	n := 0
	perHost := map[netip.Addr]int{}
	for ep := range s.All() {
		if n > 0 && ep.Addr == prev.Addr {
			t.Fatalf("consecutive endpoints %s and %s hit the same host", prev, ep)
		}
		if d := ep.Port - prev.Port; n > 0 && d != 0 && d != 1 {
			t.Fatalf("ports not in order: %s after %s", ep, prev)
		}
		perHost[ep.Addr]++
		prev = ep
		n++
	}
	if n != 260*3 || len(perHost) != 260 {
		t.Fatalf("%d endpoints over %d hosts", n, len(perHost))
	}
	// Stops when the consumer stops.
	n = 0
	for range s.All() {
		n++
		if n == 10 {
			break
		}
	}
}

func TestPermIsBijective(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 4, 5, 10, 64, 97, 256, 1000, 4096, 65536} {
		p := newPerm(n)
		seen := make([]bool, n)
		for i := range n {
			j := p.at(i)
			if j >= n || seen[j] {
				t.Fatalf("n=%d: index %d maps to %d twice or out of range", n, i, j)
			}
			seen[j] = true
		}
	}
}

// TestAllStreamsInConstantMemory walks a /16 × 25 ports (1.6M endpoints)
// and checks every endpoint comes once while allocations stay flat.
func TestAllStreamsInConstantMemory(t *testing.T) {
	ports := make([]int, 25)
	for i := range ports {
		ports[i] = 9000 + i
	}
	s := build(t, Options{Targets: []string{"127.2.0.0/16"}, Ports: ports})
	seen := make([]uint64, 65536*25/64)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	n := 0
	for ep := range s.All() {
		b := ep.Addr.As4()
		k := (int(b[2])<<8|int(b[3]))*25 + ep.Port - 9000
		if seen[k/64]&(1<<(k%64)) != 0 {
			t.Fatalf("%s yielded twice", ep)
		}
		seen[k/64] |= 1 << (k % 64)
		n++
	}
	runtime.ReadMemStats(&after)
	if n != 65536*25 || s.Endpoints() != int64(n) {
		t.Fatalf("yielded %d, Endpoints() %d", n, s.Endpoints())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Fatalf("walking %d endpoints allocated %d bytes", n, alloc)
	}
}

// TestBuildMatchesModel compares random scopes against a naive set model.
func TestBuildMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	addr := func(i int) string { return fmt.Sprintf("127.0.%d.%d", i>>8, i&255) }
	randSpec := func(withPort bool) (string, func(int) bool) {
		a := rng.IntN(1024)
		switch k := rng.IntN(4); {
		case withPort && k == 0:
			return addr(a) + ":" + fmt.Sprint(1+rng.IntN(4)), nil
		case k == 1:
			bits := 22 + rng.IntN(11)
			size := 1 << (32 - bits)
			lo := a &^ (size - 1)
			return fmt.Sprintf("%s/%d", addr(a), bits), func(i int) bool { return i >= lo && i < lo+size }
		case k == 2:
			b := min(1023, a+rng.IntN(100))
			return addr(a) + "-" + addr(b), func(i int) bool { return i >= a && i <= b }
		}
		return addr(a), func(i int) bool { return i == a }
	}
	for round := 0; round < 120; round++ {
		var targets, excludes []string
		var tIn, eIn []func(int) bool
		type ep struct{ a, p int }
		explicit := map[ep]bool{}
		exEP := map[ep]bool{}
		for range 1 + rng.IntN(6) {
			s, f := randSpec(true)
			targets = append(targets, s)
			if f != nil {
				tIn = append(tIn, f)
			} else {
				sp, _ := Parse(s)
				b := sp.First.As4()
				explicit[ep{int(b[2])<<8 | int(b[3]), sp.Port}] = true
			}
		}
		for range rng.IntN(4) {
			s, f := randSpec(true)
			excludes = append(excludes, s)
			if f != nil {
				eIn = append(eIn, f)
			} else {
				sp, _ := Parse(s)
				b := sp.First.As4()
				exEP[ep{int(b[2])<<8 | int(b[3]), sp.Port}] = true
			}
		}
		ports := []int{1, 2}[:1+rng.IntN(2)]
		anyOf := func(fs []func(int) bool, i int) bool {
			for _, f := range fs {
				if f(i) {
					return true
				}
			}
			return false
		}
		want := map[string]bool{}
		inScope := map[int]bool{}
		for i := 0; i < 1024; i++ {
			if anyOf(eIn, i) {
				continue
			}
			if anyOf(tIn, i) {
				inScope[i] = true
				for _, p := range ports {
					if !exEP[ep{i, p}] {
						want[fmt.Sprintf("%s:%d", addr(i), p)] = true
					}
				}
			}
		}
		for e := range explicit {
			if !anyOf(eIn, e.a) && !exEP[e] {
				inScope[e.a] = true
				want[fmt.Sprintf("%s:%d", addr(e.a), e.p)] = true
			}
		}
		s, err := Build(context.Background(), Options{Targets: targets, Excludes: excludes, Ports: ports, Resolver: noResolver{t}})
		if len(want) == 0 {
			if err == nil || !strings.Contains(err.Error(), "nothing to scan") {
				t.Fatalf("targets %v excludes %v: want nothing-to-scan, got %v", targets, excludes, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("targets %v excludes %v: %v", targets, excludes, err)
		}
		got := endpoints(s)
		var wantL []string
		for k := range want {
			wantL = append(wantL, k)
		}
		if !slices.Equal(sorted(got), sorted(wantL)) || s.Endpoints() != int64(len(wantL)) || s.Addresses() != len(inScope) {
			t.Fatalf("targets %v excludes %v ports %v:\n got  %v\n want %v\n Endpoints %d Addresses %d (want %d)",
				targets, excludes, ports, sorted(got), sorted(wantL), s.Endpoints(), s.Addresses(), len(inScope))
		}
		for i := 0; i < 1100; i++ {
			if s.Contains(netip.MustParseAddr(addr(i))) != inScope[i] {
				t.Fatalf("targets %v excludes %v: Contains(%s) = %v", targets, excludes, addr(i), !inScope[i])
			}
		}
	}
}

func BenchmarkAll(b *testing.B) {
	s, err := Build(context.Background(), Options{Targets: []string{"127.2.0.0/17", "127.4.0.0/20"}, Ports: []int{1, 2}})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		for range s.All() {
		}
	}
	b.ReportMetric(float64(s.Endpoints()), "endpoints/op")
}

func BenchmarkContains(b *testing.B) {
	targets := make([]string, 0, 1000)
	for i := range 1000 {
		targets = append(targets, fmt.Sprintf("127.%d.%d.0/28", i/200, i%200))
	}
	s, err := Build(context.Background(), Options{Targets: targets, Ports: []int{1}})
	if err != nil {
		b.Fatal(err)
	}
	a := netip.MustParseAddr("127.3.77.5")
	b.ReportAllocs()
	for b.Loop() {
		s.Contains(a)
	}
}
