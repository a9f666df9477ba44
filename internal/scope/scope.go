// Package scope turns target specifications (addresses, CIDRs, ranges,
// hostnames, host:port, target lists on stdin) and exclusions into the set of
// endpoints a scan may touch.
//
// A Scope is built once: address blocks are merged into sorted, disjoint
// spans minus the exclusions, and counted without being enumerated, so an
// oversized scope (a /8, an IPv6 /64) is refused at once. Hostnames are
// resolved exactly once and their addresses checked against the exclusions.
// The engine asks Contains before every connection; All streams the endpoints
// in constant memory.
package scope

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/big"
	"math/bits"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultMaxHosts is the default cap on the number of addresses in a scope.
const DefaultMaxHosts = 65536

// DefaultResolveTimeout bounds one hostname lookup.
const DefaultResolveTimeout = 5 * time.Second

// Endpoint is one host:port to check. Its fields are those of probe.Target,
// so probe.Target(ep) converts it.
type Endpoint struct {
	Addr netip.Addr
	Port int
	// Hostname is the name the address was resolved from (or reported
	// under, for naabu lines), "" for address targets.
	Hostname string
}

// AddrPort is the endpoint as a netip.AddrPort.
func (e Endpoint) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(e.Addr, uint16(e.Port))
}

// String is "ip:port" ("[v6]:port").
func (e Endpoint) String() string { return e.AddrPort().String() }

// Resolver looks up hostnames; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Options say what to scan.
type Options struct {
	// Targets are target specs (see Parse); an element may hold several,
	// comma-separated. "-" reads a target list from Stdin (see ParseLine).
	Targets []string
	// Excludes use the same syntax; an exclude with a port removes just
	// that endpoint.
	Excludes []string
	// Ports are scanned on every target without a port of its own.
	Ports []int
	// MaxHosts caps the number of distinct addresses (0: DefaultMaxHosts).
	MaxHosts int
	// Stdin is read when a target is "-".
	Stdin io.Reader
	// Resolver resolves hostnames (nil: net.DefaultResolver).
	Resolver Resolver
	// ResolveTimeout bounds each lookup (0: DefaultResolveTimeout).
	ResolveTimeout time.Duration
}

// Scope is an immutable set of endpoints; it is safe for concurrent use.
type Scope struct {
	// spans are swept on every port in ports: sorted, disjoint, excluded
	// addresses removed.
	spans  []span
	starts []uint64 // starts[i]: index of spans[i]'s first address
	n      uint64   // addresses in spans
	ports  []int
	names  map[netip.Addr]string
	// explicit are port-specific endpoints not already in spans × ports,
	// sorted by address and port; explicitAddrs their addresses outside
	// spans, sorted and unique.
	explicit      []Endpoint
	explicitAddrs []netip.Addr
	// skip are excluded endpoints inside spans × ports.
	skip map[netip.AddrPort]struct{}
	// deny are all port-specific exclusions, also those outside spans ×
	// ports: a port a server names (FTP passive data, a monitor port)
	// must not reach an excluded endpoint either.
	deny map[netip.AddrPort]struct{}
}

// Build parses, resolves and checks the options into a Scope. Every error
// is meant for the user as is; nothing but the resolver is contacted.
func Build(ctx context.Context, opts Options) (*Scope, error) {
	maxHosts := opts.MaxHosts
	if maxHosts == 0 {
		maxHosts = DefaultMaxHosts
	}
	if maxHosts < 0 {
		return nil, fmt.Errorf("scope: --max-hosts must be positive, not %d", maxHosts)
	}
	ports, err := checkPorts(opts.Ports)
	if err != nil {
		return nil, err
	}
	stdin := &stdinOnce{r: opts.Stdin}
	targets, err := collect(opts.Targets, "target", stdin)
	if err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("scope: no targets")
	}
	excludes, err := collect(opts.Excludes, "exclude", stdin)
	if err != nil {
		return nil, err
	}
	b := &builder{
		res:     resolver{r: opts.Resolver, timeout: opts.ResolveTimeout},
		maxHost: maxHosts,
		s:       &Scope{ports: ports},
	}
	if b.res.r == nil {
		b.res.r = net.DefaultResolver
	}
	if b.res.timeout <= 0 {
		b.res.timeout = DefaultResolveTimeout
	}
	if err := b.exclusions(ctx, excludes); err != nil {
		return nil, err
	}
	if err := b.targets(ctx, targets); err != nil {
		return nil, err
	}
	return b.finish()
}

type builder struct {
	res     resolver
	maxHost int
	s       *Scope
	exSpans []span
	exEP    map[netip.AddrPort]struct{}
}

func (b *builder) exclusions(ctx context.Context, specs []Spec) error {
	if err := b.res.resolveAll(ctx, hostnames(specs)); err != nil {
		return err
	}
	b.exEP = map[netip.AddrPort]struct{}{}
	for _, sp := range specs {
		if sp.Port != 0 {
			for _, a := range b.addrsOf(sp) {
				b.exEP[netip.AddrPortFrom(a, uint16(sp.Port))] = struct{}{}
			}
			continue
		}
		if sp.Kind == KindHost {
			for _, a := range b.res.done[sp.Hostname] {
				b.exSpans = append(b.exSpans, spanOf(a, a))
			}
			continue
		}
		b.exSpans = append(b.exSpans, spanOf(sp.First, sp.Last))
	}
	b.exSpans = normalize(b.exSpans)
	return nil
}

// addrsOf gives the single or resolved addresses of an address or host spec
// (nil for blocks).
func (b *builder) addrsOf(sp Spec) []netip.Addr {
	switch sp.Kind {
	case KindAddr:
		return []netip.Addr{sp.First}
	case KindHost:
		return b.res.done[sp.Hostname]
	}
	return nil
}

func (b *builder) excluded(a netip.Addr) bool { return find(b.exSpans, a) >= 0 }

func (b *builder) targets(ctx context.Context, specs []Spec) error {
	var spans []span
	for _, sp := range specs {
		if sp.Port == 0 && sp.Kind != KindHost {
			spans = append(spans, spanOf(sp.First, sp.Last))
		}
	}
	spans = subtract(normalize(spans), b.exSpans)
	// Refuse an oversized scope before any lookup.
	if err := b.checkCount(total(spans)); err != nil {
		return err
	}
	if err := b.res.resolveAll(ctx, hostnames(specs)); err != nil {
		return err
	}
	b.s.names = map[netip.Addr]string{}
	for _, sp := range specs {
		if sp.Kind != KindHost || sp.Port != 0 {
			continue
		}
		for _, a := range b.res.done[sp.Hostname] {
			if b.excluded(a) {
				continue
			}
			if _, ok := b.s.names[a]; !ok {
				b.s.names[a] = sp.Hostname
			}
			spans = append(spans, spanOf(a, a))
		}
	}
	b.s.spans = normalize(spans)
	b.explicit(specs)
	return nil
}

// explicit collects the port-specific endpoints.
func (b *builder) explicit(specs []Spec) {
	s := b.s
	var eps []Endpoint
	for _, sp := range specs {
		if sp.Port == 0 {
			continue
		}
		for _, a := range b.addrsOf(sp) {
			if b.excluded(a) {
				continue
			}
			if _, ok := b.exEP[netip.AddrPortFrom(a, uint16(sp.Port))]; ok {
				continue
			}
			eps = append(eps, Endpoint{Addr: a, Port: sp.Port, Hostname: sp.Hostname})
		}
	}
	slices.SortStableFunc(eps, compareEndpoints)
	eps = slices.CompactFunc(eps, func(x, y Endpoint) bool { return x.Addr == y.Addr && x.Port == y.Port })
	inPorts := portSet(s.ports)
	for _, ep := range eps {
		if find(s.spans, ep.Addr) >= 0 {
			if ep.Hostname != "" && s.names[ep.Addr] == "" {
				s.names[ep.Addr] = ep.Hostname
			}
			if inPorts[ep.Port] {
				continue // swept anyway
			}
		} else if n := len(s.explicitAddrs); n == 0 || s.explicitAddrs[n-1] != ep.Addr {
			s.explicitAddrs = append(s.explicitAddrs, ep.Addr)
		}
		s.explicit = append(s.explicit, ep)
	}
	for i := range s.explicit {
		if s.explicit[i].Hostname == "" {
			s.explicit[i].Hostname = s.names[s.explicit[i].Addr]
		}
	}
	if len(b.exEP) > 0 {
		s.deny = b.exEP
	}
	for ap := range b.exEP {
		if inPorts[int(ap.Port())] && find(s.spans, ap.Addr()) >= 0 {
			if s.skip == nil {
				s.skip = map[netip.AddrPort]struct{}{}
			}
			s.skip[ap] = struct{}{}
		}
	}
}

func compareEndpoints(x, y Endpoint) int {
	if c := x.Addr.Compare(y.Addr); c != 0 {
		return c
	}
	return x.Port - y.Port
}

func (b *builder) finish() (*Scope, error) {
	s := b.s
	count := total(s.spans)
	count.Add(count, big.NewInt(int64(len(s.explicitAddrs))))
	if err := b.checkCount(count); err != nil {
		return nil, err
	}
	s.starts = make([]uint64, len(s.spans))
	for i, sp := range s.spans {
		s.starts[i] = s.n
		size, _ := sp.sizeU64() // fits: checked against maxHost
		s.n += size
	}
	if s.n > 0 && len(s.ports) == 0 {
		return nil, errors.New("scope: no ports to scan; give --ports or host:port targets")
	}
	if s.Endpoints() == 0 {
		return nil, errors.New("scope: nothing to scan: every target is excluded")
	}
	if len(s.names) == 0 {
		s.names = nil
	}
	return s, nil
}

func (b *builder) checkCount(n *big.Int) error {
	if n.Cmp(big.NewInt(int64(b.maxHost))) > 0 {
		return fmt.Errorf("scope: %s addresses exceed --max-hosts %d; narrow the targets or raise --max-hosts", n, b.maxHost)
	}
	return nil
}

func checkPorts(ports []int) ([]int, error) {
	seen := map[int]bool{}
	out := make([]int, 0, len(ports))
	for _, p := range ports {
		if p < 1 || p > 65535 {
			return nil, fmt.Errorf("scope: port %d out of range 1-65535", p)
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out, nil
}

func portSet(ports []int) map[int]bool {
	m := make(map[int]bool, len(ports))
	for _, p := range ports {
		m[p] = true
	}
	return m
}

func hostnames(specs []Spec) []string {
	var names []string
	seen := map[string]bool{}
	for _, sp := range specs {
		if sp.Kind == KindHost && !seen[sp.Hostname] {
			seen[sp.Hostname] = true
			names = append(names, sp.Hostname)
		}
	}
	return names
}

// stdinOnce lets "-" be used once.
type stdinOnce struct {
	r    io.Reader
	used bool
}

func collect(args []string, what string, stdin *stdinOnce) ([]Spec, error) {
	var specs []Spec
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "-" {
				if err := stdin.read(what, &specs); err != nil {
					return nil, err
				}
				continue
			}
			sp, err := Parse(part)
			if err != nil {
				return nil, relabel(err, what)
			}
			specs = append(specs, sp)
		}
	}
	return specs, nil
}

func (s *stdinOnce) read(what string, specs *[]Spec) error {
	switch {
	case s.used:
		return errors.New(`scope: "-" (stdin) given more than once`)
	case s.r == nil:
		return errors.New(`scope: "-" given but no stdin to read`)
	}
	s.used = true
	err := ParseList(s.r, func(sp Spec) error {
		*specs = append(*specs, sp)
		return nil
	})
	return relabel(err, what)
}

func relabel(err error, what string) error {
	var te *Error
	if errors.As(err, &te) {
		te.What = what
	}
	return err
}

// Contains tells whether a may be contacted: it is a target address (or a
// port-specific target's address) and not excluded. IPv4-mapped IPv6
// addresses count as IPv4; zones are ignored.
func (s *Scope) Contains(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	if find(s.spans, a) >= 0 {
		return true
	}
	_, ok := slices.BinarySearchFunc(s.explicitAddrs, a, netip.Addr.Compare)
	return ok
}

// Allows is the scope decision for one connection, made before every
// dial on every code path: the address is in scope (see Contains) and the
// endpoint is not excluded. Ports other than the swept ones may be dialed on
// an in-scope address (a server's passive data port, a monitoring port), but
// never an endpoint an exclusion names.
func (s *Scope) Allows(ap netip.AddrPort) bool {
	a := ap.Addr().WithZone("").Unmap()
	if !s.Contains(a) {
		return false
	}
	_, denied := s.deny[netip.AddrPortFrom(a, ap.Port())]
	return !denied
}

// Addresses is the number of distinct addresses in the scope.
func (s *Scope) Addresses() int { return int(s.n) + len(s.explicitAddrs) }

// Ports are the ports swept on targets without a port of their own.
func (s *Scope) Ports() []int { return slices.Clone(s.ports) }

// Endpoints is the number of endpoints All yields.
func (s *Scope) Endpoints() int64 {
	return int64(s.n)*int64(len(s.ports)) + int64(len(s.explicit)) - int64(len(s.skip))
}

// String summarizes the scope ("4096 addresses × 25 ports + 3 endpoints").
func (s *Scope) String() string {
	str := strconv.FormatUint(s.n, 10) + " addresses × " + strconv.Itoa(len(s.ports)) + " ports"
	if len(s.explicit) > 0 {
		str += " + " + strconv.Itoa(len(s.explicit)) + " host:port endpoints"
	}
	return str
}

// All streams the scope's endpoints, each once, in constant memory.
//
// Order: first the port-specific endpoints (host:port targets, masscan and
// naabu lines), then, port by port in the order given, every address. Both
// walks visit their items in a fixed stride permutation (index i*k mod n, k
// coprime to n and close to n/φ), so consecutive endpoints go to different
// hosts far apart in the address space, and one host sees one connection per
// port pass. The order is deterministic.
func (s *Scope) All() iter.Seq[Endpoint] {
	return func(yield func(Endpoint) bool) {
		pe := newPerm(uint64(len(s.explicit)))
		for i := range pe.n {
			if !yield(s.explicit[pe.at(i)]) {
				return
			}
		}
		p := newPerm(s.n)
		for _, port := range s.ports {
			for i := range p.n {
				a := s.addrAt(p.at(i))
				if s.skip != nil {
					if _, ok := s.skip[netip.AddrPortFrom(a, uint16(port))]; ok {
						continue
					}
				}
				ep := Endpoint{Addr: a, Port: port}
				if s.names != nil {
					ep.Hostname = s.names[a]
				}
				if !yield(ep) {
					return
				}
			}
		}
	}
}

// addrAt is the idx-th address of the spans.
func (s *Scope) addrAt(idx uint64) netip.Addr {
	k, found := slices.BinarySearch(s.starts, idx)
	if !found {
		k--
	}
	sp := s.spans[k]
	return sp.lo.addU64(idx - s.starts[k]).toAddr(sp.v4)
}

// perm is the permutation i -> i*stride mod n of [0, n).
type perm struct{ n, stride uint64 }

func newPerm(n uint64) perm {
	if n <= 2 {
		return perm{n: n, stride: 1}
	}
	stride := uint64(float64(n) * 0.6180339887498949)
	if stride == 0 {
		stride = 1
	}
	for gcd(stride, n) != 1 {
		stride++
	}
	return perm{n: n, stride: stride}
}

func (p perm) at(i uint64) uint64 {
	hi, lo := bits.Mul64(i, p.stride)
	return bits.Rem64(hi, lo, p.n)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
