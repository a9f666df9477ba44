package scope

import (
	"cmp"
	"encoding/binary"
	"math/big"
	"math/bits"
	"net/netip"
	"slices"
)

// u128 is an address as a 128-bit number (IPv4 in the low 32 bits).
type u128 struct{ hi, lo uint64 }

func fromAddr(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

func (u u128) toAddr(v4 bool) netip.Addr {
	if v4 {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(u.lo))
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], u.hi)
	binary.BigEndian.PutUint64(b[8:], u.lo)
	return netip.AddrFrom16(b)
}

func (u u128) cmp(v u128) int {
	if c := cmp.Compare(u.hi, v.hi); c != 0 {
		return c
	}
	return cmp.Compare(u.lo, v.lo)
}

func (u u128) addU64(n uint64) u128 {
	lo, carry := bits.Add64(u.lo, n, 0)
	return u128{hi: u.hi + carry, lo: lo}
}

func (u u128) sub(v u128) u128 {
	lo, borrow := bits.Sub64(u.lo, v.lo, 0)
	return u128{hi: u.hi - v.hi - borrow, lo: lo}
}

func (u u128) or(v u128) u128 { return u128{hi: u.hi | v.hi, lo: u.lo | v.lo} }

func (u u128) isMax(v4 bool) bool {
	if v4 {
		return u.lo == 0xffffffff
	}
	return u.hi == ^uint64(0) && u.lo == ^uint64(0)
}

func (u u128) big() *big.Int {
	b := new(big.Int).SetUint64(u.hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(u.lo))
}

// onesBelow is a number with the low n bits set.
func onesBelow(n uint) u128 {
	switch {
	case n == 0:
		return u128{}
	case n < 64:
		return u128{lo: 1<<n - 1}
	case n == 64:
		return u128{lo: ^uint64(0)}
	case n < 128:
		return u128{hi: 1<<(n-64) - 1, lo: ^uint64(0)}
	}
	return u128{hi: ^uint64(0), lo: ^uint64(0)}
}

// span is an inclusive range of addresses of one family.
type span struct {
	lo, hi u128
	v4     bool
}

func spanOf(first, last netip.Addr) span {
	return span{lo: fromAddr(first), hi: fromAddr(last), v4: first.Is4()}
}

func (s span) contains(a u128) bool { return s.lo.cmp(a) <= 0 && a.cmp(s.hi) <= 0 }

// size is hi-lo+1 as a big number (an IPv6 ::/0 has 2^128 addresses).
func (s span) size() *big.Int {
	n := s.hi.sub(s.lo).big()
	return n.Add(n, big.NewInt(1))
}

// sizeU64 is the size when it fits a uint64 (true) or false.
func (s span) sizeU64() (uint64, bool) {
	d := s.hi.sub(s.lo)
	if d.hi != 0 || d.lo == ^uint64(0) {
		return 0, false
	}
	return d.lo + 1, true
}

func compareSpans(a, b span) int {
	if a.v4 != b.v4 {
		if a.v4 {
			return -1
		}
		return 1
	}
	return a.lo.cmp(b.lo)
}

// normalize sorts spans (IPv4 first) and merges overlapping and adjacent
// ones, so that the result is sorted and disjoint.
func normalize(in []span) []span {
	if len(in) == 0 {
		return nil
	}
	slices.SortFunc(in, compareSpans)
	out := in[:1]
	for _, s := range in[1:] {
		cur := &out[len(out)-1]
		if s.v4 == cur.v4 && (cur.hi.isMax(cur.v4) || s.lo.cmp(cur.hi.addU64(1)) <= 0) {
			if s.hi.cmp(cur.hi) > 0 {
				cur.hi = s.hi
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// subtract removes the addresses of ex from in; both must be normalized.
// The result is normalized.
func subtract(in, ex []span) []span {
	var out []span
	j := 0
	for _, s := range in {
		// Skip exclusions entirely before s.
		for j < len(ex) && (compareFamily(ex[j], s) < 0 || ex[j].v4 == s.v4 && ex[j].hi.cmp(s.lo) < 0) {
			j++
		}
		cur := s
		alive := true
		for k := j; k < len(ex) && ex[k].v4 == s.v4 && ex[k].lo.cmp(cur.hi) <= 0; k++ {
			e := ex[k]
			if e.hi.cmp(cur.lo) < 0 {
				continue
			}
			if e.lo.cmp(cur.lo) > 0 {
				out = append(out, span{lo: cur.lo, hi: e.lo.sub(u128{lo: 1}), v4: s.v4})
			}
			if e.hi.cmp(cur.hi) >= 0 {
				alive = false
				break
			}
			cur.lo = e.hi.addU64(1)
		}
		if alive {
			out = append(out, cur)
		}
	}
	return out
}

func compareFamily(a, b span) int {
	switch {
	case a.v4 == b.v4:
		return 0
	case a.v4:
		return -1
	}
	return 1
}

// find returns the index of the span holding a, or -1; spans normalized.
func find(spans []span, a netip.Addr) int {
	if !a.IsValid() {
		return -1
	}
	v4 := a.Is4()
	u := fromAddr(a)
	i, _ := slices.BinarySearchFunc(spans, span{lo: u, v4: v4}, compareSpans)
	// spans[i] is the first span starting at or after u: u is in it when it
	// starts exactly at u, else in the one before.
	if i < len(spans) && spans[i].v4 == v4 && spans[i].lo == u {
		return i
	}
	if i > 0 && spans[i-1].v4 == v4 && spans[i-1].contains(u) {
		return i - 1
	}
	return -1
}

// total is the number of addresses in spans.
func total(spans []span) *big.Int {
	n := new(big.Int)
	for _, s := range spans {
		n.Add(n, s.size())
	}
	return n
}
