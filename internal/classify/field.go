package classify

import (
	"unicode"
	"unicode/utf8"
)

// field adds the classes that the field name announces and the value
// confirms. strong says a value detector already claimed the value: then
// only compatible field classes are added (a MAC under "device_id" is both a
// mac_address and a device_id; an email under "username" is an email).
func (s *scanner) field(v string, vc *valueCtx, pi *pathInfo, strong bool, start int) {
	if !pi.any {
		return
	}
	if strong {
		claimed := s.dets[start].c
		for _, c := range alongsideClasses {
			if pi.sig[c] >= minConf && classTable[c].alongside.has(claimed) {
				s.add(det{c: c, conf: pi.sig[c], rule: pi.rule[c], raw: v})
			}
		}
		return
	}
	for c := class(0); c < numClasses; c++ {
		sig := pi.sig[c]
		if sig <= 0 {
			continue
		}
		if d, ok := s.fieldCheck(c, sig, v, vc, pi); ok && d.conf >= minConf {
			s.add(d)
		}
	}
}

// fieldCheck confirms a field-announced class on the value (the class's
// classDef.fieldCheck).
func (s *scanner) fieldCheck(c class, sig float32, v string, vc *valueCtx, pi *pathInfo) (det, bool) {
	d := det{c: c, conf: sig, rule: pi.rule[c], raw: v}
	check := classTable[c].fieldCheck
	if check == nil {
		return d, false
	}
	return check(s, d, sig, v, pi)
}

func hasDigit(s string) bool {
	if len(s) >= 8 {
		if swarHasDigit(s) {
			return true
		}
		s = s[len(s)&^7:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

func idAlphabet(s string) bool {
	return allIn(s, func(c byte) bool { return isAlnum(c) || c == '-' || c == ' ' || c == '.' || c == '/' })
}

// hexDateLike rejects timestamps and plain numbers that pass as tokens.
func hexDateLike(s string) bool {
	return isDigits(s) && len(s) <= 19
}

// nameShape: 1–5 words of letters (any script), with ' - . allowed, 2–80
// bytes, no digits.
func nameShape(v string) bool {
	if len(v) < 2 || len(v) > 80 {
		return false
	}
	if ascii, ok := asciiNameShape(v); ascii {
		return ok
	}
	if !utf8.ValidString(v) {
		return false
	}
	words := 0
	inWord := false
	for _, r := range v {
		switch {
		case unicode.IsLetter(r) || unicode.IsMark(r):
			if !inWord {
				words++
				inWord = true
			}
		case r == ' ':
			inWord = false
		case r == '\'' || r == '-' || r == '.' || r == ',' || r == '’':
		default:
			return false
		}
	}
	return words >= 1 && words <= 5
}

// asciiNameShape is nameShape for ASCII values; ascii is false when v has
// other bytes and the Unicode path must decide.
func asciiNameShape(v string) (ascii, ok bool) {
	words := 0
	inWord := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 0x80:
			return false, false
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			if !inWord {
				words++
				inWord = true
			}
		case c == ' ':
			inWord = false
		case c == '\'' || c == '-' || c == '.' || c == ',':
		default:
			// keep scanning for non-ASCII only if nothing else decides
			for j := i; j < len(v); j++ {
				if v[j] >= 0x80 {
					return false, false
				}
			}
			return true, false
		}
	}
	return true, words >= 1 && words <= 5
}
