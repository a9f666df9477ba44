package classify

import (
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestAppendLowerScan compares the word-at-a-time scan with a byte loop.
func TestAppendLowerScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("aZ@$_ \t\n\r\x00\x1f!09:.-{}AMNzÿ\x80\xc3\xa9+/")
	for n := 0; n < 3000; n++ {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			if rng.IntN(4) == 0 {
				b[i] = byte(rng.IntN(256))
			} else {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		s := string(b)
		got, sp, kw := appendLowerScan([]byte("x"), s)
		want := "x" + string(appendLower(nil, s))
		wantKW := false
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x40 || s[i] == '$' {
				wantKW = true
			}
		}
		if string(got) != want || sp != hasSpace(s) || kw != wantKW {
			t.Fatalf("%q: got %q %v %v, want %q %v %v", s, got, sp, kw, want, hasSpace(s), wantKW)
		}
	}
}

// TestValueKeywordsScannable: appendLowerScan may skip values without a
// byte ≥ 0x40 or '$' only if every keyword holds one.
func TestValueKeywordsScannable(t *testing.T) {
	for _, kw := range valueKeywords {
		if !strings.ContainsFunc(kw.word, func(r rune) bool { return r >= 0x40 || r == '$' }) {
			t.Errorf("keyword %q has no byte ≥ 0x40 or '$'", kw.word)
		}
	}
}

func BenchmarkAppendLowerScan(b *testing.B) {
	vals := []string{"jane.doe@example.com", "12", "2019-12-01T10:22:33Z", "Living Room Cam", "a4:5e:60:e8:12:9f", "true", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "+4915112345678"}
	size := 0
	for _, v := range vals {
		size += len(v)
	}
	b.SetBytes(int64(size))
	var buf []byte
	for i := 0; i < b.N; i++ {
		buf = buf[:0]
		for _, v := range vals {
			buf, _, _ = appendLowerScan(buf, v)
		}
	}
}

// TestFromJSONBytesShared: records carved from shared blocks stay intact
// while other goroutines flatten documents, and appending to one record's
// Values does not reach the next record's.
func TestFromJSONBytesShared(t *testing.T) {
	docs := []string{
		`{"user":{"email":"a@example.org","name":"Ann"},"tags":["x","y"]}`,
		`{"mac":"a4:5e:60:e8:12:9f","n":12,"esc":"tab\there \u00e9"}`,
		`{"text":"` + strings.Repeat("long ", 3000) + `"}`,
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var recs []Record
			for i := 0; i < 600; i++ {
				buf := []byte(docs[i%len(docs)])
				r, err := FromJSONBytes(buf)
				if err != nil {
					t.Error(err)
					return
				}
				clear(buf) // the record must not alias the input
				r.Values = append(r.Values, Value{Path: "extra", Text: "appended"})
				recs = append(recs, r)
			}
			for i, r := range recs {
				want, _ := FromJSONBytes([]byte(docs[i%len(docs)]))
				want.Values = append(want.Values, Value{Path: "extra", Text: "appended"})
				if !slices.Equal(r.Values, want.Values) {
					t.Errorf("record %d changed: %q", i, r.Values)
					return
				}
			}
		}()
	}
	wg.Wait()
}
