package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Person names in free text and under neutral field names, without a model:
// runs of capitalised words checked against the given-name and surname
// lists of many countries (namelists.go), and context cues ("my name is",
// "Name:", honorifics, greetings, "says", signature lines) that vouch for a
// capitalised run the lists do not know.

// ptok is one word of a text: its byte span, what stands between it and
// the previous word, and its shape.
type ptok struct {
	lo, hi int
	cap    bool // Capitalised (first letter upper case, the rest not all upper case)
	upper  bool // ALL CAPS
	init   bool // an initial: one upper-case letter, maybe with a dot
	join   bool // only one space (or ". " after an initial) separates it from the previous word
	// fl caches nameFlags of the word once flSet (tokFlags)
	fl    uint8
	flSet bool
	glued bool // touches a digit, '@', '/', '_' or '.' inside a token, or an '=' (a key=value pair's key or value): part of an identifier
}

// wordsOf splits v into words of letters (any script; inner apostrophes
// and hyphens kept), appending to toks.
func wordsOf(v string, toks []ptok) []ptok {
	toks = toks[:0]
	i := 0
	prevEnd := -1
	for i < len(v) {
		if c := v[i]; c < utf8.RuneSelf && !asciiLetter(c) {
			i++ // ASCII fast path: no letter
			continue
		}
		r, n := utf8.DecodeRuneInString(v[i:])
		if !unicode.IsLetter(r) {
			i += n
			continue
		}
		lo := i
		first := r
		lowerSeen, upperRest := false, 0
		letters := 0
		for i < len(v) {
			if c := v[i]; c < utf8.RuneSelf && asciiLetter(c) {
				// ASCII fast path of the letter case below
				if letters > 0 {
					if c <= 'Z' {
						upperRest++
					} else {
						lowerSeen = true
					}
				}
				letters++
				i++
				continue
			}
			r, n = utf8.DecodeRuneInString(v[i:])
			if unicode.IsLetter(r) || unicode.IsMark(r) {
				if letters > 0 {
					if unicode.IsUpper(r) {
						upperRest++
					} else {
						lowerSeen = true
					}
				}
				letters++
				i += n
				continue
			}
			if (r == '\'' || r == '’' || r == '-') && i+n < len(v) {
				r2, _ := utf8.DecodeRuneInString(v[i+n:])
				if unicode.IsLetter(r2) {
					i += n
					continue
				}
			}
			break
		}
		end := i
		if end-lo > 3 && (v[end-2:end] == "'s" || end-lo > 5 && v[end-4:end] == "’s") {
			// possessive: "Matej's" is "Matej"
			if v[end-2] == '\'' {
				end -= 2
			} else {
				end -= 4
			}
		}
		t := ptok{lo: lo, hi: end}
		isUp := unicode.IsUpper(first)
		t.init = isUp && letters == 1
		t.upper = isUp && letters > 1 && !lowerSeen
		t.cap = isUp && letters > 1 && lowerSeen && upperRest <= 2
		if t.init && i < len(v) && v[i] == '.' {
			t.hi = i + 1
			i++
		}
		if lo > 0 {
			c := v[lo-1]
			if c >= '0' && c <= '9' || c == '@' || c == '/' || c == '_' || c == '\\' || c == '=' || c == '.' && lo > 1 && v[lo-2] != ' ' {
				t.glued = true
			}
		}
		if t.hi < len(v) {
			c := v[t.hi]
			if c >= '0' && c <= '9' || c == '@' || c == '_' || c == '/' || c == '(' || c == '=' || c == '.' && t.hi+1 < len(v) && isAlnum(v[t.hi+1]) {
				t.glued = true
			}
		}
		if prevEnd >= 0 {
			gap := v[prevEnd:lo]
			t.join = gap == " " || gap == ". " && len(toks) > 0 && toks[len(toks)-1].init
		}
		prevEnd = t.hi
		toks = append(toks, t)
	}
	return toks
}

// tokFlags is nameFlags of toks[k]'s word, looked up once per text.
func tokFlags(v string, toks []ptok, k int) uint8 {
	t := &toks[k]
	if !t.flSet {
		t.fl, t.flSet = nameFlags(v[t.lo:t.hi]), true
	}
	return t.fl
}

// lowerIs reports lowerASCII(w) == t for a lower-case t, without
// allocating.
func lowerIs(w, t string) bool {
	if len(w) != len(t) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if lowerTab[w[i]] != t[i] {
			return false
		}
	}
	return true
}

// asciiLetter: an ASCII letter (for ASCII, unicode.IsLetter; no ASCII
// byte is a mark).
func asciiLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// nameParticles may stand inside a name in lower case.
var nameParticles = toSet("van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du",
	"la", "le", "ten", "ter", "bin", "ibn", "al", "el", "y", "zu", "af", "av")

// personCues are words right before a capitalised run that say a person
// is named ("my name is X", "Mr. X", "Hi X", "says X", "Name: X").
var personCues = toSet("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau",
	"señor", "señora", "sr", "sra", "monsieur", "madame", "mme", "mlle", "signor", "signora",
	"hi", "hello", "hey", "dear", "thanks", "regards", "sincerely", "cheers", "is", "am", "named",
	"called", "calls", "says", "said", "asked", "told", "by", "contact", "name", "signed", "ask",
	"wrote", "met", "meet", "with", "from", "attn", "patient", "customer", "client", "employee",
	"i'm", "im", "i’m", "to", "me",
	// "ich heiße X", "me llamo X", "je m'appelle X", "mi chiamo X", "chamo-me X", "ik heet X"
	"heiße", "heisse", "llamo", "appelle", "m'appelle", "chiamo", "chamo", "heet", "heter", "hedder", "nazywam")

// personCueAfter: words right after a run that say it names a person
// ("X says", "X wrote").
var personCueAfter = toSet("says", "said", "wrote", "asked", "told", "replied", "explained", "added",
	"shouted", "lives", "lived", "spent", "married", "died", "born")

// peopleInText finds person names in free text.
func (s *scanner) peopleInText(v string) {
	if !mayHoldName(v) && !strings.Contains(v, "name") && !strings.Contains(v, "call me") && !strings.Contains(v, "calls me") {
		return
	}
	s.toks = wordsOf(v, s.toks)
	toks := s.toks
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if !t.cap && !t.upper && !t.init && !t.glued && i >= 2 {
			// "my name is lena andersson", "people call me višeslav": a
			// lower-case given name right after a strong cue
			if n := s.lowerNameAfterCue(v, toks, i); n > 0 {
				s.add(det{c: cPersonName, conf: 0.75, rule: "text:person_name", raw: v[toks[i].lo:toks[i+n-1].hi]})
				i += n - 1
			}
			continue
		}
		if !t.cap || t.glued {
			continue
		}
		if f := tokFlags(v, toks, i); f&nameStop != 0 && f&nameGiven == 0 {
			continue // "Hi", "Mr", "The": a run starts after it
		}
		// the run: capitalised words, initials and particles joined by
		// single spaces
		j := i + 1
		for j < len(toks) && j-i < 5 && toks[j].join && !toks[j].glued {
			w := toks[j]
			if w.cap || w.init || nameParticles[v[w.lo:w.hi]] && j+1 < len(toks) && toks[j+1].cap && toks[j+1].join {
				j++
				continue
			}
			break
		}
		if lo, hi, conf := s.personRun(v, toks, i, j); conf > 0 {
			s.ctxLo, s.ctxHi = toks[lo].lo-ctxWindow, toks[hi-1].hi+ctxWindow/2
			s.add(det{c: cPersonName, conf: conf, rule: "text:person_name", raw: v[toks[lo].lo:toks[hi-1].hi]})
			i = hi - 1
			continue
		}
		i = j - 1
	}
}

// personRun decides whether toks[i:j] (a run of capitalised words) names a
// person; it returns the span kept and a confidence (0: no).
func (s *scanner) personRun(v string, toks []ptok, i, j int) (lo, hi int, conf float32) {
	// Cut the run at the first ordinary word after its first one ("Abt
	// Associates", "Kevin Street").
	if s.inAddress(toks[i].lo, toks[j-1].hi) || streetAround(v, toks, i, j) {
		return 0, 0, 0
	}
	var flags [5]uint8
	n := 0
	for k := i; k < j; k++ {
		w := v[toks[k].lo:toks[k].hi]
		f := uint8(0)
		if toks[k].cap {
			f = tokFlags(v, toks, k)
		}
		if k > i {
			if lowerIn(orgWords, w) || lowerIn(streetTypesAfter, w) && (f&nameSurname == 0 || f&nameStop != 0 || afterCorner(v, toks[i].lo)) {
				return 0, 0, 0 // "Herceg Gateway", "Thomas Investments"
			}
			if f&nameStop != 0 {
				break
			}
		}
		flags[n] = f
		n++
	}
	if orgList(v, toks, i, j) {
		return 0, 0, 0
	}
	for n > 1 && !toks[i+n-1].cap { // a run ends on a name word
		n--
	}
	j = i + n
	cue := s.personCue(v, toks, i, j)
	first := flags[0]
	last := flags[n-1]
	named := 0 // words the lists know (ordinary words excluded)
	for k := 0; k < n; k++ {
		if flags[k]&(nameGiven|nameSurname) != 0 && flags[k]&nameStop == 0 {
			named++
		}
	}
	initialInside, suffixed := false, false
	for k := i + 1; k < j-1; k++ {
		if toks[k].init {
			initialInside = true
		}
	}
	if n >= 2 && toks[j-1].cap && surnameShape(v[toks[j-1].lo:toks[j-1].hi]) {
		suffixed = true
	}
	switch {
	case first&nameStop != 0 && !(n >= 2 && first&nameGiven != 0 && last&nameSurname != 0 && last&nameStop == 0):
		// "The …", "Will …", "Street …" — unless a given name that is
		// also a word opens a known surname ("Rose Kelly").
		if first&nameGiven == 0 || !cue {
			return 0, 0, 0
		}
		return i, j, 0.75
	case cue:
		return i, j, 0.8
	case n >= 3 && initialInside && toks[i].cap && toks[j-1].cap:
		// "Ravil G Yefimov", "Alvir D. Pušaver"
		return i, j, 0.75
	case n >= 2 && suffixed && first&nameStop == 0:
		return i, j, 0.7
	case n >= 2 && n <= 4 && wholeLine(v, toks[i].lo, toks[j-1].hi) && named >= 1:
		// a line of its own in a signature or address block
		return i, j, 0.7
	case n >= 2 && first&nameGiven != 0 && (named >= 2 || last&nameStop == 0):
		return i, j, 0.75
	case n >= 2 && named >= 2:
		return i, j, 0.7
	case n == 1 && first&nameGiven != 0 && first&nameStop == 0 && s.singleNameOK(v, toks, i):
		return i, j, 0.65
	}
	return 0, 0, 0
}

// streetAround: the run is a street's name — a house number right before
// or after it ("Joaquin Suarez 2906", "420 Gairbekov Rapids") or a street
// type right after it.
func streetAround(v string, toks []ptok, i, j int) bool {
	lo, hi := toks[i].lo, toks[j-1].hi
	k := lo - 1
	for k >= 0 && v[k] == ' ' {
		k--
	}
	if k >= 0 && k < lo-1 && v[k] >= '0' && v[k] <= '9' {
		return true
	}
	if hi+1 < len(v) && v[hi] == ' ' && v[hi+1] >= '0' && v[hi+1] <= '9' {
		return true
	}
	if j < len(toks) && toks[j].join && (toks[j].cap || toks[j].upper) {
		w := v[toks[j].lo:toks[j].hi]
		return lowerIn(streetTypesAfter, w) || lowerIn(orgWords, w)
	}
	return false
}

// afterCorner: the run follows "corner of … and" or "at"/"on": a street.
func afterCorner(v string, lo int) bool {
	pre := v[max(0, lo-40):lo]
	return strings.Contains(pre, "corner of") || strings.HasSuffix(pre, " on ") || strings.HasSuffix(pre, " at ")
}

// orgWords end an organisation's name ("Russell Investments", "Thomas and
// Sons").
var orgWords = toSet("inc", "ltd", "llc", "llp", "plc", "gmbh", "ag", "sa", "srl", "bv", "nv", "oy", "ab", "as",
	"co", "corp", "corporation", "company", "group", "associates", "partners", "holdings", "investments",
	"consulting", "orchestra", "sons", "brothers", "bros", "enterprises", "industries", "foundation",
	"institute", "agency", "labs", "studio", "studios", "ventures", "capital", "management", "logistics",
	"motors", "airlines", "insurance", "trust", "fund", "society", "association", "council", "bank",
	"university", "college", "school", "hospital", "clinic", "hotel", "restaurant", "bakery", "pharmacy",
	"solutions", "systems", "technologies", "technology", "software", "media", "records", "publishing",
	"research", "finance", "financial", "energy", "health", "healthcare", "pharma", "pharmaceuticals",
	"analytics", "networks", "communications", "telecom", "electric", "electronics", "foods", "global",
	"international", "worldwide", "dynamics", "robotics", "therapeutics", "biotech", "realty", "properties",
	"construction", "engineering", "consultants", "advisors", "services", "store", "stores", "market", "mart",
	"memorial", "museum", "stadium", "arena", "airport", "library", "theatre", "theater", "cathedral",
	"palace", "castle", "gallery", "festival", "symposium", "conference", "academy", "lectures", "series",
	"awards", "prize", "tournament", "cup", "league", "band", "quartet", "ensemble", "choir")

// orgList: "Clark, Romero and Hall", "Thomas and Sons" — names joined by
// commas and "and" that form a firm's name.
func orgList(v string, toks []ptok, i, j int) bool {
	if j-i != 1 {
		return false
	}
	hi := toks[j-1].hi
	rest := v[hi:]
	if strings.HasPrefix(rest, " and ") || strings.HasPrefix(rest, " & ") {
		// "X and Y" is two people unless Y ends a firm's name
		k := j + 1
		if k < len(toks) && lowerIn(orgWords, v[toks[k].lo:toks[k].hi]) {
			return true
		}
		return false
	}
	if strings.HasPrefix(rest, ", ") && j+2 < len(toks) && toks[j].cap {
		w := v[toks[j+1].lo:toks[j+1].hi]
		return w == "and" || w == "&"
	}
	if i >= 2 && v[toks[i-1].lo:toks[i-1].hi] == "and" && strings.HasPrefix(v[toks[i-2].hi:], ", ") {
		return true
	}
	if i >= 3 && v[toks[i-1].lo:toks[i-1].hi] == "and" && toks[i-2].cap && v[toks[i-3].hi:toks[i-2].lo] == ", " && toks[i-3].cap {
		return true // "… and Hall" of "Clark, Romero and Hall"
	}
	if i >= 1 && v[toks[i-1].hi:toks[i].lo] == ", " && toks[i-1].cap && strings.HasPrefix(rest, " and ") {
		return true // "Romero" of "Clark, Romero and Hall"
	}
	return false
}

// lowerNameAfterCue returns how many words from toks[i] form a lower-case
// name right after "my name is", "name:" or "call(s) me": a listed given
// name, and a listed surname or surname-shaped word after it.
func (s *scanner) lowerNameAfterCue(v string, toks []ptok, i int) int {
	p, q := v[toks[i-1].lo:toks[i-1].hi], v[toks[i-2].lo:toks[i-2].hi]
	gap := v[toks[i-1].hi:toks[i].lo]
	if !(lowerIs(p, "is") && lowerIs(q, "name") || lowerIs(p, "me") && (lowerIs(q, "call") || lowerIs(q, "calls")) || lowerIs(p, "name") && strings.HasPrefix(gap, ":")) {
		return 0
	}
	f := tokFlags(v, toks, i)
	if f&nameGiven == 0 || f&nameStop != 0 {
		return 0
	}
	if i+1 < len(toks) && toks[i+1].join {
		w := v[toks[i+1].lo:toks[i+1].hi]
		if g := tokFlags(v, toks, i+1); g&nameSurname != 0 && g&nameStop == 0 || surnameShape(w) {
			return 2
		}
	}
	return 1
}

// singleNameOK: a lone given name counts when it stands among ordinary
// words — the next word is lower case or the sentence ends ("Kevin had
// given Alma his address", "Thanks, Carla.") — and neither opens a place or
// organisation phrase ("in Florence") nor a product or company name ("Mac
// OS X", "Jordan Brand"). At the start of a sentence a verb must follow
// ("Catherine is …"): a capitalised first word is often just a word.
func (s *scanner) singleNameOK(v string, toks []ptok, i int) bool {
	sentenceStart := i == 0 || strings.ContainsAny(v[toks[i-1].hi:toks[i].lo], ".!?\n:>")
	if i > 0 && !sentenceStart {
		p := toks[i-1]
		if p.cap || p.upper {
			return false
		}
		switch lowerASCII(v[p.lo:p.hi]) {
		case "in", "at", "to", "from", "of", "near", "via", "into", "visit", "visited", "the", "a", "an", "on", "for", "like":
			return false
		}
	}
	if i+1 < len(toks) {
		nx := toks[i+1]
		gap := v[toks[i].hi:nx.lo]
		if strings.ContainsAny(gap, ".!?") || gap == ", " && !sentenceStart {
			return true
		}
		if nx.cap || nx.upper || nx.init || strings.ContainsAny(gap, "/-_@") {
			return false
		}
		if sentenceStart {
			return lowerIn(singleAfter, v[nx.lo:nx.hi])
		}
		return true
	}
	return !sentenceStart || i > 0
}

// singleAfter: verbs after a sentence-initial lone name ("Catherine is").
var singleAfter = toSet("is", "was", "spent", "shouted", "has", "had", "will", "would", "can", "could", "did", "does", "and",
	"said", "says", "went", "came", "called", "asked", "told", "wrote", "wants", "wanted", "likes",
	"liked", "loves", "loved", "lives", "lived", "works", "worked", "thinks", "thought", "knows",
	"knew", "gave", "got", "gets", "made", "makes", "sent", "sends", "replied", "needs", "needed")

// personCue reports a cue word right before the run (skipping a possessive
// "my"/"is" chain: "my name is X") or right after it.
func (s *scanner) personCue(v string, toks []ptok, i, j int) bool {
	if i > 0 {
		p := toks[i-1]
		gap := v[p.hi:toks[i].lo]
		if gap[0] == ':' && strings.TrimLeft(gap[1:], " \t") == "" {
			gap = ": "
		}
		if len(gap) <= 3 && (p.hi-p.lo) <= 9 {
			if lowerIn(personCues, v[p.lo:p.hi]) {
				w := lowerASCII(v[p.lo:p.hi])
				switch w {
				case "is", "am":
					// only "my name is X", "I am X"
					if i >= 2 {
						q := lowerASCII(v[toks[i-2].lo:toks[i-2].hi])
						if q == "name" || q == "i" || q == "names" || w == "is" && q == "this" {
							return true
						}
					}
					return false
				case "name":
					return gap == ": " || gap == ":" || gap == " is " || gap == "? "
				case "me":
					// "people call me X", "everyone calls me X"
					if i >= 2 {
						q := lowerASCII(v[toks[i-2].lo:toks[i-2].hi])
						return q == "call" || q == "calls"
					}
					return false
				case "to":
					// "change it to X Y", "speak to X Y": two or more words
					return j-i >= 2 && i >= 2 && toks[i-2].hi-toks[i-2].lo <= 6 && !toks[i-2].cap
				case "by", "with", "from", "meet", "met", "contact", "ask":
					// weak: only before two or more capitalised words
					return j-i >= 2
				}
				return true
			}
		}
	}
	if j < len(toks) {
		nx := toks[j]
		if nx.lo-toks[j-1].hi <= 2 && lowerIn(personCueAfter, v[nx.lo:nx.hi]) {
			return true
		}
	}
	return false
}

// wholeLine: v[lo:hi] stands alone on its line (">" quote marks and
// spaces aside).
func wholeLine(v string, lo, hi int) bool {
	for k := lo - 1; k >= 0 && v[k] != '\n'; k-- {
		if c := v[k]; c != ' ' && c != '>' && c != '\t' {
			return false
		}
	}
	for k := hi; k < len(v) && v[k] != '\n' && v[k] != '\r'; k++ {
		if c := v[k]; c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// surnameEndings are suffixes that make a capitalised word a likely
// surname in many languages (Slavic, Nordic, Greek, Romanian, Armenian,
// Turkish, Italian).
var surnameEndings = []string{"ova", "eva", "ovа", "ov", "ev", "ski", "ska", "sky", "skiy", "skaya", "vich",
	"ić", "vić", "enko", "chuk", "yan", "ian", "sson", "sen", "dottir", "dóttir", "escu", "poulos",
	"akis", "oglu", "oğlu", "ová", "ský", "ská", "shvili", "dze", "idis", "ides", "nen"}

// surnameShape: a capitalised word of 5+ letters with a surname ending.
func surnameShape(w string) bool {
	if len(w) < 5 {
		return false
	}
	lw := strings.ToLower(w)
	for _, e := range surnameEndings {
		if strings.HasSuffix(lw, e) && len(lw) >= len(e)+3 {
			return true
		}
	}
	return false
}

// mayHoldName is a cheap test: an upper-case ASCII letter or a non-ASCII
// byte somewhere.
func mayHoldName(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

// personValue reads a whole value under a neutral or weak field as a
// person name: name-shaped, and its words known to the lists (a given name
// first, or given name and surname), or under a name field any known word.
func (s *scanner) personValue(v string, nameField bool) bool {
	if !nameShape(v) || !mayHoldName(v) {
		return false
	}
	s.toks = wordsOf(v, s.toks)
	toks := s.toks
	if len(toks) == 0 || len(toks) > 5 {
		return false
	}
	var given, sur, stop, caps, known int
	for k, t := range toks {
		if t.init {
			continue
		}
		w := v[t.lo:t.hi]
		if !t.cap && !t.upper {
			if nameParticles[w] && k > 0 {
				continue
			}
			if !nameField {
				return false
			}
		}
		caps++
		f := nameFlags(w)
		if f&nameStop != 0 {
			stop++
			continue
		}
		if f&(nameGiven|nameSurname) != 0 {
			known++
		}
		if f&nameGiven != 0 && k == 0 {
			given++
		}
		if f&nameSurname != 0 && k > 0 {
			sur++
		}
	}
	if caps == 0 || stop > 0 && !nameField {
		return false
	}
	initial := false
	for k := 1; k < len(toks)-1; k++ {
		if toks[k].init {
			initial = true
		}
	}
	lastWord := v[toks[len(toks)-1].lo:toks[len(toks)-1].hi]
	if nameField {
		// under "name": listed words, or the shape of a full name (a
		// middle initial, a surname ending) with no ordinary word
		return stop == 0 && (given > 0 || sur > 0 && caps >= 2 || caps == 1 && known > 0 ||
			caps >= 2 && (initial || surnameShape(lastWord)))
	}
	if caps == 1 && len(toks) == 1 {
		// one word: a given name, or a surname of 4+ letters; not in
		// capitals (places, firms and acronyms are written so)
		if toks[0].upper {
			return false
		}
		f := nameFlags(v)
		return f&nameGiven != 0 || f&nameSurname != 0 && len(v) >= 4 || surnameShape(v)
	}
	return given > 0 || known >= 2 || caps >= 2 && (sur > 0 || surnameShape(v[toks[len(toks)-1].lo:toks[len(toks)-1].hi]))
}
