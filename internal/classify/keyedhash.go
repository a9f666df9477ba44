// Keyed hashes: the HMAC-SHA256 digests findings carry instead of values.

package classify

import (
	"encoding/hex"
	"unsafe"
)

// KeyedHash is the keyed digest findings carry for a value:
// HMAC-SHA256(key, "v1:"+value), hex, truncated to 128 bits. The same value
// gives the same digest across stores and scans of one installation, and
// nothing to anyone without the key.
func (e *RuleClassifier) KeyedHash(normalized string) string {
	var buf [32]byte
	sum := e.mac(buf[:0], "v1:", normalized)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// hashes returns the keyed hashes of norms; the hex digests share one
// allocation.
func (e *RuleClassifier) hashes(norms []string) []string {
	out := make([]string, len(norms))
	if len(norms) == 0 {
		return out
	}
	hexed := make([]byte, 32*len(norms))
	var buf [32]byte
	for i, n := range norms {
		sum := e.mac(buf[:0], "v1:", n)
		hex.Encode(hexed[32*i:], sum[:16])
	}
	all := unsafe.String(&hexed[0], len(hexed))
	for i := range norms {
		out[i] = all[32*i : 32*i+32]
	}
	return out
}
