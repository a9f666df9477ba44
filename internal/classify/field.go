package classify

import (
	"strings"
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
		if pi.sig[cDeviceID] >= minConf {
			d := s.dets[start]
			if d.c == cMAC || d.c == cIP {
				s.add(det{c: cDeviceID, conf: pi.sig[cDeviceID], rule: pi.rule[cDeviceID], raw: v})
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

// fieldCheck confirms a field-announced class on the value.
func (s *scanner) fieldCheck(c class, sig float32, v string, vc *valueCtx, pi *pathInfo) (det, bool) {
	d := det{c: c, conf: sig, rule: pi.rule[c], raw: v}
	switch c {
	case cEmail, cCard, cNationalID:
		switch c {
		case cNationalID:
			switch {
			case ninoOK(v):
				d.label, d.rule = "nino", "value:nino"
			case dniOK(v):
				d.label, d.rule = "dni", "value:dni"
			case len(v) == 9 && isDigits(v) && v != "000000000":
				d.label = "ssn"
			case sig >= 0.8 && len(v) >= 6 && len(v) <= 20 && hasDigit(v) && idAlphabet(v):
				d.conf = sig - 0.1
			default:
				return d, false
			}
			return d, true
		case cCard:
			// Card-shaped values were tried by the strong pass.
			return d, false
		}
		return d, false // emails only by value
	case cMAC, cIP, cBank:
		if c == cBank && sig >= 0.7 && len(v) >= 6 && len(v) <= 18 && isDigits(v) {
			d.conf = sig - 0.05
			d.label = "account"
			return d, true
		}
		return d, false // confirmed only by the value detectors
	case cPhone:
		if e164, ok := s.phoneIn(v, pi, true); ok {
			d.norm = e164
			return d, true
		}
	case cDOB:
		if _, ok := parseDate(v, s.now); ok {
			return d, true
		}
	case cGeo:
		if latLonPair(v) {
			return d, true
		}
		if pi.lat || pi.lon || pi.sig[cGeo] >= 0.8 {
			if strings.IndexByte(v, '.') > 0 {
				if _, ok := coord(v, 180); ok {
					return d, true
				}
			}
		}
		if len(v) >= 5 && len(v) <= 12 && pi.rule[c] == "field:geohash" {
			return d, true
		}
	case cPasswordHash:
		if k := hexHashKind(v); k != "" {
			d.label, d.rule = k, hashRules[k]
			return d, true
		}
		if len(v) >= 20 && allIn(v, b64Byte) {
			d.label, d.conf = "hash", sig-0.1
			return d, true
		}
	case cPassword:
		if len(v) < 3 || len(v) > 128 {
			return d, false
		}
		if k := hexHashKind(v); k != "" {
			d.c, d.label, d.rule = cPasswordHash, k, "value:hex_"+k
			return d, true
		}
		if _, ok := parseDate(v, s.now); ok {
			return d, false
		}
		if isDigits(v) && len(v) > 10 { // a timestamp or counter
			return d, false
		}
		return d, true
	case cAuthToken:
		t := v
		if strings.HasPrefix(t, "Bearer ") || strings.HasPrefix(t, "bearer ") {
			t = t[7:]
		}
		if uuidShape(t) {
			d.rule = pi.rule[c] + "+uuid"
			d.label = "token"
			return d, true
		}
		if opaqueToken(t) && !hexDateLike(t) {
			d.label = "token"
			if pi.sig[cAPIKey] > pi.sig[cAuthToken] {
				return d, false
			}
			return d, true
		}
	case cAPIKey:
		if strings.HasPrefix(v, "-----BEGIN") {
			d.label = "private key"
			return d, true
		}
		if azureKeyShape(v) {
			d.label, d.rule = "azure storage key", "value:azure_storage_key"
			return d, true
		}
		if opaqueToken(v) {
			d.label = "key"
			return d, true
		}
	case cUsername:
		if len(v) < 2 || len(v) > 64 || isDigits(v) || !hasLetter(v) || hasSpace(v) || strings.IndexByte(v, '@') >= 0 && emailOK(v) {
			return d, false
		}
		if uuidShape(v) {
			return d, false
		}
		if _, ok := parseDate(v, s.now); ok {
			return d, false
		}
		return d, true
	case cPersonName:
		if !nameShape(v) {
			return d, false
		}
		if sig < 0.6 {
			// Bare "name": only when the value reads like a person.
			if !knownFirstName(v) {
				return d, false
			}
			d.conf = 0.7
		}
		return d, true
	case cWifiSSID:
		if len(v) > 32 || isDigits(v) && len(v) < 4 {
			return d, false
		}
		return d, true
	case cDeviceID:
		if len(v) < 4 || len(v) > 128 || hasSpace(v) || !hasDigit(v) && !uuidShape(v) && len(v) < 8 {
			return d, false
		}
		if _, ok := parseDate(v, s.now); ok {
			return d, false
		}
		return d, true
	case cDeviceModel:
		if len(v) < 2 || len(v) > 64 || !hasLetter(v) || strings.IndexByte(v, '@') >= 0 {
			return d, false
		}
		return d, true
	case cPostalAddress:
		if len(v) < 3 || len(v) > 256 {
			return d, false
		}
		if !hasLetter(v) {
			// postcodes
			return d, len(v) <= 10 && hasDigit(v)
		}
		return d, true
	}
	return d, false
}

func hasDigit(s string) bool {
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
