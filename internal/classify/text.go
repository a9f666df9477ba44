package classify

import "strings"

// detectText finds classes in free text (log lines, comments, Redis
// strings): each word goes through the value detectors, card numbers
// written in groups are read across spaces, and "password=…"/"token: …"
// pairs are read as a field and its value.
func (s *scanner) detectText(v string, vc *valueCtx) {
	start := len(s.dets)
	s.inText = true
	defer func() { s.inText = false }()
	i := 0
	for i < len(v) {
		for i < len(v) && isTextSep(v[i]) {
			i++
		}
		j := i
		for j < len(v) && !isTextSep(v[j]) {
			j++
		}
		if j > i {
			w := trimWord(v[i:j])
			s.ctxLo, s.ctxHi = i-ctxWindow, j+ctxWindow/2
			if len(w) >= 6 {
				s.strongWord(w, vc)
			}
		}
		i = j
	}
	if strings.IndexByte(v, '+') >= 0 {
		s.phonesInText(v, vc)
	}
	dig := hasDigit(v) // IBANs and card runs hold digits
	if dig {
		s.ibansInText(v)
	}
	if vc.has(kgCtxCard) || dig && hasCardRun(v) {
		s.cardsInText(v, vc)
	}
	s.pairsInText(v, vc)
	s.textRecall(v, vc)
	_ = start
}

func isTextSep(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ',', ';', '<', '>', '(', ')', '[', ']', '{', '}', '"', '\'', '|', '`':
		return true
	}
	return false
}

func trimWord(w string) string {
	for len(w) > 0 {
		c := w[len(w)-1]
		if c == '.' || c == ':' || c == '!' || c == '?' || c == '=' && !strings.HasPrefix(w, "eyJ") && !strings.Contains(w[:len(w)-1], "==") {
			w = w[:len(w)-1]
			continue
		}
		break
	}
	if strings.HasPrefix(w, "mailto:") {
		w = w[7:]
	}
	return w
}

// strongWord runs the value detectors on one word of free text.
func (s *scanner) strongWord(w string, vc *valueCtx) {
	// key=value inside a word: look at the value part too.
	if eq := strings.IndexByte(w, '='); eq > 0 && eq < len(w)-1 && !strings.HasPrefix(w, "eyJ") && !strings.Contains(w, "AccountKey=") {
		w = w[eq+1:]
	}
	if c := strings.IndexByte(w, ':'); c > 0 && c < len(w)-1 && strings.IndexByte(w[c+1:], '@') > 0 && !strings.Contains(w[:c], "@") {
		w = w[c+1:] // "from:jane@x.com"
	}
	s.strong(w, vc, nil, false)
}

// hasCardRun is a cheap test for 13+ digits in groups.
func hasCardRun(v string) bool {
	run := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			run++
			if run >= 13 {
				return true
			}
		case (c == ' ' || c == '-') && run > 0:
		default:
			run = 0
		}
	}
	return false
}

// cardsInText reads digit groups separated by single spaces or dashes.
func (s *scanner) cardsInText(v string, vc *valueCtx) {
	i := 0
	for i < len(v) {
		if v[i] < '0' || v[i] > '9' || i > 0 && isAlnum(v[i-1]) {
			i++
			continue
		}
		j := i
		digits := 0
		for j < len(v) {
			c := v[j]
			if c >= '0' && c <= '9' {
				digits++
				j++
				continue
			}
			if (c == ' ' || c == '-') && j+1 < len(v) && v[j+1] >= '0' && v[j+1] <= '9' && digits < 19 {
				j++
				continue
			}
			break
		}
		if digits >= 13 && digits <= 19 && (j == len(v) || !isAlnum(v[j])) {
			cand := v[i:j]
			s.ctxLo, s.ctxHi = i-ctxWindow, j+ctxWindow/2
			if (strings.IndexByte(cand, ' ') >= 0 || strings.IndexByte(cand, '-') >= 0) && !s.claimed(cand) {
				s.card(cand, vc, nil, false)
			}
		}
		i = j + 1
	}
}

// pairsInText reads credentials in free text: "password: x", "pwd=x",
// "token=…", URL userinfo, Authorization headers (credtext.go).
func (s *scanner) pairsInText(v string, vc *valueCtx) {
	s.credentialsIn(v, vc, true)
}

// tokenPairOK accepts an opaque token as the value of a token or key pair;
// JWTs are found by the word pass, UUIDs are no secret.
func tokenPairOK(val string) bool {
	if _, ok := jwtAlg(val); ok {
		return false
	}
	return opaqueToken(val) && !uuidShape(val)
}

// phonesInText reads "+CC …" numbers written with spaces, dashes, dots or
// parentheses inside free text.
func (s *scanner) phonesInText(v string, vc *valueCtx) {
	for i := 0; i < len(v); i++ {
		if v[i] != '+' || i+1 >= len(v) || v[i+1] < '1' || v[i+1] > '9' || i > 0 && isAlnum(v[i-1]) {
			continue
		}
		j := i + 1
		digits := 0
		for j < len(v) {
			c := v[j]
			if c >= '0' && c <= '9' {
				digits++
			} else if !(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') || digits >= 15 {
				break
			}
			j++
		}
		cand := strings.TrimRight(v[i:j], " -.(")
		if digits < 8 || strings.IndexByte(cand, ' ') < 0 && strings.IndexByte(cand, '-') < 0 && strings.IndexByte(cand, '(') < 0 {
			// Ungrouped numbers are found by the word pass.
			i = j
			continue
		}
		s.ctxLo, s.ctxHi = i-ctxWindow, j+ctxWindow/2
		conf := float32(0.7) + s.context(vc, kgCtxPhone)
		if conf >= minConf {
			if e164, ok := s.phoneIn(cand, vc.pi, false); ok {
				s.add(det{c: cPhone, conf: conf, rule: "text:phone", raw: cand, norm: e164})
			}
		}
		i = j
	}
}

// ibansInText reads IBANs written in groups of four ("DE89 3704 0044 …").
func (s *scanner) ibansInText(v string) {
	for i := 0; i+4 < len(v); i++ {
		if v[i+4] != ' ' {
			// the first group ends in a space: jump to the next one
			k := strings.IndexByte(v[i+4:], ' ')
			if k < 0 {
				return
			}
			i += k
		}
		if !(v[i] >= 'A' && v[i] <= 'Z' && v[i+1] >= 'A' && v[i+1] <= 'Z' && v[i+2] >= '0' && v[i+2] <= '9' && v[i+3] >= '0' && v[i+3] <= '9') || i > 0 && isAlnum(v[i-1]) {
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
