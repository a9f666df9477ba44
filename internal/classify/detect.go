package classify

import (
	"strings"
	"time"
)

// det is one detection in one value. raw is a slice of the sampled value
// and never leaves the package: the aggregator turns it into a masked
// example, a keyed hash and a distinct-count key.
type det struct {
	c      class
	conf   float32
	rule   string
	raw    string
	label  string // jwt alg, secret label, hash scheme, card brand
	prefix int    // bytes of raw that may be shown (provider prefixes)
	norm   string // normalised form for hashing, when it differs from raw
}

// valueCtx is what the engine knows around one value.
type valueCtx struct {
	pi     *pathInfo
	space  bool   // the value holds ASCII whitespace
	groups uint32 // keyword groups present in the value
	// hits are the keyword positions in the value (for text context).
	hits []kwHit
}

type kwHit struct {
	pos   int
	group uint8
}

func (vc *valueCtx) has(g uint8) bool { return vc.groups&(1<<g) != 0 }

// scanner holds per-call scratch space so the hot path allocates little.
type scanner struct {
	e    *RuleClassifier
	dets []det
	buf  []byte
	now  time.Time // the engine's clock, read once per Classify call
	// In free text, context words count only within [ctxLo, ctxHi) of
	// the word being classified (Presidio-style window).
	inText       bool
	ctxLo, ctxHi int
	// scratch of the recall detectors (persontext.go, address.go)
	toks  []ptok
	atoms []atom
	addr  [][2]int // address spans of the current text
	// region is the country another field of the record names (ISO
	// 3166 alpha-2, "" for none): national phone numbers are read in it
	// first.
	region string
}

// ctxWindow is how far context words may stand from a value in text.
const ctxWindow = 32

const minConf = 0.5

// nullish values carry no data whatever the field says.
func nullish(v string) bool {
	switch len(v) {
	case 0:
		return true
	case 1:
		return v == "-" || v == "0" || v == "?" || v == "*" || v == "."
	}
	if len(v) > 12 {
		return false
	}
	if v[0] == '*' || v[0] == 'x' || v[0] == 'X' {
		all := true
		for i := 1; i < len(v); i++ {
			if v[i] != v[0] {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	c0 := v[0] | 0x20
	for _, w := range nullByLen[len(v)] {
		if w[0] == c0 && strings.EqualFold(w, v) {
			return true
		}
	}
	return false
}

var nullWords = []string{"null", "nil", "none", "n/a", "na", "true", "false", "unknown", "undefined", "empty",
	"redacted", "[redacted]", "<redacted>", "hidden", "masked", "not set", "notset", "tbd", "todo",
	"yes", "no", "default", "[filtered]", "filtered", "removed", "[removed]", "secret", "-1"}

// nullByLen indexes nullWords by length.
var nullByLen = func() (m [13][]string) {
	for _, w := range nullWords {
		m[len(w)] = append(m[len(w)], w)
	}
	return
}()

func trimValue(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r' || v[0] == '"' || v[0] == '\'') {
		v = v[1:]
	}
	for len(v) > 0 {
		c := v[len(v)-1]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' {
			v = v[:len(v)-1]
			continue
		}
		break
	}
	return v
}

// hasSpace reports whether s contains ASCII whitespace.
func hasSpace(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' {
			return true
		}
	}
	return false
}

// spaceFriendly classes hold values with spaces as a whole.
var spaceFriendly = setOf(cPersonName, cPostalAddress, cDeviceModel, cWifiSSID, cPassword, cGeo, cDOB, cPhone, cCard, cBank, cNationalID)

// detect classifies one value, appending to s.dets.
func (s *scanner) detect(v string, vc *valueCtx) {
	v = vc.trim(v)
	if nullish(v) || len(v) == 20 && v[0] == 'A' && awsExamples[v] {
		return
	}
	pi := vc.pi
	if strings.HasPrefix(v, "mailto:") {
		v = v[7:]
		vc.shift(7)
	}
	if s.authHeader(v, vc) {
		return
	}
	text := false
	if vc.space && hasSpace(v) && !strings.HasPrefix(v, "-----BEGIN") {
		text = !pi.any || len(v) > 64 && !keepWhole(pi, v)
		if !text {
			// A field class that takes spaces reads the value whole;
			// others see free text.
			text = true
			for c := class(0); c < numClasses; c++ {
				if pi.sig[c] > 0 && spaceFriendly.has(c) {
					text = false
					break
				}
			}
		}
	}
	if text {
		s.detectText(v, vc)
		return
	}
	start := len(s.dets)
	s.strong(v, vc, pi, true)
	strong := len(s.dets) > start
	s.field(v, vc, pi, strong, start)
	s.credentialsIn(v, vc, false)
	if len(s.dets) == start {
		s.valueOnly(v, vc, pi)
	}
}

// strong runs the value detectors that need no field name; whole says the
// token is the whole value (not a word in free text).
func (s *scanner) strong(v string, vc *valueCtx, pi *pathInfo, whole bool) {
	n := len(v)
	if n < 3 {
		return
	}
	fieldBoost := func(c class, conf float32) float32 {
		if pi != nil && pi.sig[c] > 0 {
			conf += 0.05
			if pi.sig[c] > conf {
				conf = pi.sig[c]
			}
		}
		if conf > 0.99 {
			conf = 0.99
		}
		return conf
	}
	if vc.has(kgAt) && strings.IndexByte(v, '@') > 0 && emailOK(v) {
		s.add(det{c: cEmail, conf: fieldBoost(cEmail, 0.9), rule: "value:email", raw: v, norm: lowerASCII(v)})
		return
	}
	if vc.has(kgJWT) && v[0] == 'e' {
		if alg, ok := jwtAlg(v); ok {
			s.add(det{c: cAuthToken, conf: fieldBoost(cAuthToken, 0.95), rule: "value:jwt", raw: v, label: jwtLabels[alg], prefix: 4})
			return
		}
	}
	if vc.has(kgSecret) {
		if h, ok := secretKind(v); ok && (h.rule == "value:slack_webhook" || !fillInKey(v)) { // (a webhook URL is judged by its path)
			s.add(det{c: h.class, conf: fieldBoost(h.class, h.conf), rule: h.rule, raw: v, label: h.label, prefix: h.prefix})
			return
		}
	}
	if n >= 34 && n <= 47 && (v[0] == 'S' || v[32] == '-' || v[0] >= '1' && v[0] <= '9') {
		if h, ok := shapedKey(v); ok {
			s.add(det{c: h.class, conf: fieldBoost(h.class, h.conf), rule: h.rule, raw: v, label: h.label, prefix: h.prefix})
			return
		}
	}
	if vc.has(kgHash) && (v[0] == '$' || v[0] == '{' || n > 20) {
		if k := hashKind(v); k != "" {
			s.add(det{c: cPasswordHash, conf: fieldBoost(cPasswordHash, 0.95), rule: hashRules[k], raw: v, label: k, prefix: hashPrefix(v)})
			return
		}
	}
	c0 := v[0]
	switch {
	case n >= 7 && n <= 45 && (c0 >= '0' && c0 <= '9' || isHex(c0) || c0 == ':'):
		if s.network(v, vc, pi, whole) {
			return
		}
	}
	if n >= 13 && n <= 23 && c0 >= '0' && c0 <= '9' {
		if s.card(v, vc, pi, whole) {
			return
		}
	}
	if n == 12 && c0 >= '0' && c0 <= '9' && s.maestro12(v, vc, pi) {
		return
	}
	if n >= 15 && n <= 42 && c0 >= 'A' && c0 <= 'Z' || n >= 15 && n <= 42 && c0 >= 'a' && c0 <= 'z' && pi != nil && pi.sig[cBank] > 0 {
		if len(v) >= 2 && (v[1]|0x20) >= 'a' && (v[1]|0x20) <= 'z' && v[2] >= '0' && v[2] <= '9' && ibanOK(v) {
			s.add(det{c: cBank, conf: fieldBoost(cBank, 0.95), rule: "value:iban", raw: v, label: "iban", norm: strings.ToUpper(strings.ReplaceAll(v, " ", ""))})
			return
		}
	}
	if c0 == '+' && n >= 8 && n <= 22 {
		ctx := float32(0.7) + s.context(vc, kgCtxPhone)
		if pi != nil && pi.sig[cPhone] > 0 {
			ctx = pi.sig[cPhone]
		}
		if ctx >= minConf {
			if e164, ok := s.phoneIn(v, pi, false); ok {
				s.add(det{c: cPhone, conf: fieldBoost(cPhone, ctx), rule: "value:phone_e164", raw: v, norm: e164})
				return
			}
		}
	}
	if n == 11 && v[3] == '-' && v[6] == '-' && ssnOK(v) {
		conf := float32(0.45) + s.context(vc, kgCtxSSN)
		if pi != nil && pi.sig[cNationalID] > 0 {
			conf = pi.sig[cNationalID]
		}
		if pi != nil && pi.sig[cPhone] > 0 {
			conf = 0
		}
		if conf >= minConf {
			s.add(det{c: cNationalID, conf: conf, rule: "value:ssn", raw: v, label: "ssn"})
			return
		}
	}
}

// authHeader reads an HTTP Authorization value ("Bearer …", "Basic …",
// "Token …") as a credential.
func (s *scanner) authHeader(v string, vc *valueCtx) bool {
	sp := strings.IndexByte(v, ' ')
	if sp < 5 || sp > 7 || len(v)-sp-1 < 8 || hasSpace(v[sp+1:]) {
		return false
	}
	switch strings.ToLower(v[:sp]) {
	case "bearer", "basic", "token", "digest", "negotiate":
	default:
		return false
	}
	t := v[sp+1:]
	if alg, ok := jwtAlg(t); ok {
		s.add(det{c: cAuthToken, conf: 0.95, rule: "value:bearer_jwt", raw: t, label: jwtLabels[alg], prefix: 4})
		return true
	}
	if placeholderSecret(t) || !(opaqueToken(t) || len(t) >= 8 && allIn(t, b64Byte) && vc.pi.sig[cAuthToken] > 0 ||
		strings.EqualFold(v[:sp], "basic") && basicCredential(t)) {
		return false
	}
	conf := float32(0.85)
	if vc.pi.sig[cAuthToken] > 0 || vc.pi.sig[cAPIKey] > 0 {
		conf = 0.95
	}
	s.add(det{c: cAuthToken, conf: conf, rule: "value:authorization_" + strings.ToLower(v[:sp]), raw: t, label: strings.ToLower(v[:sp])})
	return true
}

// context returns a confidence adjustment from context words in the value
// (Presidio-style): +0.2 when a supporting word is present, -0.3 for words
// that argue for test data or identifiers.
func (s *scanner) context(vc *valueCtx, g uint8) float32 {
	var adj float32
	if s.near(vc, g) {
		adj += 0.2
	}
	if s.near(vc, kgCtxNeg) {
		adj -= 0.3
	}
	return adj
}

// near reports a keyword of group g in the value, or, in free text, within
// the context window of the current word.
func (s *scanner) near(vc *valueCtx, g uint8) bool {
	if !vc.has(g) {
		return false
	}
	if !s.inText {
		return true
	}
	for _, h := range vc.hits {
		if h.group == g && h.pos >= s.ctxLo && h.pos < s.ctxHi {
			return true
		}
	}
	return false
}

// network detects IP and MAC addresses.
func (s *scanner) network(v string, vc *valueCtx, pi *pathInfo, whole bool) bool {
	n := len(v)
	// Every IP and MAC spelling has a separator in its first five bytes.
	sep := false
	for i := 0; i < 5 && i < n; i++ {
		if c := v[i]; c == '.' || c == ':' || c == '-' {
			sep = true
			break
		}
	}
	if !sep && !(n == 12 && pi != nil && pi.sig[cMAC] > 0) {
		return false
	}
	if (n == 17 || n == 14 || (n == 12 && pi != nil && pi.sig[cMAC] > 0)) && macShape(v, pi != nil && pi.sig[cMAC] > 0) {
		conf := float32(0.85)
		if pi != nil && pi.sig[cMAC] > 0 {
			conf = 0.95
		}
		s.add(det{c: cMAC, conf: conf, rule: "value:mac", raw: v, norm: normMAC(v)})
		return true
	}
	dots, colons := 0, 0
	for i := 0; i < n; i++ {
		switch c := v[i]; {
		case c == '.':
			dots++
		case c == ':':
			colons++
		case c >= '0' && c <= '9' || isHex(c) || c == '[' || c == ']' || c == '%':
		default:
			if !(pi != nil && pi.sig[cIP] > 0) {
				return false
			}
		}
	}
	if dots != 3 && colons < 2 {
		return false
	}
	addr, ok := parseIP(v)
	if !ok || addr.IsUnspecified() {
		return false
	}
	conf := float32(0.8)
	if pi != nil {
		if pi.version {
			return false
		}
		if pi.sig[cIP] > 0 {
			conf = 0.95
		}
	}
	if !whole {
		conf = 0.75
		if s.near(vc, kgCtxNeg) {
			conf -= 0.3
		}
	}
	s.add(det{c: cIP, conf: conf, rule: "value:ip", raw: v, norm: addr.String()})
	return true
}

// card detects payment card numbers: digits with optional grouping, a
// known issuer prefix and length, the Luhn check, and not a published test
// number.
func (s *scanner) card(v string, vc *valueCtx, pi *pathInfo, whole bool) bool {
	var buf [19]byte
	n := cardDigits(v, &buf)
	if n == 0 {
		return false
	}
	d := buf[:n]
	brand := cardBrand(d)
	if brand == "" || !luhn(string(d)) {
		return false
	}
	same := true
	for i := 1; i < n; i++ {
		if d[i] != d[0] {
			same = false
		}
	}
	if same || testCards[string(d)] {
		return false
	}
	conf := float32(0.6)
	if len(v) > n {
		conf = 0.75 // grouped like a card
	}
	conf += s.context(vc, kgCtxCard)
	if pi != nil {
		switch {
		case pi.sig[cCard] > 0:
			conf = pi.sig[cCard]
		case pi.numericID || pi.timeish || pi.sig[cPhone] > 0 || pi.sig[cDeviceID] > 0 || pi.sig[cBank] > 0 || pi.sig[cNationalID] > 0:
			conf -= 0.4
		}
	}
	if conf < minConf {
		return false
	}
	s.add(det{c: cCard, conf: conf, rule: "value:card_luhn", raw: v, label: brand, norm: string(d)})
	return true
}

// phone validates a number written with its country code (or national
// in the default region) and returns E.164.
func (s *scanner) phone(v string) (string, bool) {
	return phoneE164(v, s.e.region)
}

// fallbackRegions are tried, in order, for a national number (no "+")
// under a phone-named field that the default region does not accept.
var fallbackRegions = []string{"GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU", "CA", "MX", "PL", "SE", "CH", "AT", "BE"}

// phoneField reads a number from a phone-named field: international, then
// national in the default region, then as digits missing their "+"
// (MSISDN), then national in a few common regions.
func (s *scanner) phoneField(v string) (string, bool) {
	if s.region != "" && len(v) > 0 && v[0] != '+' {
		if e, ok := phoneE164(v, s.region); ok {
			return e, true
		}
	}
	if e, ok := s.phone(v); ok {
		return e, true
	}
	if len(v) == 0 || v[0] == '+' {
		return "", false
	}
	if isDigits(v) && len(v) >= 10 && v[0] != '0' {
		if e, ok := phoneE164("+"+v, ""); ok {
			return e, true
		}
	}
	if v[0] != '0' && v[0] != '(' {
		return "", false
	}
	for _, r := range fallbackRegions {
		if e, ok := phoneE164(v, r); ok {
			return e, true
		}
	}
	return "", false
}

func (s *scanner) add(d det) {
	s.dets = append(s.dets, d)
}

func hashPrefix(v string) int {
	// Show the scheme and cost ("$2b$12$"), never salt or digest.
	if v[0] != '$' {
		if i := strings.IndexByte(v, '$'); i > 0 && i < 16 {
			return i + 1
		}
		if v[0] == '{' {
			return strings.IndexByte(v, '}') + 1
		}
		return 0
	}
	n := 0
	for i := 0; i < len(v) && i < 24; i++ {
		if v[i] == '$' {
			n++
			if n == 3 {
				if strings.HasPrefix(v, "$2") {
					return i + 1
				}
				return strings.IndexByte(v[1:], '$') + 2
			}
		}
	}
	return 0
}

func normMAC(v string) string {
	b := make([]byte, 0, 12)
	for i := 0; i < len(v); i++ {
		if isHex(v[i]) {
			b = append(b, v[i]|0x20)
		}
	}
	return string(b)
}

// phoneIn validates a phone number, as a phone-named field's value when
// field is set.
func (s *scanner) phoneIn(v string, _ *pathInfo, field bool) (string, bool) {
	if field {
		return s.phoneField(v)
	}
	return s.phone(v)
}

// lowerASCII lower-cases s, allocating only when it has upper-case letters.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return string(appendLower(make([]byte, 0, len(s)), s))
		}
	}
	return s
}

var (
	jwtLabels = func() map[string]string {
		m := map[string]string{"other": "JWT"}
		for a := range knownAlgs {
			m[a] = "JWT " + a
		}
		return m
	}()
	hashRules = func() map[string]string {
		m := map[string]string{}
		for _, k := range []string{"bcrypt", "argon2", "scrypt", "yescrypt", "sha-crypt", "md5-crypt", "pbkdf2", "ldap", "django", "md5", "sha1", "sha256", "sha512"} {
			m[k] = "value:" + k
		}
		return m
	}()
)
