package classify

import "strings"

// nationalPhonesInText reads phone numbers written without a leading "+"
// in free text: digit groups separated by spaces, dashes, dots or
// parentheses ("618-226-1460", "(08) 8747 6301", "024 971 50 30"), a "00"
// or "001" international prefix, or a bare run of digits next to a phone
// word. A candidate must be a valid number in the default region, or —
// written with a national trunk prefix ("0…") — in one of the common
// regions, and must not be a date, a postcode+4, an IPv4 address or part
// of a value another detector claimed.
func (s *scanner) nationalPhonesInText(v string, vc *valueCtx) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '+' {
			// an international number: phonesInText reads it whole
			for i+1 < len(v) && (v[i+1] >= '0' && v[i+1] <= '9' || v[i+1] == ' ' || v[i+1] == '-' || v[i+1] == '.' || v[i+1] == '(' || v[i+1] == ')') {
				i++
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c == '(') || i > 0 && (isAlnum(v[i-1]) || v[i-1] == '+' || v[i-1] == '-' || v[i-1] == '.' || v[i-1] == '/' || v[i-1] == ':' || v[i-1] == '$' || v[i-1] == '#') {
			continue
		}
		j := i
		digits, groups, seps := 0, 0, 0
		inGroup := false
		for j < len(v) {
			c := v[j]
			if c >= '0' && c <= '9' {
				digits++
				if !inGroup {
					groups++
					inGroup = true
				}
				j++
				continue
			}
			if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') && digits < 15 {
				// one separator (or ") ") between groups
				if j+1 < len(v) && (v[j+1] >= '0' && v[j+1] <= '9' || c == ')' && v[j+1] == ' ' || c == '(' && j == i) {
					inGroup = false
					seps++
					j++
					continue
				}
			}
			break
		}
		cand := strings.TrimRight(v[i:j], " -.(")
		end := i + len(cand)
		if digits < 7 || digits > 15 || end < len(v) && (isAlnum(v[end]) && v[end] != 'x' || v[end] == '@') || strings.Count(cand, "(") != strings.Count(cand, ")") {
			i = j
			continue
		}
		grouped := groups >= 2
		ctx := s.phoneContextAt(vc, i, end)
		if !grouped && !ctx || phoneLookalike(cand, groups) || s.claimed(cand) {
			i = j
			continue
		}
		e164, ok := s.nationalPhone(cand)
		if !ok && ctx && grouped {
			// next to a phone word: a number valid in some common region
			// without its trunk prefix, or a local number ("467 3395")
			e164, ok = anyRegionPhone(cand)
		}
		if !ok {
			i = j
			continue
		}
		conf := float32(0.6)
		if grouped && groups >= 3 || strings.IndexByte(cand, '(') >= 0 {
			conf = 0.7
		}
		if ctx {
			conf += 0.2
		}
		if s.near(vc, kgCtxNeg) {
			conf -= 0.3
		}
		if conf >= minConf {
			s.add(det{c: cPhone, conf: conf, rule: "text:phone_national", raw: cand, norm: e164})
		}
		i = j
	}
}

// phoneContextAt: a phone word within the context window of v[lo:hi].
func (s *scanner) phoneContextAt(vc *valueCtx, lo, hi int) bool {
	s.ctxLo, s.ctxHi = lo-ctxWindow, hi+ctxWindow/2
	return s.near(vc, kgCtxPhone)
}

// nationalPhone validates a number written without "+": "00"/"011"
// international prefixes, the default region, then (with a trunk prefix)
// the common regions.
func (s *scanner) nationalPhone(cand string) (string, bool) {
	var buf [20]byte
	n, _, ok := phoneDigits(cand, &buf)
	if !ok {
		return "", false
	}
	d := buf[:n]
	switch {
	case n >= 11 && string(d[:3]) == "001" && cand[3] == '-':
		return phoneE164("+"+cand[3:], "")
	case n >= 10 && d[0] == '0' && d[1] == '0':
		return phoneE164("+"+string(d[2:]), "")
	}
	if s.region != "" {
		if e, ok := phoneE164(cand, s.region); ok {
			return e, true
		}
	}
	if e, ok := phoneE164(cand, s.e.region); ok && (s.e.region != "US" && s.e.region != "CA" || nanpGrouping(cand)) {
		return e, true
	}
	if d[0] != '0' {
		return "", false
	}
	for _, r := range fallbackRegions {
		if e, ok := phoneE164(cand, r); ok {
			return e, true
		}
	}
	return "", false
}

// phoneLookalike rejects digit groups that are something else: dates
// ("2024-01-31", "31.01.2024"), ZIP+4 ("12345-6789"), IPv4 addresses, SSNs
// and version strings.
func phoneLookalike(cand string, groups int) bool {
	parts := phoneParts(cand)
	if len(parts) >= 3 && len(parts[0]) == 4 && (parts[0][:2] == "19" || parts[0][:2] == "20") && len(parts[1]) <= 2 {
		return true // a date and time
	}
	if len(parts) == 3 {
		a, b, c := len(parts[0]), len(parts[1]), len(parts[2])
		if a == 4 && b <= 2 && c <= 2 || a <= 2 && b <= 2 && c == 4 || a == 3 && b == 2 && c == 4 && strings.Count(cand, "-") == 2 {
			return true
		}
	}
	if len(parts) == 2 && len(parts[0]) == 5 && len(parts[1]) == 4 {
		return true
	}
	if len(parts) == 4 && strings.Count(cand, ".") == 3 {
		return true
	}
	return false
}

// claimed reports that a detection of this value already covers cand (a
// card or IBAN written in groups).
func (s *scanner) claimed(cand string) bool {
	for _, d := range s.dets {
		if len(d.raw) >= len(cand) && strings.Contains(d.raw, cand) {
			return true
		}
	}
	return false
}

// contextRegions are tried for a grouped number next to a phone word that
// neither the default region nor a trunk prefix explains.
var contextRegions = []string{"GB", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT", "DK", "NO", "SE", "FI",
	"PL", "CZ", "HU", "PT", "IE", "AU", "NZ", "BR", "MX", "AR", "IN", "ZA"}

// anyRegionPhone reads cand as a national number of one of contextRegions,
// or as a seven-digit local number (its digits stand for it).
func anyRegionPhone(cand string) (string, bool) {
	for _, r := range contextRegions {
		if e, ok := phoneE164(cand, r); ok {
			return e, true
		}
	}
	var buf [20]byte
	if n, _, ok := phoneDigits(cand, &buf); ok && n == 7 {
		return string(buf[:n]), true
	}
	return "", false
}

// phoneParts splits a candidate into its digit groups (at most 8; the
// rest is dropped) without allocating.
func phoneParts(cand string) []string {
	var out [8]string
	n := 0
	for i := 0; i < len(cand) && n < len(out); {
		for i < len(cand) && !(cand[i] >= '0' && cand[i] <= '9') {
			i++
		}
		j := i
		for j < len(cand) && cand[j] >= '0' && cand[j] <= '9' {
			j++
		}
		if j > i {
			out[n] = cand[i:j]
			n++
		}
		i = j
	}
	return out[:n:n]
}

// nanpGrouping: a North American number is written 3-3-4 (or 1-3-3-4,
// 3-7); other groupings of ten digits are something else (a licence, an
// account).
func nanpGrouping(cand string) bool {
	p := phoneParts(cand)
	var l [8]int
	for i, x := range p {
		l[i] = len(x)
	}
	switch len(p) {
	case 1:
		return true
	case 2:
		return l[0] == 3 && l[1] == 7 || l[0] == 3 && l[1] == 4
	case 3:
		return l[0] == 3 && l[1] == 3 && l[2] == 4
	case 4:
		return l[0] == 1 && l[1] == 3 && l[2] == 3 && l[3] == 4
	}
	return false
}
