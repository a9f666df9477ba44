package finding

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxCount is the largest count, size or estimate a finding carries:
// 2^53 − 1, the largest integer every JSON reader represents exactly
// (IEEE-754 doubles; JavaScript's Number.MAX_SAFE_INTEGER). It is also far
// past any real dataset (9 × 10^15 records or 8 PiB), so a larger number
// from a server is a lie or a bug, not a measurement.
const MaxCount int64 = 1<<53 - 1

// Flags Sanitize sets. A flag is set both on the dataset that carried the
// bad number and on the finding, so a reader of either level sees it.
const (
	// FlagCountInvalid: a count or size the server reported (records,
	// bytes, sampled) was negative or above MaxCount; it is written as null
	// (sampled: 0) and the estimates derived from it are dropped.
	FlagCountInvalid = "count-invalid"
	// FlagEvidenceInvalid (finding): an evidence number was not finite or
	// above MaxCount in magnitude, or an evidence value had no JSON form;
	// it is written as null.
	FlagEvidenceInvalid = "evidence-invalid"
)

// ValidCount tells whether n is a count a finding may carry: 0 ≤ n ≤ MaxCount.
func ValidCount(n int64) bool { return n >= 0 && n <= MaxCount }

// SatAdd adds two counts, saturating at MaxCount (and at 0 below), so sums
// over many datasets never wrap.
func SatAdd(a, b int64) int64 {
	a, b = clampCount(a), clampCount(b)
	if a > MaxCount-b {
		return MaxCount
	}
	return a + b
}

func clampCount(n int64) int64 {
	switch {
	case n < 0:
		return 0
	case n > MaxCount:
		return MaxCount
	}
	return n
}

// Sanitize validates and bounds every number in f (see
// docs of MaxCount and the Flag constants). Finalize calls it; it is
// idempotent and never panics on any value of f.
//
//   - datasets: records and bytes outside [0, MaxCount] → nil + flag
//     count-invalid; sampled < 0 → 0 + flag.
//   - classes: sampled/matched clamped to 0 ≤ matched ≤ sampled;
//     confidence clamped to [0, 1] (NaN → 0); estimates dropped when the
//     dataset has no valid record count, else clamped so that
//     0 ≤ low ≤ estimated ≤ high ≤ records; distinct subjects to
//     [0, MaxCount].
//   - evidence: rebuilt into plain JSON values (objects, arrays, strings,
//     booleans, numbers); non-finite numbers, integers above MaxCount in
//     magnitude and values with no JSON form → null + flag
//     evidence-invalid. Negative evidence numbers are kept: evidence is
//     typed free-form and some facts are signed (error codes, offsets).
func (f *Finding) Sanitize() {
	invalid := false
	for i := range f.Datasets {
		if sanitizeDataset(&f.Datasets[i]) {
			invalid = true
		}
	}
	if invalid {
		f.Flags = addFlag(f.Flags, FlagCountInvalid)
	}
	if f.Evidence != nil {
		bad := false
		ev, _ := PlainValue(f.Evidence, &bad).(map[string]any)
		f.Evidence = ev
		if bad {
			f.Flags = addFlag(f.Flags, FlagEvidenceInvalid)
		}
	}
}

// sanitizeDataset bounds one dataset's numbers and reports whether a
// server-reported one was invalid.
func sanitizeDataset(d *Dataset) bool {
	invalid := false
	if d.Records != nil && !ValidCount(*d.Records) {
		d.Records, invalid = nil, true
	}
	if d.Bytes != nil && !ValidCount(*d.Bytes) {
		d.Bytes, invalid = nil, true
	}
	if d.Sampled < 0 {
		d.Sampled, invalid = 0, true
	}
	if invalid {
		d.Flags = addFlag(d.Flags, FlagCountInvalid)
	}
	for j := range d.Classes {
		sanitizeClass(&d.Classes[j], d.Records)
	}
	return invalid
}

func sanitizeClass(c *ClassCount, records *int64) {
	c.Sampled = max(c.Sampled, 0)
	c.Matched = min(max(c.Matched, 0), c.Sampled)
	switch {
	case math.IsNaN(c.Confidence) || c.Confidence < 0:
		c.Confidence = 0
	case c.Confidence > 1:
		c.Confidence = 1
	}
	if c.DistinctSubjects != nil {
		c.DistinctSubjects = Int64(clampCount(*c.DistinctSubjects))
	}
	if records == nil || c.EstimatedRecords == nil {
		c.EstimatedRecords, c.EstimateLow, c.EstimateHigh = nil, nil, nil
		if records == nil {
			// Derived from a count that is not there (or was invalid).
			c.DistinctSubjects = nil
		}
		return
	}
	n := *records
	est := min(clampCount(*c.EstimatedRecords), n)
	c.EstimatedRecords = Int64(est)
	if c.EstimateLow != nil {
		c.EstimateLow = Int64(min(clampCount(*c.EstimateLow), est))
	}
	if c.EstimateHigh != nil {
		c.EstimateHigh = Int64(min(max(*c.EstimateHigh, est), n))
	}
}

func addFlag(flags []string, flag string) []string {
	for _, f := range flags {
		if f == flag {
			return flags
		}
	}
	// Clip: never append into an array another copy of the finding shares.
	return append(slices.Clip(flags), flag)
}

// maxEvidenceDepth bounds the nesting PlainValue follows (and so pointer
// cycles).
const maxEvidenceDepth = 32

// PlainValue returns v as plain JSON data — map[string]any, []any,
// string, bool, int64, float64 or nil — whatever typed maps, slices,
// pointers or structs a prober put in it. Numbers that JSON cannot carry
// faithfully (NaN, ±Inf, integers beyond ±MaxCount) and values with no
// JSON form (functions, channels, complex numbers, cycles deeper than 32)
// become nil and set *bad. Strings are returned as they are.
func PlainValue(v any, bad *bool) any {
	return plain(reflect.ValueOf(v), bad, 0)
}

func plain(v reflect.Value, bad *bool, depth int) any {
	if !v.IsValid() {
		return nil
	}
	if depth > maxEvidenceDepth {
		*bad = true
		return nil
	}
	// Values that know their JSON form (json.Number, time.Time, ...).
	if v.CanInterface() {
		switch x := v.Interface().(type) {
		case json.Number:
			return plainNumber(string(x), bad)
		case json.Marshaler:
			if v.Kind() == reflect.Pointer && v.IsNil() {
				return nil
			}
			b, err := safeMarshal(x)
			if err != nil {
				*bad = true
				return nil
			}
			var out any
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.UseNumber()
			if dec.Decode(&out) != nil {
				*bad = true
				return nil
			}
			return plain(reflect.ValueOf(out), bad, depth+1)
		}
	}
	switch v.Kind() {
	case reflect.Bool:
		return v.Bool()
	case reflect.String:
		return v.String()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n := v.Int()
		if n > MaxCount || n < -MaxCount {
			*bad = true
			return nil
		}
		return n
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n := v.Uint()
		if n > uint64(MaxCount) {
			*bad = true
			return nil
		}
		return int64(n)
	case reflect.Float32, reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > float64(MaxCount) {
			*bad = true
			return nil
		}
		return x
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return nil
		}
		return plain(v.Elem(), bad, depth+1)
	case reflect.Map:
		if v.IsNil() {
			return map[string]any{}
		}
		out := make(map[string]any, v.Len())
		it := v.MapRange()
		for it.Next() {
			k, ok := mapKey(it.Key())
			if !ok {
				*bad = true
				continue
			}
			out[k] = plain(it.Value(), bad, depth+1)
		}
		return out
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			// []byte: JSON writes it as base64 text; keep that form.
			b, _ := json.Marshal(v.Bytes())
			s, _ := strconv.Unquote(string(b))
			return s
		}
		fallthrough
	case reflect.Array:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = plain(v.Index(i), bad, depth+1)
		}
		return out
	case reflect.Struct:
		t := v.Type()
		out := map[string]any{}
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name := sf.Name
			if tag, ok := sf.Tag.Lookup("json"); ok {
				n, _, _ := strings.Cut(tag, ",")
				if n == "-" {
					continue
				}
				if n != "" {
					name = n
				}
			}
			out[name] = plain(v.Field(i), bad, depth+1)
		}
		return out
	}
	*bad = true // func, chan, complex, unsafe pointer
	return nil
}

func safeMarshal(m json.Marshaler) (b []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, errMarshalPanic
		}
	}()
	return json.Marshal(m)
}

var errMarshalPanic = jsonError("finding: evidence marshaler panicked")

type jsonError string

func (e jsonError) Error() string { return string(e) }

func plainNumber(s string, bad *bool) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > MaxCount || n < -MaxCount {
			*bad = true
			return nil
		}
		return n
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) || math.Abs(x) > float64(MaxCount) {
		*bad = true
		return nil
	}
	return x
}

func mapKey(k reflect.Value) (string, bool) {
	switch k.Kind() {
	case reflect.String:
		return k.String(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), true
	case reflect.Interface:
		if !k.IsNil() {
			return mapKey(k.Elem())
		}
	}
	return "", false
}

// Unsafe tells whether r must not reach a terminal, a log or a JSON
// document raw: C0 and C1 controls, DEL, format characters (bidi
// overrides and isolates such as U+202E, zero-width characters, the BOM,
// tag characters), line and paragraph separators, and U+FFFD standing for
// invalid UTF-8. Tab, newline and the other C0 controls count too.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
		return true
	case r < 0x80:
		return false
	case r == utf8.RuneError, r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Bidi_Control, r)
}

// VisibleText returns s with every unsafe rune (see Unsafe) written as a
// visible escape: \x1b for ASCII controls, \u202e or \U000e0041 for the
// others, \ufffd for invalid UTF-8 bytes. Text without such runes is
// returned unchanged (no allocation).
func VisibleText(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if Unsafe(r) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !Unsafe(r) {
			b.WriteRune(r)
			continue
		}
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r < 0x80:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}
