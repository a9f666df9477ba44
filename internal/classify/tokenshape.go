package classify

import (
	"math"
	"strings"
)

// Opaque tokens by value alone: 32–256 characters of one token alphabet
// (base64, base64url, alphanumerics), upper case, lower case and digits
// all present, and close to random (Shannon entropy of the characters
// ≥ 4.5 bits, where words and identifiers stay well below). Hex digests
// and UUIDs are left out (hashes and ids far more often than secrets).
// Beside a token/key word in the value or under a parent that names
// credentials the confidence rises.

// randomToken reports a value shaped like a random secret.
func randomToken(v string) bool {
	if len(v) < 32 || len(v) > 256 || uuidShape(v) || strings.HasPrefix(v, "eyJ") {
		return false
	}
	var up, lo, dg int
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'A' && c <= 'Z':
			up++
		case c >= 'a' && c <= 'z':
			lo++
		case c >= '0' && c <= '9':
			dg++
		case c == '-' || c == '_' || c == '+' || c == '/' || c == '=' && i >= len(v)-2:
		default:
			return false
		}
	}
	if up < 3 || lo < 3 || dg < 2 {
		return false
	}
	var counts [256]uint16 // counted only for values that pass the shape
	for i := 0; i < len(v); i++ {
		counts[v[i]]++
	}
	n := float64(len(v))
	var h float64
	for _, k := range counts {
		if k > 0 {
			p := float64(k) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 4.5
}
