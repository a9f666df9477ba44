package classify

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

// TestIBANsInTextSkipsOnlyNonCandidates: ibansInText, which jumps from
// space to space, finds exactly what the position-by-position scan
// (ibansInTextPlain, the definition) finds, on valid IBANs written in
// groups inside random text and on random text.
func TestIBANsInTextSkipsOnlyNonCandidates(t *testing.T) {
	e := testEngine(t)
	rng := rand.New(rand.NewSource(3))
	ibans := []string{"DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19", "FR14 2004 1010 0505 0001 3M02 606", "NL91 ABNA 0417 1643 00"}
	const alpha = "AB DE GB 0123456789 xyz.,-"
	found := 0
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for k := rng.Intn(6); k > 0; k-- {
			switch rng.Intn(3) {
			case 0:
				b.WriteString(ibans[rng.Intn(len(ibans))])
			default:
				for n := rng.Intn(12); n > 0; n-- {
					b.WriteByte(alpha[rng.Intn(len(alpha))])
				}
			}
			if rng.Intn(2) == 0 {
				b.WriteByte(' ')
			}
		}
		v := b.String()
		fast, plain := scanner{e: e}, scanner{e: e}
		fast.ibansInText(v)
		plain.ibansInTextPlain(v)
		if !reflect.DeepEqual(fast.dets, plain.dets) {
			t.Fatalf("%q: %v, want %v", v, fast.dets, plain.dets)
		}
		found += len(plain.dets)
	}
	if found < 1000 {
		t.Fatalf("only %d IBANs found: the test text does not exercise the reader", found)
	}
}

func (s *scanner) ibansInTextPlain(v string) {
	for i := 0; i+4 < len(v); i++ {
		if !(v[i] >= 'A' && v[i] <= 'Z' && v[i+1] >= 'A' && v[i+1] <= 'Z' && v[i+2] >= '0' && v[i+2] <= '9' && v[i+3] >= '0' && v[i+3] <= '9') || i > 0 && isAlnum(v[i-1]) || v[i+4] != ' ' {
			continue
		}
		j := i + 4
		best := 0
		for j+1 < len(v) && v[j] == ' ' && isAlnum(v[j+1]) && j-i < 42 {
			k := j + 1
			for k < len(v) && isAlnum(v[k]) && k-j <= 4 {
				k++
			}
			if k-j-1 > 4 || k < len(v) && isAlnum(v[k]) {
				break
			}
			j = k
			if ibanOK(v[i:j]) {
				best = j
			}
		}
		if best > 0 {
			cand := v[i:best]
			norm := strings.ReplaceAll(cand, " ", "")
			s.add(det{c: cBank, conf: 0.9, rule: "text:iban", raw: cand, label: "iban", norm: norm})
			i = best
		}
	}
}
