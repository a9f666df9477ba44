package scope

import (
	"fmt"
	"net/netip"
)

// nonTargets are the address blocks that are never a target, whatever a
// scope says: they do not name one host. Dialing the unspecified address
// reaches the local host (slipping past an exclusion of 127.0.0.0/8), and
// multicast and broadcast addresses reach a group, not a host.
//
// IPv4-mapped IPv6 forms (::ffff:0.0.0.0, ::ffff:224.0.0.1) are unmapped
// before the check, and listed here as well for IPv6 spans that cross into
// the mapped block (::fffe:ffff:ffff-::ffff:0.0.0.5).
var nonTargets = []struct {
	span span
	why  string
}{
	{prefixSpan("0.0.0.0/8"), "unspecified (0.0.0.0/8, \"this network\")"},
	{prefixSpan("224.0.0.0/4"), "multicast"},
	{prefixSpan("255.255.255.255/32"), "broadcast"},
	{prefixSpan("::/128"), "unspecified"},
	{prefixSpan("ff00::/8"), "multicast"},
	{prefixSpan("::ffff:0.0.0.0/104"), "unspecified (IPv4-mapped)"},
	{prefixSpan("::ffff:224.0.0.0/100"), "multicast (IPv4-mapped)"},
	{prefixSpan("::ffff:255.255.255.255/128"), "broadcast (IPv4-mapped)"},
}

func prefixSpan(s string) span {
	p := netip.MustParsePrefix(s)
	return span{lo: fromAddr(p.Addr()), hi: fromAddr(lastOf(p)), v4: p.Addr().Is4()}
}

// NonTarget tells why a is never a target — unspecified, multicast or
// broadcast, in any form (IPv4-mapped, with a zone) — or "" when a is a
// unicast address that a scope may hold. An invalid address is never a
// target either.
func NonTarget(a netip.Addr) string {
	if !a.IsValid() {
		return "not a valid address"
	}
	u, v4 := fromAddr(a.WithZone("").Unmap()), a.Unmap().Is4()
	for _, nt := range nonTargets {
		if nt.span.v4 == v4 && nt.span.contains(u) {
			return nt.why
		}
	}
	return ""
}

// nonTargetIn returns the first non-target block that sp overlaps, as the
// overlapping part, or ok false.
func nonTargetIn(sp span) (part span, why string, ok bool) {
	for _, nt := range nonTargets {
		b := nt.span
		if b.v4 != sp.v4 || b.hi.cmp(sp.lo) < 0 || sp.hi.cmp(b.lo) < 0 {
			continue
		}
		part = span{lo: b.lo, hi: b.hi, v4: b.v4}
		if sp.lo.cmp(part.lo) > 0 {
			part.lo = sp.lo
		}
		if sp.hi.cmp(part.hi) < 0 {
			part.hi = sp.hi
		}
		return part, nt.why, true
	}
	return span{}, "", false
}

func (s span) String() string {
	lo, hi := s.lo.toAddr(s.v4), s.hi.toAddr(s.v4)
	if lo == hi {
		return lo.String()
	}
	return lo.String() + "-" + hi.String()
}

// nonTargetError is the refusal of a target that is (or, after the
// exclusions, still holds) a non-target address.
func nonTargetError(input string, part span, why string) error {
	if part.lo == part.hi {
		return &Error{What: "target", Input: input, Reason: fmt.Sprintf(
			"%s is %s, which is never a target", part, why)}
	}
	return &Error{What: "target", Input: input, Reason: fmt.Sprintf(
		"holds %s (%s), which is never a target; narrow it or exclude those addresses", part, why)}
}

// CheckTargets refuses target specs that are non-target addresses, or
// blocks that still hold one after the address exclusions (see NonTarget).
// Hostnames are not resolved: Build checks their addresses. Config
// validation uses it so that check-config reports what Build would refuse.
func CheckTargets(targets, excludes []string) error {
	var ex []span
	for _, e := range excludes {
		sp, err := Parse(e)
		if err != nil || sp.Kind == KindHost || sp.Port != 0 {
			continue
		}
		ex = append(ex, spanOf(sp.First, sp.Last))
	}
	ex = normalize(ex)
	for _, t := range targets {
		sp, err := Parse(t)
		if err != nil {
			return err
		}
		if err := checkSpecTarget(sp, ex); err != nil {
			return err
		}
	}
	return nil
}

// checkSpecTarget refuses a single non-target address (excluded or not: it
// is never a meaningful target), or a block that holds one outside the
// exclusions ex (normalized).
func checkSpecTarget(sp Spec, ex []span) error {
	switch sp.Kind {
	case KindAddr:
		if why := NonTarget(sp.First); why != "" {
			return nonTargetError(sp.String(), spanOf(sp.First, sp.First), why)
		}
	case KindPrefix, KindRange:
		for _, piece := range subtract([]span{spanOf(sp.First, sp.Last)}, ex) {
			if part, why, ok := nonTargetIn(piece); ok {
				return nonTargetError(sp.String(), part, why)
			}
		}
	}
	return nil
}
