package testenv

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"
)

// RawMinLen is the shortest value a RawSet searches for: shorter strings
// ("ben", "10") occur in any output by chance.
const RawMinLen = 6

// RawEncodings are the forms of each value a RawSet searches for.
var RawEncodings = []string{"raw", "lower", "upper", "json", "base64", "base64url", "base64-nopad", "base64url-nopad"}

// RawSet finds raw sensitive values, and simple encodings of them (as is,
// lower case, upper case, JSON-escaped, base64 standard and URL-safe with
// and without padding), anywhere in a byte slice. It keeps 8 bytes per
// encoded value, so it holds the values of a 100,000-record corpus.
type RawSet struct {
	lens     []int               // distinct encoded lengths, ascending
	byLen    map[int][]uint64    // sorted hash<<4|encoding per length
	prefixes map[uint32]struct{} // first 4 bytes of every encoded value
	values   int
}

// RawHit is one occurrence of a value in a haystack.
type RawHit struct {
	Encoding string
	// Text is the matched bytes (the value in that encoding).
	Text   string
	Offset int
	// Context is the surrounding bytes, for the error message.
	Context string
}

func fnv64(h uint64, b byte) uint64 { return (h ^ uint64(b)) * 1099511628211 }

const fnvOffset = 14695981039346656037

// NewRawSet indexes values (and their encodings); values shorter than
// RawMinLen are left out.
func NewRawSet(values []string) *RawSet {
	s := &RawSet{byLen: map[int][]uint64{}, prefixes: map[uint32]struct{}{}}
	var jb bytes.Buffer
	enc := json.NewEncoder(&jb)
	add := func(e int, v string) {
		if len(v) < RawMinLen {
			return
		}
		h := uint64(fnvOffset)
		for i := 0; i < len(v); i++ {
			h = fnv64(h, v[i])
		}
		s.byLen[len(v)] = append(s.byLen[len(v)], h<<4|uint64(e))
		s.prefixes[binary.LittleEndian.Uint32([]byte(v[:4]))] = struct{}{}
	}
	seen := make(map[string]struct{}, len(values))
	for _, v := range values {
		if len(v) < RawMinLen {
			continue
		}
		s.values++
		if _, dup := seen[v]; dup {
			continue
		}
		seen[v] = struct{}{}
		forms := [8]string{v, strings.ToLower(v), strings.ToUpper(v), v}
		for i, escapeHTML := range []bool{true, false} {
			if !needsJSONEscape(v) {
				break
			}
			jb.Reset()
			enc.SetEscapeHTML(escapeHTML)
			_ = enc.Encode(v)
			j := strings.TrimSuffix(jb.String(), "\n")
			j = j[1 : len(j)-1]
			if i == 0 {
				forms[3] = j
			} else if j != forms[3] && j != v {
				add(3, j)
			}
		}
		forms[4] = base64.StdEncoding.EncodeToString([]byte(v))
		forms[5] = base64.URLEncoding.EncodeToString([]byte(v))
		forms[6] = base64.RawStdEncoding.EncodeToString([]byte(v))
		forms[7] = base64.RawURLEncoding.EncodeToString([]byte(v))
		for e, f := range forms {
			if slices.Contains(forms[:e], f) {
				continue
			}
			add(e, f)
		}
	}
	for l, hs := range s.byLen {
		slices.Sort(hs)
		s.byLen[l] = slices.Compact(hs)
		s.lens = append(s.lens, l)
	}
	slices.Sort(s.lens)
	return s
}

// Len is the number of values indexed.
func (s *RawSet) Len() int { return s.values }

// Find returns every occurrence (at most max, 0: all) of an indexed
// value in b, in any of its encodings.
func (s *RawSet) Find(b []byte, max int) []RawHit {
	var hits []RawHit
	if len(s.lens) == 0 {
		return nil
	}
	maxLen := s.lens[len(s.lens)-1]
	for i := 0; i+RawMinLen <= len(b); i++ {
		if _, ok := s.prefixes[binary.LittleEndian.Uint32(b[i:])]; !ok {
			continue
		}
		h := uint64(fnvOffset)
		li := 0
		for l := 1; l <= maxLen && i+l <= len(b); l++ {
			h = fnv64(h, b[i+l-1])
			for li < len(s.lens) && s.lens[li] < l {
				li++
			}
			if li == len(s.lens) {
				break
			}
			if s.lens[li] != l {
				continue
			}
			hs := s.byLen[l]
			k, _ := slices.BinarySearch(hs, h<<4)
			if k < len(hs) && hs[k]>>4 == h&(1<<60-1) {
				lo, hi := max0(i-40), min(len(b), i+l+40)
				hits = append(hits, RawHit{Encoding: RawEncodings[hs[k]&15], Text: string(b[i : i+l]), Offset: i, Context: string(b[lo:hi])})
				if max > 0 && len(hits) >= max {
					return hits
				}
			}
		}
	}
	return hits
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// needsJSONEscape tells whether encoding/json would escape a byte of v.
func needsJSONEscape(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return true
		}
	}
	return false
}
