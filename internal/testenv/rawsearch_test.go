package testenv

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestRawSetFindsEveryEncoding(t *testing.T) {
	v := "Jane.Roe+vip@Example.org"
	s := NewRawSet([]string{v, "short", "tok_0123456789abcdef", `Winter"2024\db`, "R&D-secret-42"})
	if s.Len() != 4 {
		t.Fatalf("Len %d, want 4 (short values are left out)", s.Len())
	}
	for enc, hay := range map[string]string{
		"raw":          "x " + v + " y",
		"lower":        `{"e":"` + strings.ToLower(v) + `"}`,
		"upper":        strings.ToUpper(v),
		"json":         `{"p":"Winter\"2024\\db"}`,
		"json-html":    `"R\u0026D-secret-42"`,
		"base64":       "data:" + base64.StdEncoding.EncodeToString([]byte(v)),
		"base64url":    base64.URLEncoding.EncodeToString([]byte(v)),
		"base64-nopad": base64.RawStdEncoding.EncodeToString([]byte(v)) + ".",
	} {
		hits := s.Find([]byte(hay), 0)
		if len(hits) == 0 {
			t.Errorf("%s: not found in %q", enc, hay)
		}
	}
	if hits := s.Find([]byte("J***@E******.org tok_0123456789abcde short"), 0); len(hits) != 0 {
		t.Errorf("false hits %+v", hits)
	}
	if hits := s.Find([]byte("a tok_0123456789abcdef"), 0); len(hits) != 1 || hits[0].Offset != 2 || hits[0].Encoding != "raw" {
		t.Errorf("hits %+v", hits)
	}
}

// BenchmarkRawSetBreach builds the set of TestScanBreachFleet (900,000
// values) and searches a megabyte.
func BenchmarkRawSetBreach(b *testing.B) {
	values := RawValues(Customers(2019, 100000))
	hay := []byte(strings.Repeat("j***@e****.com eyJh…[JWT HS256] ", 1<<15))
	for b.Loop() {
		s := NewRawSet(values)
		if hits := s.Find(hay, 0); len(hits) != 0 {
			b.Fatal(hits)
		}
	}
}
