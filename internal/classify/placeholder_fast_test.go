package classify

import (
	"math/rand"
	"strings"
	"testing"
)

// TestPlaceholderCheckEqualsDefinition holds placeholderSecret's fast
// form to its plain definition (lower-case once, then every test) on the
// placeholder words, the whole fill-in words, masks, runs, templates and
// random strings, in both cases.
func TestPlaceholderCheckEqualsDefinition(t *testing.T) {
	plain := func(v string, seq bool) bool {
		n := len(v)
		if n == 0 {
			return true
		}
		switch c := v[0]; {
		case c == '$' && n > 1 && (credLetter(v[1]) || v[1] == '{' || v[1] == '(' || v[1] == '_'):
			return true
		case c == '<' || c == '[' && v[n-1] == ']' || c == '%' && v[n-1] == '%' && n > 2:
			return true
		case c == '!' || c == '&' || c == '*' && n > 1 && credLetter(v[1]):
			return true
		}
		for _, m := range []string{"${", "{{", "}}", "%(", "#{", "<%", "{%"} {
			if strings.Contains(v, m) {
				return true
			}
		}
		if envVarName(v) {
			return true
		}
		lo := lowerASCII(v)
		for _, w := range placeholderWords {
			if strings.Contains(lo, w) {
				return true
			}
		}
		if placeholderWhole[lo] {
			return true
		}
		var first byte
		k := 0
		for i := 0; i < len(lo); i++ {
			c := lo[i]
			if c == '-' || c == '_' || c == '.' || c == ' ' || c == ':' {
				continue
			}
			if k == 0 {
				first = c
			} else if c != first {
				return seq && sequential(lo)
			}
			k++
		}
		if k >= 3 && (k >= 6 || first == 'x' || first == '*') {
			return true
		}
		return seq && sequential(lo)
	}
	rng := rand.New(rand.NewSource(2))
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFXYZ0123456789-_.*<>${}%#()![]&:"
	var cases []string
	for w := range placeholderWhole {
		cases = append(cases, w, strings.ToUpper(w), w+"1")
	}
	for _, w := range placeholderWords {
		cases = append(cases, w, "ab"+strings.ToUpper(w)+"9")
	}
	cases = append(cases, "XXXXXXXX", "xXxXxX", "********", "0123456789abcdef", "ABCDEFGHIJKL", "DB_PASSWORD", "${X}", "%(p)s")
	for i := 0; i < 100000; i++ {
		b := make([]byte, rng.Intn(40))
		for k := range b {
			b[k] = alpha[rng.Intn(len(alpha))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		for _, seq := range []bool{true, false} {
			if got, want := placeholderCheck(c, seq), plain(c, seq); got != want {
				t.Fatalf("placeholderCheck(%q, %v) = %v, want %v", c, seq, got, want)
			}
		}
	}
}

// TestPlaceholderWordInEqualsContains holds the pair-indexed word search
// to its definition (some placeholder word is a substring) on every word
// at every position of random text and on random strings.
func TestPlaceholderWordInEqualsContains(t *testing.T) {
	slow := func(lo string) bool {
		for _, w := range placeholderWords {
			if strings.Contains(lo, w) {
				return true
			}
		}
		return false
	}
	rng := rand.New(rand.NewSource(1))
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789-_.*<>•hrxey"
	randStr := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[rng.Intn(len(alpha))]
		}
		return string(b)
	}
	var cases []string
	for _, w := range placeholderWords {
		for pre := 0; pre < 4; pre++ {
			cases = append(cases, randStr(pre)+w+randStr(3), randStr(pre)+w[:len(w)-1], w[1:]+randStr(pre))
		}
	}
	for i := 0; i < 200000; i++ {
		cases = append(cases, randStr(rng.Intn(48)))
	}
	for i, c := range cases {
		if i%2 == 1 { // mixed case: the search folds ASCII case
			b := []byte(c)
			for k := range b {
				if b[k] >= 'a' && b[k] <= 'z' && rng.Intn(2) == 0 {
					b[k] -= 'a' - 'A'
				}
			}
			c = string(b)
		}
		if got, want := placeholderWordIn(c), slow(lowerASCII(c)); got != want {
			t.Fatalf("placeholderWordIn(%q) = %v, want %v", c, got, want)
		}
	}
}

// TestFillInKeyOnUUIDsIsMaskRun: for a UUID-shaped value fillInKey is
// maskRun (the auth_token field check relies on it).
func TestFillInKeyOnUUIDsIsMaskRun(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	const hex = "0123456789abcdefABCDEF"
	for i := 0; i < 200000; i++ {
		b := []byte("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx")
		if i%5 != 0 { // every fifth stays a mask of x; the others random or runs
			alpha := hex
			if i%3 == 0 {
				alpha = hex[rng.Intn(len(hex)):][:1]
			}
			for k := range b {
				if b[k] != '-' {
					b[k] = alpha[rng.Intn(len(alpha))]
				}
			}
		}
		v := string(b)
		if uuidShape(v) && fillInKey(v) != maskRun(v) {
			t.Fatalf("%q: fillInKey %v, maskRun %v", v, fillInKey(v), maskRun(v))
		}
	}
}

// BenchmarkFillInKey: the fill-in test on random 40-byte tokens (the value
// an auth_token or api_key field check accepts most often).
func BenchmarkFillInKey(b *testing.B) {
	rng := rand.New(rand.NewSource(5))
	const alpha = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	toks := make([]string, 1024)
	for i := range toks {
		t := make([]byte, 40)
		for k := range t {
			t[k] = alpha[rng.Intn(len(alpha))]
		}
		toks[i] = string(t)
	}
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		if fillInKey(toks[i&1023]) {
			n++
		}
	}
	_ = n
}
