package classify

import "strings"

// Hooks of the recall detectors (issue 12): free text, long values under
// field classes that take spaces, and values under neutral field names.

// textRecall runs the context- and list-based detectors on free text:
// national phone numbers, person names, postal addresses.
func (s *scanner) textRecall(v string, vc *valueCtx) {
	s.weakText(v, vc)
	s.addressesInText(v)
	if hasDigit(v) {
		s.nationalPhonesInText(v, vc)
	}
	if !vc.pi.thing {
		s.peopleInText(v)
	}
	if !vc.pi.any && len(v) <= 64 {
		// a short value with spaces under a neutral name: a default SSID
		// or a catalogued model, read whole
		switch {
		case routerDefaultSSID(v):
			s.add(det{c: cWifiSSID, conf: 0.7, rule: "value:ssid_default", raw: v})
		case catalogModel(v):
			s.add(det{c: cDeviceModel, conf: 0.7, rule: "value:device_model", raw: v})
		}
	}
}

// keepWhole reports that a value with spaces is read whole under its field
// class rather than as free text: the field announces a class whose values
// hold spaces, and the value is not longer than such a value gets (a long
// address under "address" keeps its class; a log line under "name" does
// not).
func keepWhole(pi *pathInfo, v string) bool {
	for c := class(0); c < numClasses; c++ {
		if pi.sig[c] <= 0 || !spaceFriendly.has(c) {
			continue
		}
		if len(v) <= 64 || c == cPostalAddress && len(v) <= 256 {
			return true
		}
	}
	return false
}

// valueOnly finds classes by the value alone when neither a value detector
// nor the field name found anything: national phone numbers written in
// groups, national ids that pass their checks, person names the lists
// know, postal addresses by their grammar, router-default Wi-Fi names and
// catalogued device models.
func (s *scanner) valueOnly(v string, vc *valueCtx, pi *pathInfo) {
	if len(v) < 2 || len(v) > 256 || pi.version {
		return
	}
	switch {
	case len(v) == 11 && v[3] == '-' && v[6] == '-':
		if ssnOK(v) && pi.sig[cPhone] == 0 && !pi.numericID {
			s.add(det{c: cNationalID, conf: 0.6, rule: "value:ssn", raw: v, label: "ssn"})
		}
		return
	case len(v) == 9 && dniOK(v):
		s.add(det{c: cNationalID, conf: 0.6, rule: "value:dni", raw: v, label: "dni"})
		return
	case (len(v) == 9 || len(v) == 13) && v[0] >= 'A' && v[0] <= 'Z' && ninoOK(v) && hasSpace(v) == (len(v) == 13):
		s.add(det{c: cNationalID, conf: 0.6, rule: "value:nino", raw: v, label: "nino"})
		return
	}
	if hasDigit(v) {
		var buf [20]byte
		if _, plus, ok := phoneDigits(v, &buf); ok && !plus {
			if !pi.numericID && !pi.timeish && (vc.space && hasSpace(v) || strings.IndexByte(v, '-') > 0 || strings.IndexByte(v, '(') >= 0 || strings.IndexByte(v, '.') > 0) && !phoneLookalike(v, 2) {
				if e164, ok := s.nationalPhone(v); ok {
					s.add(det{c: cPhone, conf: 0.6, rule: "value:phone_national", raw: v, norm: e164})
				}
			}
			return
		}
		if vc.space && hasSpace(v) { // no address without a space (vc.space: the untrimmed value has one)
			if lo, hi, ok := s.addressIn(v); ok && hi-lo >= len(v)/3 {
				s.add(det{c: cPostalAddress, conf: 0.7, rule: "value:postal_address", raw: v})
				return
			}
		}
	}
	if pi.any {
		return // a field name that announced a class its check refused
	}
	switch {
	case routerDefaultSSID(v):
		s.add(det{c: cWifiSSID, conf: 0.7, rule: "value:ssid_default", raw: v})
	case catalogModel(v):
		s.add(det{c: cDeviceModel, conf: 0.7, rule: "value:device_model", raw: v})
	case !vc.has(kgSecret) && !vc.has(kgJWT) && randomToken(v):
		// (a provider prefix or a JWT header whose validator refused the
		// value makes it no random token)
		conf := float32(0.6) + s.context(vc, kgCtxToken)
		if s.near(vc, kgCtxKey) {
			conf += 0.2
		}
		if conf >= minConf {
			s.add(det{c: cAuthToken, conf: min(conf, 0.9), rule: "value:random_token", raw: v, label: "token"})
		}
	case !pi.thing && s.personValue(v, false):
		s.add(det{c: cPersonName, conf: 0.65, rule: "value:person_name", raw: v})
	}
}

// idSchemeRejects reports a value with the shape of a national id that has
// checks (US SSN ddd-dd-dddd, UK NINO AB123456C, Spanish DNI 12345678Z)
// which the checks reject: under a national-id field it is no id.
func idSchemeRejects(v string) bool {
	switch {
	case len(v) == 11 && v[3] == '-' && v[6] == '-' && isDigits(v[:3]) && isDigits(v[4:6]) && isDigits(v[7:]):
		return !ssnOK(v)
	case len(v) == 9 && isDigits(v[:8]) && (v[8]|0x20) >= 'a' && (v[8]|0x20) <= 'z':
		return !dniOK(v)
	case len(v) == 9 && isDigits(v) && (v[:3] == "000" || v[:3] == "666" || v[0] == '9' || v[3:5] == "00" || v[5:] == "0000"):
		return true
	}
	t := strings.ReplaceAll(v, " ", "")
	if len(t) == 9 && (t[0]|0x20) >= 'a' && (t[0]|0x20) <= 'z' && (t[1]|0x20) >= 'a' && (t[1]|0x20) <= 'z' && isDigits(t[2:8]) && (t[8]|0x20) >= 'a' && (t[8]|0x20) <= 'z' {
		return !ninoOK(t)
	}
	return false
}

// maestro12 reads a 12-digit Maestro number (the shortest card length an
// issuer uses): only beside a card word or under a card field, since one in
// ten 12-digit numbers passes Luhn.
func (s *scanner) maestro12(v string, vc *valueCtx, pi *pathInfo) bool {
	if !isDigits(v) || !(s.near(vc, kgCtxCard) || pi != nil && pi.sig[cCard] > 0) {
		return false
	}
	if cardBrand([]byte(v)) != "maestro" || !luhn(v) || testCards[v] {
		return false
	}
	conf := float32(0.7)
	if s.near(vc, kgCtxNeg) {
		conf -= 0.3
	}
	if conf < minConf {
		return false
	}
	s.add(det{c: cCard, conf: conf, rule: "value:card_luhn", raw: v, label: "maestro", norm: v})
	return true
}
