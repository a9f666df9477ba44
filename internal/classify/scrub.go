package classify

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Names are values (ARCHITECTURE.md, safety rule 4): every string in a finding
// that came from a target — dataset names and kinds, field names and
// types, product and version banners, flags, the error text, evidence keys
// and strings — may hold what the classifier calls a sensitive value (an
// Elasticsearch mapping with e-mail addresses as dynamic keys, a token in
// an MQTT topic, a password in an error message that quotes a connection
// string). Scrub runs the classifier's value detectors over each of them
// and replaces what they find with the classifier's masked form, exactly
// as sampled values become examples.
//
// Classes masked in names: email, auth_token, api_key, password (in
// "password=…" pairs), password_hash, payment_card, bank_account,
// national_id, phone and mac_address — every class the value detectors
// find without a field name to go by. IP addresses are not masked: names
// on an organisation's own network carry its infrastructure addresses
// (index "logs-10.0.0.1", a node or peer address in a banner or error),
// which responders need in order to find the system; the target's own
// address is in every finding anyway; and an address grants nothing. An
// IP address in sampled values is still found and reported as the class
// ip_address. The classes that need a field name to be recognised
// (person_name, username, postal_address, ...) cannot be told apart from
// ordinary words in a bare name and are not searched for.
//
// Field names (paths) additionally get the classifier's path rule (the
// one class fields[] already use): segments that look like values —
// e-mail addresses, numbers, long ids and tokens — become {email}, {n},
// {id} or {…}, so dynamic keys collapse to their shape.
//
// Control, bidi and other invisible format characters (U+202E, U+200B,
// ...) are written as visible escapes (\u202e). Where a value was masked,
// they are dropped first, so they cannot split a value to hide it from the
// detectors.
//
// Scrub changes only what is written out: the engine calls it after
// classification (which sees the original field names) and before
// finding.Finalize. Slices and maps are copied, never changed in place.

// scrubClasses are the classes masked in names.
var scrubClasses = setOf(cEmail, cAuthToken, cAPIKey, cPassword, cPasswordHash, cCard, cBank, cNationalID, cPhone, cMAC)

var (
	scrubOnce sync.Once
	scrubEng  *RuleClassifier
)

// scrubber is the engine whose detectors Scrub uses. Detection needs no
// installation key (keys only make hashes, which names never get).
func scrubber() *RuleClassifier {
	scrubOnce.Do(func() {
		e, err := New(Options{Key: []byte("leakwatch/name-scrubber/v1")})
		if err != nil {
			panic("classify: scrubber: " + err.Error()) // static options: cannot happen
		}
		scrubEng = e
	})
	return scrubEng
}

// maxScrubLen bounds the text the detectors read in one string; longer
// strings are cut (with "…") before scrubbing, so a hostile megabyte name
// costs little.
const maxScrubLen = 4096

// ScrubText returns s with sensitive values masked and unsafe runes
// escaped (see the package rule above).
func ScrubText(s string) string {
	if s == "" {
		return s
	}
	if len(s) > maxScrubLen {
		cut := maxScrubLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	plain := stripUnsafe(s)
	if masked, ok := scrubber().maskValues(plain); ok {
		return finding.VisibleText(maskCardRuns(masked))
	}
	if masked := maskCardRuns(plain); masked != plain {
		return finding.VisibleText(masked)
	}
	return finding.VisibleText(s)
}

// maskCardRuns masks card numbers the detectors leave alone in a bare
// name, where no field name says "card": runs of 13 to 19 digits, alone or
// in groups joined by single '-' or ' ', that pass the Luhn check
// ("invoices/4111111111111111.pdf", "4111-1111-1111-1111"). A number that
// merely looks like one (a 16-digit id) is masked one time in ten; in a
// name that costs little.
func maskCardRuns(s string) string {
	var b strings.Builder
	at := 0
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' || (i > 0 && isAlnum(s[i-1])) {
			i++
			continue
		}
		// The longest run of digit groups from i.
		j, end, digits := i, i, 0
		for j < len(s) {
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k == j {
				break
			}
			digits += k - j
			end = k
			if k+1 < len(s) && (s[k] == '-' || s[k] == ' ') && s[k+1] >= '0' && s[k+1] <= '9' {
				j = k + 1
				continue
			}
			break
		}
		if digits >= 13 && digits <= 19 && (end == len(s) || !isAlnum(s[end])) && luhn(s[i:end]) {
			last4 := make([]byte, 0, 4)
			for k := end - 1; k >= i && len(last4) < 4; k-- {
				if s[k] >= '0' && s[k] <= '9' {
					last4 = append([]byte{s[k]}, last4...)
				}
			}
			b.WriteString(s[at:i])
			b.WriteString("••••" + string(last4) + " [card]")
			at = end
		}
		i = end // s[i] is a digit, so end > i
	}
	if at == 0 {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// ScrubFieldName scrubs a field path: values the detectors find are
// masked as in ScrubText; a path without such values gets the path rule
// (value-like segments become {email}, {n}, {id}, {…}).
func ScrubFieldName(s string) string {
	if s == "" || len(s) > maxScrubLen {
		return ScrubText(s)
	}
	plain := stripUnsafe(s)
	if masked, ok := scrubber().maskValues(plain); ok {
		return finding.VisibleText(masked)
	}
	if p := safePath(plain); p != plain {
		return finding.VisibleText(p)
	}
	return finding.VisibleText(s)
}

// ScrubName scrubs a dataset name or a key a target chose (an index,
// table, topic or bucket name; an evidence key that names one): values the
// detectors find are masked as in ScrubText, and so is every run of letters
// and digits that looks like an opaque secret — 20 or more characters
// holding both letters and digits, with no separator inside
// ("tok_live_9f8e7d6c5b4a39281706f5e4", "sess-3b1f0c7e9a2d4f6b8c0e1a3d").
// Names people give datasets ("customers", "logs-2026.12.06-000001",
// "orders_v2") have no such run; generated ids that do (a 24-hex ObjectId)
// lose nothing a responder needs, since the rest of the name, the kind and
// the counts remain.
func ScrubName(s string) string {
	return maskTokenRuns(ScrubText(s))
}

// minTokenRun is the shortest letter-and-digit run ScrubName masks.
const minTokenRun = 20

// maskTokenRuns replaces token-shaped runs (see ScrubName) with
// "…[token, N chars]", the classifier's mask for an opaque token.
func maskTokenRuns(s string) string {
	var b strings.Builder
	at := 0
	for i := 0; i < len(s); {
		if !isAlnum(s[i]) {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(s) && isAlnum(s[j]) {
			if s[j] >= '0' && s[j] <= '9' {
				digits++
			}
			j++
		}
		if j-i >= minTokenRun && digits > 0 && digits < j-i {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[at:i])
			b.WriteString("…[token, " + strconv.Itoa(j-i) + " chars]")
			at = j
		}
		i = j
	}
	if at == 0 {
		return s
	}
	b.WriteString(s[at:])
	return b.String()
}

// stripUnsafe drops the runes finding.Unsafe names (invalid UTF-8 bytes
// become U+FFFD, which is dropped too).
func stripUnsafe(s string) string {
	clean := true
	for _, r := range s {
		if finding.Unsafe(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if !finding.Unsafe(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// scrubSeps split names into the parts a value may stand in: paths,
// keys, topics, URLs and key=value lists.
func isScrubSep(c byte) bool {
	switch c {
	case '/', '|', '#', '=', '&', '?', '\\', '*', '!', '^', '~', ',', ';':
		return true
	}
	return false
}

type span struct {
	lo, hi int
	mask   string
}

// maskValues finds values of the scrub classes in s and replaces each
// with its mask. It reads s twice: as it is (so "password=…" pairs and
// "Bearer …" are read as such) and with path and query separators turned
// into spaces (so a token inside "a/b/c" or "k=v&…" is a word of its own).
func (e *RuleClassifier) maskValues(s string) (string, bool) {
	var spans []span
	spans = e.findSpans(s, spans)
	split := []byte(s)
	seps := false
	for i, c := range split {
		if isScrubSep(c) {
			split[i] = ' '
			seps = true
		}
	}
	if seps {
		spans = e.findSpans(unsafe.String(unsafe.SliceData(split), len(split)), spans)
	}
	if len(spans) == 0 {
		return s, false
	}
	slices.SortFunc(spans, func(a, b span) int {
		if a.lo != b.lo {
			return a.lo - b.lo
		}
		return b.hi - a.hi // longer first
	})
	var b strings.Builder
	at := 0
	for _, sp := range spans {
		if sp.lo < at {
			if sp.hi <= at {
				continue // inside a span already masked
			}
			sp.lo = at // overlaps: mask the rest as well
		}
		b.WriteString(s[at:sp.lo])
		b.WriteString(sp.mask)
		at = sp.hi
	}
	b.WriteString(s[at:])
	return b.String(), true
}

// findSpans runs the detectors over s as free text and appends the spans
// (offsets into s) of the scrub classes' detections.
func (e *RuleClassifier) findSpans(s string, spans []span) []span {
	dets := e.detectName(s)
	base := uintptr(unsafe.Pointer(unsafe.StringData(s)))
	for _, d := range dets {
		if !scrubClasses.has(d.c) || d.raw == "" {
			continue
		}
		lo := int(uintptr(unsafe.Pointer(unsafe.StringData(d.raw))) - base)
		if lo < 0 || lo+len(d.raw) > len(s) || s[lo:lo+len(d.raw)] != d.raw {
			lo = strings.Index(s, d.raw)
			if lo < 0 {
				continue
			}
		}
		spans = append(spans, span{lo: lo, hi: lo + len(d.raw), mask: mask(d)})
	}
	return spans
}

// noPath is the field context of a name: none.
var noPath = &pathInfo{}

// detectName runs the value detectors over s as free text, with the
// keyword pass the record path does.
func (e *RuleClassifier) detectName(s string) []det {
	lower := appendLower(make([]byte, 0, len(s)), s)
	vc := valueCtx{pi: noPath, space: true}
	for _, m := range e.values.FindAllOverlapping(lower) {
		g := e.kwGroup[m.PatternID]
		if g == kgCtxNeg && !wordAt(lower, m.Start, m.End) {
			continue
		}
		vc.groups |= 1 << g
		vc.hits = append(vc.hits, kwHit{pos: m.Start, group: g})
	}
	sc := scanner{e: e, now: e.now()}
	sc.detectText(s, &vc)
	// Key prefixes: "user:jane@…", "session:eyJ…", "dev:00:1a:2b:…" —
	// the value starts after a colon, and colons also stand inside values
	// (MAC and IPv6 addresses, "$2b$12$" hashes after "pw:"), so each
	// colon-suffix of a word is tried as a word of its own.
	sc.inText = true
	for i := 0; i < len(s); {
		for i < len(s) && isTextSep(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !isTextSep(s[j]) {
			j++
		}
		tries := 0
		for k := i; k < j && tries < 8; k++ {
			if s[k] != ':' {
				continue
			}
			tries++
			if w := trimWord(s[k+1 : j]); len(w) >= 6 {
				sc.ctxLo, sc.ctxHi = k-ctxWindow, j+ctxWindow/2
				sc.strong(w, &vc, nil, false)
			}
		}
		i = j
	}
	sc.inText = false
	// A name that is one value ("jane@example.com", "+4915112345678")
	// also goes through the whole-value detectors, which read what free
	// text splits (short words, grouped numbers).
	if !hasSpace(s) {
		sc.strong(trimValue(s), &vc, nil, true)
	}
	return sc.dets
}

// Scrub masks sensitive values and escapes unsafe runes in every string
// of f that came from a target (see the package rule above). Call it after
// classification and before f.Finalize; it copies what it changes.
func Scrub(f *finding.Finding) {
	if f == nil {
		return
	}
	f.Product = ScrubText(f.Product)
	f.Version = ScrubText(f.Version)
	f.Error = ScrubText(f.Error)
	f.Flags = scrubList(f.Flags, ScrubText)
	if f.Evidence != nil {
		bad := false
		ev, _ := scrubEvidence(finding.PlainValue(f.Evidence, &bad)).(map[string]any)
		f.Evidence = ev
		if bad && !slices.Contains(f.Flags, finding.FlagEvidenceInvalid) {
			f.Flags = append(f.Flags, finding.FlagEvidenceInvalid)
		}
	}
	if f.Datasets == nil {
		return
	}
	ds := make([]finding.Dataset, len(f.Datasets))
	for i, d := range f.Datasets {
		d.Name = ScrubName(d.Name)
		d.Kind = ScrubText(d.Kind)
		d.Flags = scrubList(d.Flags, ScrubText)
		d.Canary = scrubList(d.Canary, finding.VisibleText)
		if d.Fields != nil {
			fs := make([]finding.Field, 0, len(d.Fields))
			seen := make(map[finding.Field]bool, len(d.Fields))
			for _, fl := range d.Fields {
				fl = finding.Field{Name: ScrubFieldName(fl.Name), Type: ScrubText(fl.Type)}
				if seen[fl] {
					continue // dynamic keys collapsed to one shape
				}
				seen[fl] = true
				fs = append(fs, fl)
			}
			d.Fields = fs
		}
		if d.Classes != nil {
			cs := make([]finding.ClassCount, len(d.Classes))
			for j, c := range d.Classes {
				c.Fields = scrubList(c.Fields, ScrubFieldName)
				c.Examples = scrubList(c.Examples, finding.VisibleText) // masked already
				cs[j] = c
			}
			d.Classes = cs
		}
		ds[i] = d
	}
	f.Datasets = ds
}

func scrubList(ss []string, fn func(string) string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fn(s)
	}
	return out
}

// scrubEvidence scrubs the keys and strings of plain evidence data (see
// finding.PlainValue). Keys that collide once masked get a "#2", "#3", ...
// suffix rather than overwrite one another.
func scrubEvidence(v any) any {
	switch x := v.(type) {
	case string:
		return ScrubText(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = scrubEvidence(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys) // deterministic suffixes
		for _, k := range keys {
			sk := ScrubName(k)
			if _, dup := out[sk]; dup {
				for n := 2; ; n++ {
					alt := sk + "#" + strconv.Itoa(n)
					if _, dup := out[alt]; !dup {
						sk = alt
						break
					}
				}
			}
			out[sk] = scrubEvidence(x[k])
		}
		return out
	}
	return v
}
