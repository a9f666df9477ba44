// Credentials written inside a value: a config file, a log line, a JSON
// document or a connection string held as one string. Three shapes:
//
//   - URL userinfo: scheme://user:password@host (DSNs, broker and proxy URLs);
//   - HTTP Authorization: "Authorization: Bearer …" / "Basic …" / "token …",
//     and "Bearer <token>" on its own;
//   - key=value and key: value pairs (.env, YAML, INI, JSON, ADO/ODBC/JDBC/
//     libpq connection strings, command-line flags) whose key is a field
//     name of a credential class — the key goes through the same field-name
//     analysis as a record's paths, so "DB_PASSWORD" is a password,
//     "password_hash" a hash and "password_min_length" no credential.
//
// Values that are references or fill-ins (placeholderSecret, codeReference)
// are rejected. Every position is computed on the string scanned, never
// carried over from another (trimmed or untrimmed) copy of it.

package classify

import (
	"encoding/base64"
	"strings"
	"time"
)

// credentialsIn finds credentials inside v; text says v is free text (prose
// rules apply to short words).
func (s *scanner) credentialsIn(v string, vc *valueCtx, text bool) {
	if vc.has(kgAt) && strings.Contains(v, "://") {
		s.urlCredentials(v)
	}
	if vc.space && vc.has(kgCtxToken) { // a scheme is followed by a space or tab
		s.authorizationIn(v)
	}
	if vc.groups&(pairGroups|1<<kgSecret) != 0 { // kgSecret: "AccountKey=" and other provider keys
		s.keyValuePairs(v, text)
		if strings.IndexByte(v, '<') >= 0 {
			s.xmlElements(v)
		}
		if indexFold(v, "machine ", 0) >= 0 {
			s.netrc(v)
		}
	}
	if vc.space && strings.Contains(v, " -") {
		s.flags(v)
		if strings.Contains(v, " -u ") || strings.Contains(v, " --user") {
			s.userFlag(v)
		}
	}
}

// urlCredentials reads scheme://user:password@host.
func (s *scanner) urlCredentials(v string) {
	for i := 0; i < len(v); {
		k := strings.Index(v[i:], "://")
		if k < 0 {
			return
		}
		k += i
		i = k + 3
		j := k
		for j > 0 && (isAlnum(v[j-1]) || v[j-1] == '+' || v[j-1] == '.' || v[j-1] == '-') {
			j--
		}
		if k-j < 2 || !credLetter(v[j]) {
			continue
		}
		a, e := k+3, k+3
		for e < len(v) && !urlAuthorityEnd(v[e]) {
			e++
		}
		auth := v[a:e]
		at := strings.LastIndexByte(auth, '@')
		if at <= 0 {
			continue
		}
		ui, host := auth[:at], auth[at+1:]
		c := strings.IndexByte(ui, ':')
		if c < 0 || !hostOK(host) {
			continue
		}
		pass := ui[c+1:]
		if strings.EqualFold(ui[:c], "anonymous") || strings.EqualFold(ui[:c], "ftp") {
			continue // anonymous FTP: the "password" is a courtesy e-mail or "guest"
		}
		if len(pass) < 3 || len(pass) > 256 || nullish(pass) || placeholderSecret(pass) || codeReference(pass, false) {
			continue
		}
		s.add(det{c: cPassword, conf: 0.9, rule: "text:url_userinfo", raw: pass})
		if u := ui[:c]; len(u) >= 2 && len(u) <= 64 && hasLetter(u) && !nullish(u) && !placeholderSecret(u) && !codeReference(u, false) {
			s.add(det{c: cUsername, conf: 0.85, rule: "text:url_userinfo", raw: u})
		}
		i = e
	}
}

func urlAuthorityEnd(c byte) bool {
	switch c {
	// Not '?' or '#': unencoded in many a hand-written DSN's password.
	case '/', ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', '(', ')', '[', ']', '{', '}', '|', '\\', ',':
		return true
	}
	return false
}

// hostOK: a host name or address, optionally with a port ("db:5432",
// "[::1]:5432", "10.0.0.5"), no template.
func hostOK(h string) bool {
	if h == "" || len(h) > 255 || !(isAlnum(h[0]) || h[0] == '[') {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(isAlnum(c) || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']' || c == '%' || c == ',') {
			return false
		}
	}
	return true
}

// authorizationIn reads "Authorization: <scheme> <credentials>" and a
// bare "Bearer <token>" inside text.
func (s *scanner) authorizationIn(v string) {
	// every scheme but a bare "Bearer" stands after the header's name
	named := indexFold(v, "authorization", 0) >= 0
	for _, scheme := range [...]string{"bearer", "basic", "token", "digest", "apikey"} {
		if scheme != "bearer" && !named {
			continue
		}
		for from := 0; ; {
			i := indexFold(v, scheme, from)
			if i < 0 {
				break
			}
			from = i + len(scheme)
			if i > 0 && (isAlnum(v[i-1]) || v[i-1] == '_' || v[i-1] == '-') {
				continue
			}
			k := from
			if k >= len(v) || v[k] != ' ' && v[k] != '\t' {
				continue
			}
			for k < len(v) && (v[k] == ' ' || v[k] == '\t') {
				k++
			}
			if scheme != "bearer" && !afterAuthorization(v[:i]) {
				continue
			}
			e := k
			for e < len(v) && !tokenEnd(v[e]) {
				e++
			}
			t := strings.TrimRight(v[k:e], ".")
			if d, ok := s.authCredential(scheme, t, "text:authorization_"); ok {
				s.add(d)
				from = e
			}
		}
	}
}

// authCredential validates the credentials of an Authorization scheme.
func (s *scanner) authCredential(scheme, t, rulePrefix string) (det, bool) {
	if len(t) < 8 || placeholderSecret(t) {
		return det{}, false
	}
	if alg, ok := jwtAlg(t); ok {
		return det{c: cAuthToken, conf: 0.95, rule: rulePrefix + scheme, raw: t, label: jwtLabels[alg], prefix: 4}, true
	}
	switch scheme {
	case "basic":
		if !basicCredential(t) {
			return det{}, false
		}
	case "digest":
		return det{}, false // a challenge response: parameters, no secret of its own
	case "apikey": // Elasticsearch: base64 of id:key
		if !opaqueToken(t) {
			return det{}, false
		}
		return det{c: cAPIKey, conf: 0.9, rule: rulePrefix + scheme, raw: t, label: "api key"}, true
	default:
		if !opaqueToken(t) || uuidShape(t) && scheme == "token" {
			return det{}, false
		}
	}
	return det{c: cAuthToken, conf: 0.9, rule: rulePrefix + scheme, raw: t, label: scheme}, true
}

// afterAuthorization: the text before a scheme word ends with an
// Authorization header name ("Authorization:", "authorization=",
// "\"Authorization\": \"", "-H 'Authorization: ").
func afterAuthorization(before string) bool {
	j := len(before)
	for j > 0 && (before[j-1] == ' ' || before[j-1] == '\t' || before[j-1] == '"' || before[j-1] == '\'' || before[j-1] == ':' || before[j-1] == '=') {
		j--
	}
	const name = "authorization"
	return j >= len(name) && strings.EqualFold(before[j-len(name):j], name)
}

func tokenEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', ',', ';', ')', '(', '}', '{', ']', '[', '<', '>', '|', '\\', '&':
		return true
	}
	return false
}

// basicCredential: base64 of "user:password", printable, both parts
// present and the password no placeholder.
func basicCredential(t string) bool {
	raw := strings.TrimRight(t, "=")
	if len(raw) < 6 || len(raw) > 1024 {
		return false
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	c := -1
	for i, x := range b {
		if x < 0x20 || x > 0x7e {
			return false
		}
		if x == ':' && c < 0 {
			c = i
		}
	}
	return c > 0 && c < len(b)-1 && !placeholderSecret(string(b[c+1:]))
}

// indexFold finds lower-case ASCII word w in s from byte from on,
// ignoring case.
func indexFold(s, w string, from int) int {
	for i := from; i+len(w) <= len(s); i++ {
		if s[i]|0x20 == w[0] && strings.EqualFold(s[i:i+len(w)], w) {
			return i
		}
	}
	return -1
}

// keyValuePairs reads key=value, key: value, key => value and key := value
// where the key names a credential.
func (s *scanner) keyValuePairs(v string, text bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '=' && c != ':' {
			continue
		}
		vs := i + 1
		switch {
		case c == '=' && vs < len(v) && v[vs] == '=', c == '=' && i > 0 && strings.IndexByte("!<>=", v[i-1]) >= 0:
			i++ // a comparison, not an assignment
			continue
		case c == ':' && vs < len(v) && (v[vs] == ':' || v[vs] == '/'):
			continue // "::", "://"
		case c == ':' && vs < len(v) && v[vs] == '=', c == '=' && vs < len(v) && v[vs] == '>':
			vs++
		}
		key, ks := keyBefore(v, i)
		if key == "" || docParam(v[:ks]) {
			continue
		}
		val, end := valueAfter(v, vs)
		if strings.EqualFold(key, "name") || strings.EqualFold(key, "key") {
			// <add key="DB_PASSWORD" value="…"/>, <property name="password" value="…"/>
			if cls, ok := s.credentialKey(val); ok && end < len(v) {
				if a := indexFold(v[end:min(len(v), end+48)], "value=", 0); a >= 0 {
					if av, ae := valueAfter(v, end+a+6); credentialValueOK(cls, av, val, text, s.now) {
						p := classTable[cls].pair
						s.add(det{c: cls, conf: 0.8, rule: p.rule, raw: av, label: p.label})
						i = ae - 1
						continue
					}
				}
			}
		}
		cls, ok := s.credentialKey(key)
		if !ok {
			// a provider key after any key (SHOPIFY=shpat_…, "figma: figd_…")
			if len(val) >= 16 {
				if h, hit := providerSecret(val); hit {
					s.add(det{c: h.class, conf: h.conf, rule: h.rule, raw: val, label: h.label, prefix: h.prefix})
					if end > i {
						i = end - 1
					}
				}
			}
			continue
		}
		if end > i {
			i = end - 1
		}
		if text && cls == cPassword && strings.HasSuffix(lowerASCII(key), "pass") && lowerWord(val) {
			continue // "pass: through": a weak key and a plain word in prose
		}
		s.pair(cls, val, key, text)
	}
}

// pair adds a credential of class cls when its value passes.
func (s *scanner) pair(cls class, val, key string, text bool) {
	if !credentialValueOK(cls, val, key, text, s.now) {
		return
	}
	if cls != cPassword && len(val) >= 16 {
		if h, ok := providerSecret(val); ok { // a provider's key says its own class
			s.add(det{c: h.class, conf: max(h.conf, 0.8), rule: h.rule, raw: val, label: h.label, prefix: h.prefix})
			return
		}
	}
	p := classTable[cls].pair
	s.add(det{c: cls, conf: 0.8, rule: p.rule, raw: val, label: p.label})
}

// xmlElements reads <password>…</password> and other elements named like
// a credential.
func (s *scanner) xmlElements(v string) {
	for i := 0; i < len(v); i++ {
		if v[i] != '>' || i == 0 {
			continue
		}
		key, ks := keyBefore(v, i)
		if key == "" || ks == 0 || v[ks-1] != '<' {
			continue
		}
		e := strings.IndexByte(v[i+1:], '<')
		if e < 0 || e > 512 || !strings.HasPrefix(v[i+1+e:], "</") {
			continue
		}
		if cls, ok := s.credentialKey(key); ok {
			s.pair(cls, strings.TrimSpace(v[i+1:i+1+e]), key, false)
		}
		i += e
	}
}

// flags reads command-line options named like a credential and followed
// by their value: --password x, -storepass x, --token x, and mysql's
// -p'x' / -p"x".
func (s *scanner) flags(v string) {
	for i := 0; i+2 < len(v); i++ {
		if v[i] != '-' || i > 0 && v[i-1] != ' ' && v[i-1] != '\t' {
			continue
		}
		j := i
		for j < len(v) && v[j] == '-' {
			j++
		}
		k := j
		for k < len(v) && (isAlnum(v[k]) || v[k] == '-' || v[k] == '_') {
			k++
		}
		name := v[j:k]
		switch {
		case name == "p" && k < len(v) && (v[k] == '\'' || v[k] == '"'):
			val, _ := valueAfter(v, k)
			s.pair(cPassword, val, "password", false)
		case len(name) >= 3 && k < len(v) && v[k] == ' ':
			if cls, ok := s.credentialKey(name); ok {
				val, _ := valueAfter(v, k)
				if len(val) > 0 && val[0] != '-' {
					s.pair(cls, val, name, false)
				}
			}
		}
		i = k
	}
}

// netrc reads ".netrc" lines: machine h login u password p.
func (s *scanner) netrc(v string) {
	for from := 0; ; {
		i := indexFold(v, "password ", from)
		if i < 0 {
			return
		}
		from = i + 9
		if indexFold(v[max(0, i-128):i], "login ", 0) < 0 {
			continue
		}
		val, _ := valueAfter(v, from)
		s.pair(cPassword, val, "password", false)
	}
}

// userFlag reads curl's and wget's -u/--user user:password.
func (s *scanner) userFlag(v string) {
	for _, f := range [...]string{" -u ", " --user ", " --user="} {
		for from := 0; ; {
			i := strings.Index(v[from:], f)
			if i < 0 {
				break
			}
			from += i + len(f)
			val, _ := valueAfter(v, from)
			if c := strings.IndexByte(val, ':'); c > 0 && c < len(val)-1 {
				s.pair(cPassword, val[c+1:], "password", false)
			}
		}
	}
}

// keyBefore returns the key that ends just before the separator at i
// (spaces, a closing quote and "']" skipped) and where it starts.
func keyBefore(v string, i int) (string, int) {
	j := i
	for j > 0 && (v[j-1] == ' ' || v[j-1] == '\t') {
		j--
	}
	if j > 0 && v[j-1] == ']' {
		j--
	}
	if j > 0 && (v[j-1] == '"' || v[j-1] == '\'' || v[j-1] == '`') {
		j--
	}
	e := j
	for j > 0 && e-j < 64 {
		b := v[j-1]
		if isAlnum(b) || b == '_' || b == '-' || b == '.' || b >= 0x80 {
			j--
			continue
		}
		break
	}
	if j > 0 && e-j >= 64 {
		return "", j // a run too long to be a key name
	}
	k := strings.TrimLeft(v[j:e], "-.")
	if len(k) < 2 {
		return "", j
	}
	return k, j
}

// docParam: the key is a documented parameter (":param password:",
// "@param password"), not an assignment.
func docParam(before string) bool {
	b := strings.TrimRight(before, " \t")
	for _, p := range [...]string{":param", "@param", ":type", ":arg", "@arg", ":ivar", ":raises"} {
		if len(b) >= len(p) && strings.EqualFold(b[len(b)-len(p):], p) {
			return true
		}
	}
	return false
}

// credStems are the key fragments worth a field-name analysis.
var credStems = [...]string{"pass", "pwd", "secret", "token", "key", "auth", "cred", "bearer", "session",
	"sid", "cookie", "jwt", "kennwort", "contrase", "senha", "mdp", "haslo", "hasło", "wachtwoord", "clave", "otp"}

// credentialKey tells whether a key names a credential, and which class.
func (s *scanner) credentialKey(key string) (class, bool) {
	lo := lowerASCII(key)
	hit := false
	for _, st := range credStems {
		if strings.Contains(lo, st) {
			hit = true
			break
		}
	}
	if !hit {
		return 0, false
	}
	pi := s.e.pathInfo(strings.Clone(key)) // the cache keeps the key: not the value around it
	best, conf := class(0), float32(0)
	for _, c := range [...]class{cPassword, cAuthToken, cAPIKey, cPasswordHash} {
		if pi.sig[c] > conf {
			best, conf = c, pi.sig[c]
		}
	}
	if conf == 0 && passSuffix(lo) {
		return cPassword, true // PGPASSWORD, storepass, srcstorepass: one word the field analysis does not split
	}
	if conf < 0.6 || best == cPasswordHash {
		return 0, false
	}
	return best, true
}

// lowerWord: only lower-case ASCII letters.
func lowerWord(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 'a' || v[i] > 'z' {
			return false
		}
	}
	return len(v) > 0
}

// passSuffix: a one-word key ending in "password", "passwd" or "pass"
// (not bypass, compass, surpass, trespass, overpass, underpass).
func passSuffix(lo string) bool {
	switch {
	case strings.HasSuffix(lo, "password"), strings.HasSuffix(lo, "passwd"):
		return true
	case !strings.HasSuffix(lo, "pass") || len(lo) <= 4:
		return false
	}
	for _, w := range [...]string{"bypass", "compass", "surpass", "trespass", "overpass", "underpass"} {
		if strings.HasSuffix(lo, w) {
			return false
		}
	}
	return true
}

// valueAfter reads the value that starts at i (after spaces): quoted up to
// its closing quote, otherwise up to a space or a delimiter.
func valueAfter(v string, i int) (string, int) {
	for i < len(v) && (v[i] == ' ' || v[i] == '\t') {
		i++
	}
	if i >= len(v) {
		return "", i
	}
	if q := v[i]; q == '"' || q == '\'' || q == '`' {
		if e := strings.IndexByte(v[i+1:], q); e >= 0 && e <= 512 {
			return v[i+1 : i+1+e], i + 2 + e
		}
		i++
	}
	e := i
	for e < len(v) && e-i < 512 && !valueEnd(v[e]) {
		e++
	}
	val := v[i:e]
	for len(val) > 0 && (val[len(val)-1] == '.' || val[len(val)-1] == ',') {
		val = val[:len(val)-1]
	}
	return val, e
}

func valueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', ';', '&', ',', ')', '}', ']', '<', '>', '"', '\'', '`', '|', '\\':
		return true
	}
	return false
}

// credentialValueOK checks a pair's value for its class.
func credentialValueOK(c class, val, key string, text bool, now time.Time) bool {
	if c != cPassword && len(val) >= 16 {
		if _, ok := providerSecret(val); ok {
			return true // a provider's format ("hvs.…" is no member access)
		}
	}
	if len(val) < 4 || strings.IndexByte("[{(", val[0]) >= 0 || nullish(val) || placeholderSecret(val) || codeReference(val, text) {
		return false
	}
	lo := lowerASCII(val)
	if strings.HasSuffix(lowerASCII(key), lo) { // password=password, token: TOKEN
		return false
	}
	switch c {
	case cPassword:
		if len(val) > 128 || hashKind(val) != "" || hexHashKind(val) != "" || isDigits(val) && len(val) > 10 ||
			strings.Contains(val, "://") { // a URL: its own credentials are read by urlCredentials
			return false
		}
		if _, date := parseDate(val, now); date {
			return false
		}
		return true
	default:
		return tokenPairOK(val)
	}
}

// trim trims v like trimValue and moves the keyword positions with it, so
// that they index the trimmed value (a value starting with spaces or
// quotes kept them pointing before their words).
func (vc *valueCtx) trim(v string) string {
	off := 0
	for off < len(v) && (v[off] == ' ' || v[off] == '\t' || v[off] == '\n' || v[off] == '\r' || v[off] == '"' || v[off] == '\'') {
		off++
	}
	vc.shift(off)
	return trimValue(v)
}

// shift moves the keyword positions n bytes left (the value lost n
// leading bytes); hits inside the lost bytes are dropped.
func (vc *valueCtx) shift(n int) {
	if n == 0 || len(vc.hits) == 0 {
		return
	}
	k := 0
	for _, h := range vc.hits {
		if h.pos >= n {
			h.pos -= n
			vc.hits[k] = h
			k++
		}
	}
	vc.hits = vc.hits[:k]
}
