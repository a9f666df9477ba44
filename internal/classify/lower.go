// Lower-casing for the keyword pass: branch-free tables and SWAR, eight
// bytes at a time.

package classify

import (
	"encoding/binary"
	"slices"
	"unsafe"
)

// lowerTab maps a byte to its ASCII lower case; spaceTab marks ASCII
// whitespace. Tables keep the per-byte loop free of branches.
var lowerTab, spaceTab = func() (l, s [256]byte) {
	for i := range l {
		l[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			l[i] = byte(i) + 'a' - 'A'
		}
	}
	s[' '], s['\t'], s['\n'], s['\r'] = 1, 1, 1, 1
	return
}()

// scanTab: 1 for ASCII whitespace, 2 for bytes a value keyword may hold
// (see appendLowerScan).
var scanTab = func() (t [256]byte) {
	for c := range t {
		t[c] = spaceTab[c]
		if c >= 0x40 || c == '$' {
			t[c] |= 2
		}
	}
	return
}()

// SWAR constants: one bit or byte value in each byte of a word.
const (
	swarLo     = 0x0101010101010101
	swarHi     = 0x8080808080808080
	swarTop2   = 0xC0C0C0C0C0C0C0C0
	swarDollar = 0x2424242424242424
	swarSpace1 = 0x2121212121212121
	swarGeA    = 0x3f3f3f3f3f3f3f3f // 0x80-'A'
	swarGtZ    = 0x2525252525252525 // 0x80-('Z'+1)
)

// appendLowerScan appends s lower-cased (ASCII only, so offsets stay
// aligned), eight bytes at a time, and reports whether s holds ASCII
// whitespace and whether a value keyword could match in it: every keyword
// holds a byte ≥ 0x40 (a letter, '@', '_', '{', UTF-8) or a '$', so values
// of digits and punctuation (numbers, dates, IPv4 addresses, phone numbers)
// need no Aho-Corasick pass.
func appendLowerScan(dst []byte, s string) (_ []byte, space, kw bool) {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	if len(s) == 0 {
		return dst, false, false
	}
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	if len(src) < 8 {
		var f byte
		for i, c := range src {
			out[i] = lowerTab[c]
			f |= scanTab[c]
		}
		return dst, f&1 != 0, f&2 != 0
	}
	var high, dollar, ctl uint64
	word := func(i int) {
		w := binary.LittleEndian.Uint64(src[i:])
		h := w &^ swarHi
		upper := (h + swarGeA) &^ (h + swarGtZ) &^ w & swarHi
		binary.LittleEndian.PutUint64(out[i:], w|upper>>2)
		high |= w
		x := w ^ swarDollar
		dollar |= (x - swarLo) &^ x
		ctl |= (w - swarSpace1) &^ w
	}
	for i := 0; i+8 <= len(src); i += 8 {
		word(i)
	}
	if len(src)%8 != 0 {
		word(len(src) - 8) // overlaps the last word: lower-casing is idempotent
	}
	kw = high&swarTop2 != 0 || dollar&swarHi != 0
	if ctl&swarHi != 0 {
		// Some byte ≤ 0x20: look for real whitespace.
		for _, c := range src {
			if spaceTab[c] != 0 {
				return dst, true, kw
			}
		}
	}
	return dst, false, kw
}

// appendLower appends s lower-cased (ASCII only, so offsets stay aligned).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// swarHasDigit reports an ASCII digit in the first len(s)&^7 bytes of s,
// eight bytes at a time: per byte, with t its low seven bits, t+0x50 sets
// the top bit iff t ≥ '0' and t+0x46 iff t > '9' (no sum carries into the
// next byte); a digit also has its own top bit clear.
func swarHasDigit(s string) bool {
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	for i := 0; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:])
		t := w &^ swarHi
		if (t+0x5050505050505050)&^(t+0x4646464646464646)&^w&swarHi != 0 {
			return true
		}
	}
	return false
}
