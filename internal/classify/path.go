package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coregx/ahocorasick"
)

// pathInfo is what a field path says about the values under it. It is
// computed once per distinct path and cached for the dataset.
type pathInfo struct {
	// safe is the path with value-like segments (emails, ids, numbers in
	// Redis-style keys) replaced, fit for findings.
	safe string
	// sig is the field-name confidence per class (0: no signal).
	sig [numClasses]float32
	// rule is the term that fired per class, for explanations.
	rule [numClasses]string
	// any is true when some class has a signal.
	any bool
	// version/numericID/timeish: names that argue against value look-alikes
	// (an IPv4-shaped "version", a card-shaped "order_id", a timestamp).
	version, numericID, timeish bool
	// lat/lon mark one half of a coordinate pair.
	lat, lon bool
	// thing: the field names a thing (product.name, company, city, title):
	// its values are read as no person by value alone.
	thing bool
	// country: the field names a country (country, country_code, land,
	// pais, pays): its value tells the region of the record's phones.
	country bool
}

// termMatcher finds field-name terms with one Aho-Corasick pass over the
// space-padded token string of a path segment.
type termMatcher struct {
	ac    *ahocorasick.Automaton
	terms []termDef
}

type termDef struct {
	class  class
	conf   float32
	term   string // canonical, space separated
	tokens int
}

func newTermMatcher() (*termMatcher, error) {
	tm := &termMatcher{}
	var pats []string
	seen := map[string]bool{}
	add := func(pat string, d termDef) {
		key := pat + "\x00" + classNames[d.class]
		if seen[key] {
			return
		}
		seen[key] = true
		pats = append(pats, pat)
		tm.terms = append(tm.terms, d)
	}
	for c := range numClasses {
		for _, spec := range classTable[c].terms {
			term, conf := parseTerm(spec)
			d := termDef{class: c, conf: conf, term: term, tokens: strings.Count(term, " ") + 1}
			add(" "+term+" ", d)
			if d.tokens > 1 {
				joined := strings.ReplaceAll(term, " ", "")
				dj := d
				dj.tokens = 1
				add(" "+joined+" ", dj)
			}
		}
	}
	ac, err := ahocorasick.NewBuilder().AddStrings(pats).Build()
	if err != nil {
		return nil, err
	}
	tm.ac = ac
	return tm, nil
}

func parseTerm(spec string) (string, float32) {
	i := strings.LastIndexByte(spec, ':')
	var conf float32
	for _, ch := range spec[i+1:] {
		if ch == '.' {
			continue
		}
		conf = conf*10 + float32(ch-'0')
	}
	digits := len(spec) - i - 3 // "0.95" → 2 decimals
	for ; digits > 0; digits-- {
		conf /= 10
	}
	return spec[:i], conf
}

// hit is one term found in a segment, as a token span [start,end).
type hit struct {
	def        termDef
	start, end int
}

// find returns the term hits in a token list, dropping hits contained in a
// longer hit ("email address" wins over "address").
func (tm *termMatcher) find(tokens []string) []hit {
	if len(tokens) == 0 {
		return nil
	}
	var sb strings.Builder
	starts := make([]int, 0, len(tokens)+1)
	sb.WriteByte(' ')
	for _, t := range tokens {
		starts = append(starts, sb.Len())
		sb.WriteString(t)
		sb.WriteByte(' ')
	}
	s := sb.String()
	tokAt := func(off int) int {
		for i := len(starts) - 1; i >= 0; i-- {
			if starts[i] <= off {
				return i
			}
		}
		return 0
	}
	var hits []hit
	for _, m := range tm.ac.FindAllOverlapping([]byte(s)) {
		d := tm.terms[m.PatternID]
		st := tokAt(m.Start + 1)
		en := tokAt(m.End-2) + 1
		hits = append(hits, hit{def: d, start: st, end: en})
	}
	out := hits[:0]
	for i, h := range hits {
		contained := false
		for j, o := range hits {
			if i != j && o.start <= h.start && h.end <= o.end && (o.end-o.start) > (h.end-h.start) {
				contained = true
				break
			}
		}
		if !contained {
			out = append(out, h)
		}
	}
	return out
}

// splitPath splits a field path into segments of lower-case tokens:
// "user.accessToken" → [[user] [access token]], "customer_addresses[0].line1"
// → [[customer addresses] [0] [line1]].
func splitPath(path string) [][]string {
	var segs [][]string
	start := 0
	for i := 0; i <= len(path); i++ {
		if i == len(path) || isSegSep(path[i]) {
			if i > start {
				if toks := tokenize(path[start:i]); len(toks) > 0 {
					segs = append(segs, toks)
				}
			}
			start = i + 1
		}
	}
	return segs
}

func isSegSep(b byte) bool {
	switch b {
	case '.', '/', '[', ']', ':', '>', '|', '#', '$':
		return true
	}
	return false
}

// tokenize splits one path segment on separators and camelCase, lower-cased.
func tokenize(seg string) []string {
	var toks []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			toks = append(toks, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(seg)
	for i, r := range rs {
		switch {
		case r == '_' || r == '-' || r == ' ' || r == '\t' || r == '@' || r == ',' || r == '\'' || r == '"' || r == '(' || r == ')':
			flush()
		case unicode.IsUpper(r):
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			prevUpper := i > 0 && unicode.IsUpper(rs[i-1])
			if prevLower || (prevUpper && nextLower) {
				flush()
			}
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return toks
}

// safeSegment replaces a segment that looks like a value (Redis keys such
// as "session:4f1c…" or "user:jane@example.com") so paths in findings never
// carry sampled data.
func safeSegment(seg string) string {
	if len(seg) > 48 {
		return "{…}"
	}
	digits, hex, other := 0, 0, 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case c == '@':
			return "{email}"
		case c >= '0' && c <= '9':
			digits++
		case (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'):
			hex++
		case c == '-':
		default:
			other++
		}
	}
	if digits > 0 && digits == len(seg) {
		return "{n}"
	}
	if digits >= 3 && other == 0 && len(seg) >= 8 {
		return "{id}"
	}
	if len(seg) >= 16 && digits >= 4 {
		return "{id}"
	}
	if !utf8.ValidString(seg) {
		return "{…}"
	}
	return seg
}

func safePath(path string) string {
	if strings.IndexByte(path, '@') >= 0 {
		path = maskEmailsInPath(path)
	}
	var sb strings.Builder
	start := 0
	changed := false
	for i := 0; i <= len(path); i++ {
		if i == len(path) || isSegSep(path[i]) {
			seg := path[start:i]
			s := safeSegment(seg)
			if s != seg {
				changed = true
			}
			sb.WriteString(s)
			if i < len(path) {
				sb.WriteByte(path[i])
			}
			start = i + 1
		}
	}
	if !changed {
		return path
	}
	return sb.String()
}

// maskEmailsInPath replaces address-shaped runs ("jane@example.com") in
// a key such as "user:jane@example.com:cart" with {email}.
func maskEmailsInPath(p string) string {
	var sb strings.Builder
	last := 0
	for i := 0; i < len(p); i++ {
		if p[i] != '@' || i < last {
			continue
		}
		a := i
		for a > last && (isAlnum(p[a-1]) || strings.IndexByte("._%+-", p[a-1]) >= 0) {
			a--
		}
		b := i + 1
		for b < len(p) && (isAlnum(p[b]) || p[b] == '.' || p[b] == '-') {
			b++
		}
		sb.WriteString(p[last:a])
		sb.WriteString("{email}")
		last = b
		i = b - 1
	}
	sb.WriteString(p[last:])
	return sb.String()
}

var (
	versionWords = toSet("version", "ver", "build", "release", "revision", "rev", "semver", "firmware", "fw", "sw", "software", "app version", "os version")
	idWords      = toSet("id", "ids", "order", "invoice", "tracking", "sku", "ean", "upc", "isbn", "gtin", "count", "total", "amount", "price", "seq", "sequence", "offset", "timestamp", "ts", "epoch", "number", "nr", "no", "ref", "reference", "hash", "checksum", "crc", "size", "bytes")
	timeWords    = toSet("time", "timestamp", "ts", "at", "created", "updated", "modified", "date", "datetime", "last", "login", "seen", "expires", "expiry", "since", "until", "start", "end", "connected", "connection", "event", "logged")
	latWords     = toSet("lat", "latitude", "breite", "latitud")
	lonWords     = toSet("lon", "lng", "long", "longitude", "laenge", "länge", "longitud")
)

// analyzePath derives the field-name signals for a path.
func (e *RuleClassifier) analyzePath(path string) *pathInfo {
	pi := &pathInfo{safe: safePath(path)}
	segs := splitPath(path)
	// Drop trailing numeric segments (array indices).
	for len(segs) > 0 && isNumericSeg(segs[len(segs)-1]) {
		segs = segs[:len(segs)-1]
	}
	if len(segs) == 0 {
		return pi
	}
	leaf := segs[len(segs)-1]
	var parents []string
	for _, s := range segs[:len(segs)-1] {
		parents = append(parents, s...)
		if len(s) > 1 {
			parents = append(parents, strings.Join(s, " "))
		}
	}
	var parentLast []string
	if len(segs) > 1 {
		parentLast = segs[len(segs)-2]
	}
	for _, t := range leaf {
		if versionWords[t] {
			pi.version = true
		}
		if idWords[t] {
			pi.numericID = true
		}
		if timeWords[t] {
			pi.timeish = true
		}
		if latWords[t] {
			pi.lat = true
		}
		if lonWords[t] {
			pi.lon = true
		}
	}
	hits := e.terms.find(leaf)
	found := false
	for _, h := range hits {
		if !leafHitOK(h, leaf) {
			continue
		}
		found = true
		pi.set(h.def.class, h.def.conf, h.def.term)
	}
	e.contextual(pi, leaf, parents, parentLast, found)
	for c := range pi.sig {
		if pi.sig[c] > 0 {
			pi.any = true
		}
	}
	return pi
}

func isNumericSeg(toks []string) bool {
	if len(toks) != 1 {
		return false
	}
	for i := 0; i < len(toks[0]); i++ {
		if toks[0][i] < '0' || toks[0][i] > '9' {
			return false
		}
	}
	return true
}

// leafHitOK applies the modifier rules to a term found in the leaf.
func leafHitOK(h hit, leaf []string) bool {
	for _, t := range leaf[:h.start] {
		if negBefore[t] {
			return false
		}
	}
	after := leaf[h.end:]
	if len(after) > 0 && h.def.conf < 0.85 {
		// Weak, generic terms ("wifi", "model", "user") must end the name.
		ok := negAfterOK[h.def.class]
		for _, t := range after {
			if !ok[t] && !isDigits(t) {
				return false
			}
		}
	}
	for _, t := range after {
		if negAfter[t] && !negAfterOK[h.def.class][t] {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (pi *pathInfo) set(c class, conf float32, rule string) {
	if conf > pi.sig[c] {
		pi.sig[c] = conf
		if strings.HasPrefix(rule, "context:") {
			pi.rule[c] = rule
		} else {
			pi.rule[c] = "field:" + strings.ReplaceAll(rule, " ", "_")
		}
	}
}

func anyIn(words []string, set map[string]bool) bool {
	for _, w := range words {
		if set[w] {
			return true
		}
	}
	return false
}

// contextual gives bare leaves ("name", "id", "number", "value") their
// meaning from the parent path.
func (e *RuleClassifier) contextual(pi *pathInfo, leaf, parents, parentLast []string, found bool) {
	last := leaf[len(leaf)-1]
	whole := strings.Join(leaf, " ")
	switch {
	case whole == "name" || whole == "full name" || whole == "display name" || whole == "fullname" || whole == "displayname":
		switch {
		case anyIn(parentLast, wifiParents):
			pi.set(cWifiSSID, 0.9, "context:wifi.name")
			pi.sig[cPersonName] = 0
		case anyIn(parentLast, deviceParents):
			pi.set(cDeviceModel, 0.85, "context:device.name")
			pi.sig[cPersonName] = 0
		case anyIn(parentLast, personParents):
			pi.set(cPersonName, 0.85, "context:person.name")
		case len(parents) == 0 && !found:
			// A bare top-level "name": a person only if the value reads
			// like one (checked against the first-name list).
			pi.set(cPersonName, 0.5, "field:name")
		}
	case anyIn(parentLast, toSet("name", "names", "nombre", "nom")) && anyIn(leaf, toSet("first", "last", "given", "family", "middle", "full", "display", "prefix", "suffix", "maiden")):
		pi.set(cPersonName, 0.9, "context:name.part")
	case whole == "id" || whole == "uuid" || whole == "guid" || whole == "serial" || whole == "identifier" || whole == "key" || whole == "sn" || whole == "uid" || whole == "serial number" || whole == "imei":
		if anyIn(parentLast, deviceParents) {
			pi.set(cDeviceID, 0.85, "context:device.id")
		}
	case whole == "model" || whole == "type" || whole == "make model" || whole == "version model":
		if anyIn(parentLast, deviceParents) {
			pi.set(cDeviceModel, 0.85, "context:device.model")
		}
	case whole == "number" || whole == "no" || whole == "num" || whole == "nr":
		switch {
		case anyIn(parentLast, phoneParents):
			pi.set(cPhone, 0.9, "context:phone.number")
		case anyIn(parentLast, cardParents):
			pi.set(cCard, 0.9, "context:card.number")
		case anyIn(parentLast, toSet("passport", "ssn", "national id", "id card")):
			pi.set(cNationalID, 0.85, "context:id.number")
		case anyIn(parentLast, toSet("account", "bank", "bank account")):
			pi.set(cBank, 0.7, "context:account.number")
		}
	case anyIn(parents, addressParents) && anyIn(leaf, toSet("line1", "line2", "line", "street", "street1", "street2", "city", "zip", "zipcode", "postcode", "postal", "house", "housenumber", "number", "town", "locality", "formatted", "full")):
		pi.set(cPostalAddress, 0.8, "context:address.part")
	case anyIn(parentLast, geoParents) && (pi.lat || pi.lon || whole == "coordinates" || whole == "x" || whole == "y"):
		pi.set(cGeo, 0.9, "context:geo.coord")
	}
	if !found && len(parentLast) > 0 && inheritLeaves[whole] {
		for _, h := range e.terms.find(parentLast) {
			if leafHitOK(h, parentLast) {
				pi.set(h.def.class, h.def.conf-0.05, h.def.term)
			}
		}
	}
	if !found && len(parentLast) > 0 && (whole == "hash" || whole == "digest" || whole == "bcrypt" || whole == "crypt") && anyIn(parentLast, passwdParents) {
		pi.set(cPasswordHash, 0.9, "context:password.hash")
	}
	if !found && len(parentLast) > 0 && (whole == "token" || whole == "value") && anyIn(parentLast, tokenParents) {
		pi.set(cAuthToken, 0.9, "context:token")
	}
	// A "name" under a thing is no person.
	if whole == "name" && anyIn(parentLast, thingParents) {
		pi.sig[cPersonName] = 0
		pi.thing = true
	}
	if thingParents[whole] || anyIn(leaf, thingLeaves) {
		pi.thing = true
	}
	if countryWords[whole] {
		pi.country = true
	}
	_ = last
}
