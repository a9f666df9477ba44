package scope

import (
	"slices"
)

// epList holds endpoints compactly: IPv4 ones packed in 8 bytes
// (address<<16 | port), IPv6 ones as ep (24 bytes). A million-line masscan
// list of IPv4 endpoints takes 8 MB. Sorted, IPv4 first, it orders like
// compareEP.
type epList struct {
	v4 []uint64
	v6 []ep
}

func pack4(e ep) uint64 { return e.lo<<16 | uint64(e.port) }

func unpack4(x uint64) ep { return ep{lo: x >> 16, port: uint16(x)} }

func (l *epList) add(e ep) {
	if e.v6 {
		l.v6 = append(l.v6, e)
		return
	}
	l.v4 = append(l.v4, pack4(e))
}

func (l *epList) len() int { return len(l.v4) + len(l.v6) }

// at is the i-th endpoint, IPv4 ones first.
func (l *epList) at(i int) ep {
	if i < len(l.v4) {
		return unpack4(l.v4[i])
	}
	return l.v6[i-len(l.v4)]
}

// sortCompact sorts and de-duplicates in place.
func (l *epList) sortCompact() {
	slices.Sort(l.v4)
	l.v4 = slices.Compact(l.v4)
	slices.SortFunc(l.v6, compareEP)
	l.v6 = slices.CompactFunc(l.v6, func(x, y ep) bool { return compareEP(x, y) == 0 })
}

// filter keeps, in place and in order, the endpoints keep accepts.
func (l *epList) filter(keep func(ep) bool) {
	l.v4 = slices.DeleteFunc(l.v4, func(x uint64) bool { return !keep(unpack4(x)) })
	l.v6 = slices.DeleteFunc(l.v6, func(e ep) bool { return !keep(e) })
}

func (l *epList) clip() {
	l.v4 = slices.Clip(l.v4)
	l.v6 = slices.Clip(l.v6)
}

// hasAddr tells whether a sorted list holds an endpoint of e's address.
func (l *epList) hasAddr(e ep) bool {
	if !e.v6 {
		key := e.lo << 16
		i, _ := slices.BinarySearch(l.v4, key)
		return i < len(l.v4) && l.v4[i]>>16 == e.lo
	}
	key := e
	key.port = 0
	i, _ := slices.BinarySearchFunc(l.v6, key, compareEP)
	return i < len(l.v6) && compareAddrEP(l.v6[i], key) == 0
}
