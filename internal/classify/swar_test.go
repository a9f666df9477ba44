package classify

import (
	"math/rand"
	"testing"
)

// hasDigitSlow is the definition hasDigit (SWAR, lower.go) must keep.
func hasDigitSlow(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

func TestHasDigitSWAR(t *testing.T) {
	for n := 0; n <= 24; n++ {
		for pos := 0; pos < n; pos++ {
			for c := 0; c < 256; c++ {
				for _, fill := range []byte{'a', 0xff, 0x2f, 0x3a, 0xb0, 0xb9, 0x80, 0x00} {
					b := make([]byte, n)
					for i := range b {
						b[i] = fill
					}
					b[pos] = byte(c)
					if hasDigit(string(b)) != hasDigitSlow(string(b)) {
						t.Fatalf("%q", b)
					}
				}
			}
		}
	}
	r := rand.New(rand.NewSource(1))
	for k := 0; k < 200000; k++ {
		b := make([]byte, r.Intn(40))
		for i := range b {
			b[i] = byte(r.Intn(256))
			if r.Intn(4) == 0 {
				b[i] = byte(0x2a + r.Intn(20))
			}
		}
		if hasDigit(string(b)) != hasDigitSlow(string(b)) {
			t.Fatalf("%q", b)
		}
	}
}
