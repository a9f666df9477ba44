package output

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// humanCount shortens a count for a table cell: 999, 12.3k, 123k, 2.4M.
func humanCount(n int64) string { return humanize(n, false) }

// humanCountPrecise keeps three significant digits: 2.40M, 12.3k.
func humanCountPrecise(n int64) string { return humanize(n, true) }

// humanize renders any int64, math.MinInt64 included: the magnitude is
// taken as a uint64 (whose range holds |MinInt64|), so there is no
// recursion and no overflow.
func humanize(n int64, precise bool) string {
	sign := ""
	mag := uint64(n)
	if n < 0 {
		sign = "-"
		mag = -mag // two's complement: |n|, also for MinInt64
	}
	if mag < 1000 {
		return sign + strconv.FormatUint(mag, 10)
	}
	units := []string{"k", "M", "B", "T", "P", "E"}
	v := float64(mag)
	for i, u := range units {
		v /= 1000
		s := formatScaled(v, precise)
		// Past 999 (also by rounding: 999,999 → "1000k") the next unit reads better.
		if f, _ := strconv.ParseFloat(s, 64); f >= 1000 && i+1 < len(units) {
			continue
		}
		return sign + s + u
	}
	return sign + strconv.FormatUint(mag, 10)
}

func formatScaled(v float64, precise bool) string {
	prec := 0
	switch {
	case precise && v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if !precise && strings.Contains(s, ".") {
		s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// humanBytes renders a size in binary units: 512 B, 1.5 KiB, 700 MiB.
func humanBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	for i, u := range units {
		v /= 1024
		if v < 1024 || i == len(units)-1 {
			prec := 0
			if v < 10 {
				prec = 1
			}
			return strconv.FormatFloat(v, 'f', prec, 64) + " " + u
		}
	}
	return strconv.FormatInt(n, 10) + " B"
}

// groupDigits renders 2400000 as 2,400,000.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// clean makes text from a scanned server safe for a terminal: control
// characters (ESC, CR, newlines, C1, bidi overrides, ...) are shown as
// escapes instead of being interpreted, and the result is cut to max runes
// (0: no limit) with an ellipsis.
func clean(s string, max int) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case r == ' ' || (unicode.IsPrint(r) && !unicode.Is(unicode.Bidi_Control, r)):
			b.WriteRune(r)
		case r < 0x80:
			b.WriteString(`\x` + strconv.FormatInt(int64(r)|0x100, 16)[1:])
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	out := b.String()
	if max > 0 && utf8.RuneCountInString(out) > max {
		rs := []rune(out)
		out = string(rs[:max-1]) + "…"
	}
	return out
}

// sortFindings returns a copy ordered for people: worst severity first,
// then by address (numerically when both are IPs), port, path and service.
func sortFindings(fs []finding.Finding) []finding.Finding {
	out := slices.Clone(fs)
	slices.SortStableFunc(out, func(a, b finding.Finding) int {
		if c := cmp.Compare(b.Severity.Rank(), a.Severity.Rank()); c != 0 {
			return c
		}
		if c := compareHosts(a.Target.Host, b.Target.Host); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Target.Port, b.Target.Port); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Target.Path, b.Target.Path); c != 0 {
			return c // file targets (no host, no port) by path
		}
		return cmp.Compare(a.Service, b.Service)
	})
	return out
}

func compareHosts(a, b string) int {
	pa, errA := netip.ParseAddr(a)
	pb, errB := netip.ParseAddr(b)
	switch {
	case errA == nil && errB == nil:
		return pa.Compare(pb)
	case errA == nil:
		return -1
	case errB == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// classTotal is one data class summed over a finding's datasets.
type classTotal struct {
	Class   string
	Records int64 // estimated records, or matched samples when unknown
	Matched int
	Sampled int
	Known   bool // Records is an estimate over the datasets' sizes
}

// classTotals ranks a finding's classes, most records first.
func classTotals(f finding.Finding) []classTotal {
	idx := map[string]int{}
	var out []classTotal
	for _, d := range f.Datasets {
		for _, c := range d.Classes {
			i, ok := idx[c.Class]
			if !ok {
				i = len(out)
				idx[c.Class] = i
				out = append(out, classTotal{Class: c.Class})
			}
			t := &out[i]
			t.Matched += c.Matched
			t.Sampled += c.Sampled
			if c.EstimatedRecords != nil {
				t.Records = finding.SatAdd(t.Records, *c.EstimatedRecords)
				t.Known = true
			} else {
				t.Records = finding.SatAdd(t.Records, int64(c.Matched))
			}
		}
	}
	// Classes named at finding level but absent from the datasets (e.g. a
	// finding built by hand) still count.
	for _, c := range f.Classes {
		if _, ok := idx[c]; !ok {
			idx[c] = len(out)
			out = append(out, classTotal{Class: c})
		}
	}
	slices.SortStableFunc(out, func(a, b classTotal) int {
		if c := cmp.Compare(b.Records, a.Records); c != 0 {
			return c
		}
		return cmp.Compare(a.Class, b.Class)
	})
	return out
}

// recordTotals sums the visible datasets' records (saturating at
// finding.MaxCount); unknown tells whether some visible dataset has no
// count.
func recordTotals(f finding.Finding) (total int64, unknown bool) {
	for _, d := range f.Datasets {
		if d.Hidden {
			continue
		}
		if d.Records == nil {
			unknown = true
			continue
		}
		total = finding.SatAdd(total, *d.Records)
	}
	return total, unknown
}

// productVersion is "opensearch 2.19.6", "redis 7.2.4", or what is known.
func productVersion(f finding.Finding) string {
	return strings.TrimSpace(f.Product + " " + f.Version)
}

// severityTitle is the capitalised severity.
func severityTitle(s finding.Severity) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}
