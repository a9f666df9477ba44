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
	// sorted by address and port (8 bytes each for IPv4: a million-line
	// masscan list takes 8 MB); explicitAddrs counts their addresses outside
	// spans; epNames are host names of explicit endpoints that differ from
	// names.
	explicit      epList
	explicitAddrs int
	epNames       map[netip.AddrPort]string
	// skip are excluded endpoints inside spans × ports.
	skip map[netip.AddrPort]struct{}
	// deny are all port-specific exclusions, also those outside spans ×
	// ports: a port a server names (FTP passive data, a monitor port)
	// must not reach an excluded endpoint either.
	deny map[netip.AddrPort]struct{}
}

// ep is a compact endpoint: an address as a 128-bit number, its family and
// a port (0: swept on the scope's ports).
type ep struct {
	hi, lo uint64
	port   uint16
	v6     bool
}

func epOf(a netip.Addr, port int) ep {
	u := fromAddr(a)
	return ep{hi: u.hi, lo: u.lo, port: uint16(port), v6: a.Is6()}
}

func (e ep) addr() netip.Addr { return u128{hi: e.hi, lo: e.lo}.toAddr(!e.v6) }

func (e ep) addrPort() netip.AddrPort { return netip.AddrPortFrom(e.addr(), e.port) }

func compareEP(x, y ep) int {
	if c := compareAddrEP(x, y); c != 0 {
		return c
	}
	return int(x.port) - int(y.port)
}

func compareAddrEP(x, y ep) int {
	if x.v6 != y.v6 {
		if y.v6 {
			return -1
		}
		return 1
	}
	return u128{hi: x.hi, lo: x.lo}.cmp(u128{hi: y.hi, lo: y.lo})
}

// Build parses, resolves and checks the options into a Scope. Every error
// is meant for the user as is; nothing but the resolver is contacted.
//
// A target list on stdin is streamed: each line is checked as it is read
// and kept in 8 bytes (24 for IPv6), and the distinct addresses are counted as the list
// grows, so a list past --max-hosts is refused after reading at most about
// twice the cap's worth of lines, never held whole.
//
// Unspecified, multicast and broadcast addresses (see NonTarget) are
// refused as targets: as an address, in a block (unless excluded there), or
// as a hostname's address (unless excluded).
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
	if len(opts.Targets) == 0 {
		return nil, errors.New("scope: no targets")
	}
	stdin := &stdinOnce{r: opts.Stdin}
	// Target arguments are parsed first (syntax errors before any lookup);
	// a "-" among them is streamed once the exclusions are known.
	targetArgs, targetsFromStdin, err := collectArgs(opts.Targets, "target")
	if err != nil {
		return nil, err
	}
	var excludes []Spec
	exArgs, exFromStdin, err := collectArgs(opts.Excludes, "exclude")
	if err != nil {
		return nil, err
	}
	excludes = exArgs
	if exFromStdin {
		if targetsFromStdin {
			return nil, errors.New(`scope: "-" (stdin) given more than once`)
		}
		if err := stdin.read("exclude", func(sp Spec, _ int) error {
			excludes = append(excludes, sp)
			return nil
		}); err != nil {
			return nil, err
		}
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
	for _, sp := range targetArgs {
		if err := b.add(sp, 0); err != nil {
			return nil, err
		}
	}
	if targetsFromStdin {
		if err := stdin.read("target", b.add); err != nil {
			return nil, err
		}
	}
	if b.nTargets == 0 {
		return nil, errors.New("scope: no targets")
	}
	if err := b.targets(ctx); err != nil {
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

	// Targets as they are added: single addresses (port 0: swept on the
	// ports), blocks, hostnames; host names of single addresses (naabu).
	nTargets  int
	eps       epList
	blocks    []span
	hosts     []Spec
	names     map[netip.Addr]string
	epNames   map[netip.AddrPort]string
	nextCheck int
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

func (b *builder) excludedEP(a netip.Addr, port int) bool {
	if b.excluded(a) {
		return true
	}
	if port == 0 {
		return false
	}
	_, ok := b.exEP[netip.AddrPortFrom(a, uint16(port))]
	return ok
}

// minCheck is the number of single-address targets below which the
// distinct addresses are not counted yet.
const minCheck = 4096

// add takes one target (line: its stdin line, 0 for arguments): checked,
// kept compact, excluded parts dropped. Every time the single addresses
// double, they are de-duplicated and counted against --max-hosts.
func (b *builder) add(sp Spec, line int) error {
	b.nTargets++
	// A block too large for --max-hosts is refused for its size (below,
	// or in targets) rather than for the non-target addresses it holds.
	block := sp.Kind == KindPrefix || sp.Kind == KindRange
	if !block || total(subtract([]span{spanOf(sp.First, sp.Last)}, b.exSpans)).Cmp(big.NewInt(int64(b.maxHost))) <= 0 {
		if err := checkSpecTarget(sp, b.exSpans); err != nil {
			return err
		}
	}
	switch sp.Kind {
	case KindAddr:
		a := sp.First
		if b.excludedEP(a, sp.Port) {
			return nil
		}
		b.eps.add(epOf(a, sp.Port))
		if sp.Hostname != "" {
			b.nameEP(a, sp.Port, sp.Hostname)
		}
	case KindPrefix, KindRange:
		b.blocks = append(b.blocks, spanOf(sp.First, sp.Last))
	case KindHost:
		b.hosts = append(b.hosts, sp)
		if len(b.hosts) > 4*b.maxHost+minCheck {
			return fmt.Errorf("scope: more than %d hostname targets for --max-hosts %d; narrow the targets or raise --max-hosts", len(b.hosts)-1, b.maxHost)
		}
		return nil
	}
	if b.eps.len()+len(b.blocks) < max(b.nextCheck, minCheck) {
		return nil
	}
	b.compact()
	n := b.count()
	if n.Cmp(big.NewInt(int64(b.maxHost))) > 0 {
		where := ""
		if line > 0 {
			where = fmt.Sprintf(" (stdin read to line %d)", line)
		}
		return fmt.Errorf("scope: more than %d addresses%s exceed --max-hosts %d; narrow the targets or raise --max-hosts", b.maxHost, where, b.maxHost)
	}
	b.nextCheck = 2 * (b.eps.len() + len(b.blocks))
	return nil
}

// nameEP remembers the host name an endpoint was reported under.
func (b *builder) nameEP(a netip.Addr, port int, name string) {
	if port == 0 {
		if b.names == nil {
			b.names = map[netip.Addr]string{}
		}
		if _, ok := b.names[a]; !ok {
			b.names[a] = name
		}
		return
	}
	if b.epNames == nil {
		b.epNames = map[netip.AddrPort]string{}
	}
	ap := netip.AddrPortFrom(a, uint16(port))
	if _, ok := b.epNames[ap]; !ok {
		b.epNames[ap] = name
	}
}

// compact sorts and de-duplicates the single addresses, and merges the
// blocks minus the exclusions.
func (b *builder) compact() {
	b.eps.sortCompact()
	b.blocks = subtract(normalize(b.blocks), b.exSpans)
}

// count is the number of distinct addresses among the blocks and single
// addresses (compacted), hostnames not counted.
func (b *builder) count() *big.Int {
	n := total(b.blocks)
	var extra int64
	for i := range b.eps.len() {
		e := b.eps.at(i)
		if i > 0 && compareAddrEP(b.eps.at(i-1), e) == 0 {
			continue
		}
		if find(b.blocks, e.addr()) < 0 {
			extra++
		}
	}
	return n.Add(n, big.NewInt(extra))
}

// targets turns the collected targets into the scope's spans and explicit
// endpoints, resolving hostnames (after refusing an oversized scope).
func (b *builder) targets(ctx context.Context) error {
	b.compact()
	spans := b.blocks
	b.blocks = nil
	// Single addresses without a port join the swept spans.
	for i := range b.eps.len() {
		e := b.eps.at(i)
		if e.port != 0 {
			continue
		}
		u := u128{hi: e.hi, lo: e.lo}
		if n := len(spans); n > 0 && spans[n-1].v4 == !e.v6 && !spans[n-1].hi.isMax(!e.v6) && spans[n-1].hi.addU64(1) == u {
			spans[n-1].hi = u
			continue
		}
		spans = append(spans, span{lo: u, hi: u, v4: !e.v6})
	}
	spans = normalize(spans)
	// Refuse an oversized scope before any lookup.
	if err := b.checkCount(total(spans)); err != nil {
		return err
	}
	if err := b.res.resolveAll(ctx, hostnames(b.hosts)); err != nil {
		return err
	}
	for _, sp := range b.hosts {
		for _, a := range b.res.done[sp.Hostname] {
			if b.excludedEP(a, sp.Port) {
				continue
			}
			if why := NonTarget(a); why != "" {
				return fmt.Errorf("scope: target %q resolves to %s, which is %s and never a target; exclude that address or drop the name", sp.Hostname, a, why)
			}
			b.nameEP(a, sp.Port, sp.Hostname)
			if sp.Port == 0 {
				spans = append(spans, spanOf(a, a))
			} else {
				b.eps.add(epOf(a, sp.Port))
			}
		}
	}
	b.s.spans = normalize(spans)
	b.explicit()
	return nil
}

// explicit keeps the port-specific endpoints that a sweep of the spans
// does not cover, in place.
func (b *builder) explicit() {
	s := b.s
	b.eps.sortCompact()
	inPorts := portSet(s.ports)
	s.names = b.names
	if s.names == nil {
		s.names = map[netip.Addr]string{}
	}
	b.eps.filter(func(e ep) bool {
		if e.port == 0 {
			return false
		}
		a := e.addr()
		if find(s.spans, a) < 0 {
			return true
		}
		if name := b.epNames[e.addrPort()]; name != "" && s.names[a] == "" {
			s.names[a] = name
		}
		return !inPorts[int(e.port)] // else swept anyway
	})
	b.eps.clip()
	s.explicit, b.eps = b.eps, epList{}
	for i := range s.explicit.len() {
		e := s.explicit.at(i)
		if (i == 0 || compareAddrEP(s.explicit.at(i-1), e) != 0) && find(s.spans, e.addr()) < 0 {
			s.explicitAddrs++
		}
		ap := e.addrPort()
		if name := b.epNames[ap]; name != "" && name != s.names[ap.Addr()] {
			if s.epNames == nil {
				s.epNames = map[netip.AddrPort]string{}
			}
			s.epNames[ap] = name
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

func (b *builder) finish() (*Scope, error) {
	s := b.s
	count := total(s.spans)
	count.Add(count, big.NewInt(int64(s.explicitAddrs)))
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

// collectArgs parses target or exclude arguments (an element may hold
// several, comma-separated); fromStdin tells whether "-" was among them.
func collectArgs(args []string, what string) (specs []Spec, fromStdin bool, err error) {
	for _, arg := range args {
		for _, part := range strings.Split(arg, ",") {
			part = strings.TrimSpace(part)
			if part == "-" {
				if fromStdin {
					return nil, false, errors.New(`scope: "-" (stdin) given more than once`)
				}
				fromStdin = true
				continue
			}
			sp, err := Parse(part)
			if err != nil {
				return nil, false, relabel(err, what)
			}
			specs = append(specs, sp)
		}
	}
	return specs, fromStdin, nil
}

// read streams the list on stdin to fn, line by line.
func (s *stdinOnce) read(what string, fn func(Spec, int) error) error {
	switch {
	case s.used:
		return errors.New(`scope: "-" (stdin) given more than once`)
	case s.r == nil:
		return errors.New(`scope: "-" given but no stdin to read`)
	}
	s.used = true
	return relabel(parseList(s.r, fn), what)
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
// addresses count as IPv4; zones are ignored. A non-target address (see
// NonTarget) is never contained, whatever the scope was built from.
func (s *Scope) Contains(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	if NonTarget(a) != "" {
		return false
	}
	if find(s.spans, a) >= 0 {
		return true
	}
	return s.explicit.hasAddr(epOf(a, 0))
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
func (s *Scope) Addresses() int { return int(s.n) + s.explicitAddrs }

// Ports are the ports swept on targets without a port of their own.
func (s *Scope) Ports() []int { return slices.Clone(s.ports) }

// Endpoints is the number of endpoints All yields.
func (s *Scope) Endpoints() int64 {
	return int64(s.n)*int64(len(s.ports)) + int64(s.explicit.len()) - int64(len(s.skip))
}

// String summarizes the scope ("4096 addresses × 25 ports + 3 endpoints").
func (s *Scope) String() string {
	str := strconv.FormatUint(s.n, 10) + " addresses × " + strconv.Itoa(len(s.ports)) + " ports"
	if s.explicit.len() > 0 {
		str += " + " + strconv.Itoa(s.explicit.len()) + " host:port endpoints"
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
		pe := newPerm(uint64(s.explicit.len()))
		for i := range pe.n {
			e := s.explicit.at(int(pe.at(i)))
			ep := Endpoint{Addr: e.addr(), Port: int(e.port)}
			ep.Hostname = s.epNames[ep.AddrPort()]
			if ep.Hostname == "" {
				ep.Hostname = s.names[ep.Addr]
			}
			if !yield(ep) {
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
