package classify

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Postal addresses in free text and under neutral field names, by the
// grammar of the main conventions:
//   - house number, street name, street type (English: "14 Crown Street",
//     "1659 Hoog St", "22 Pollen Crescent");
//   - street type before the name and the number after it (French, Spanish,
//     Italian, Portuguese, Polish…: "Rue de Piétrain 371", "Via Roma 131",
//     "Avenida Otoniel Dutra 1277", "ul. Miła 57");
//   - a compound street word and the number (German, Dutch, Nordic,
//     Finnish, Hungarian…: "Villacher Strasse 89", "Hammarvägen 15",
//     "Brixtonlaan 380", "Koskikatu 25", "Vesterskovvej 79");
//   - post boxes and military addresses ("P.O. Box 104", "PSC 7951, Box
//     9972", "Unit 5477 Box 8244") and units ("Apt. 839", "Suite 727").

// streetTypesAfter end an English-style street name ("… Street"): the
// street suffixes of USPS Publication 28 (a US government work), their
// common abbreviations and a few British ones.
var streetTypesAfter = toSet(strings.Fields(`
alley aly annex arcade avenue ave av bayou beach bend bluff bluffs bottom boulevard blvd branch bridge
brook brooks burg burgs bypass camp canyon cape causeway center centre centers circle cir circles cliff
cliffs club common commons corner corners course court ct courts cove coves creek crescent cres crest
crossing crossroad curve dale dam divide drive dr drives estate estates expressway extension extensions
falls ferry field fields flat flats ford fords forest forge forges fork forks fort freeway garden gardens
gateway glen glens green greens grove groves harbor harbors harbour haven heights highway hwy hill hills
hollow inlet island islands isle junction junctions key keys knoll knolls lake lakes land landing lane ln
light lights loaf lock locks lodge loop mall manor manors meadow meadows mews mill mills mission motorway
mount mountain mountains neck orchard oval overpass park parks parkway pkwy parkways pass passage path
pike pine pines place pl plain plains plaza point points port ports prairie radial ramp ranch rapid
rapids rest ridge ridges river road rd roads route row rue run shoal shoals shore shores skyway spring
springs spur spurs square sq squares station stravenue stream street st streets summit terrace ter
throughway trace track trafficway trail trl trailer tunnel turnpike underpass union unions valley
valleys viaduct view views village villages ville vista walk walks wall way ways well wells close
esplanade parade promenade quay wharf rise vale wynd str
`)...)

// streetTypesBefore open a street name that the number follows ("Rue …",
// "Via …", "Calle …").
var streetTypesBefore = toSet("rue", "avenue", "boulevard", "bd", "allée", "allee", "chemin", "impasse",
	"quai", "place", "route", "cours", "via", "viale", "piazza", "piazzale", "corso", "largo", "vicolo",
	"strada", "calle", "avenida", "avda", "av", "paseo", "plaza", "carrer", "camino", "carretera",
	"ronda", "travesía", "travesia", "rua", "praça", "praca", "travessa", "estrada", "alameda",
	"ul", "ulica", "al", "aleja", "os", "osiedle", "pl", "plac", "calea", "strada", "bulevardul",
	"ulitsa", "prospekt", "leoforos", "odos", "rambla")

// streetTypesAfterNumber: abbreviations that stand between a street name
// and its number ("Kálmán Imre u. 12", "Pentelis Str. 35").
var streetTypesAfterNumber = toSet("u", "utca", "út", "str", "st", "ul", "g", "gt", "vej", "tie", "katu")

// streetSuffixes end a compound street word ("Hauptstraße", "Kerkstraat",
// "Storgatan", "Koskikatu").
var streetSuffixes = []string{
	"straße", "strasse", "str", "weg", "gasse", "allee", "platz", "ring", "damm", "ufer", "chaussee",
	"steig", "pfad", "markt", "graben", "laan", "straat", "gracht", "plein", "dijk", "kade", "steeg",
	"singel", "hof", "vägen", "vagen", "väg", "gatan", "gata", "vej", "gade", "veien", "vei", "gaten",
	"torget", "katu", "kuja", "tie", "polku", "kaari", "väylä", "raitti", "utca", "út", "körút",
	"tér", "cesta", "ulica", "iela", "gatvė", "gatve", "tänav", "sokak", "sokağı", "caddesi", "vegur",
	"stræde", "allé", "bakken",
}

// unitWords name a unit, box or suite with its number.
var unitWords = toSet("apt", "apartment", "suite", "ste", "unit", "box", "psc", "flat", "wohnung", "piso",
	"apto", "appartement", "interno", "lgh", "bus")

// atom is one whitespace/comma-separated piece of a text, trimmed of
// punctuation, with its lower-cased form for the tables.
type atom struct {
	lo, hi int
	num    bool // a house number: 1–6 digits, maybe one letter or "12-14"
	cap    bool // starts with an upper-case letter
	// llo, lhi: the lower-cased form in the scanner's buffer (empty for
	// numbers and long atoms)
	llo, lhi int
}

// atomsOf splits v into atoms, appending to as.
func atomsOf(v string, as []atom, buf []byte) ([]atom, []byte) {
	as = as[:0]
	buf = buf[:0]
	i := 0
	for i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r' || v[i] == ',' || v[i] == ';' || v[i] == '>' || v[i] == '(' || v[i] == ')' || v[i] == '"') {
			i++
		}
		lo := i
		for i < len(v) && !(v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r' || v[i] == ',' || v[i] == ';' || v[i] == '(' || v[i] == ')' || v[i] == '"') {
			i++
		}
		hi := i
		for hi > lo && (v[hi-1] == '.' || v[hi-1] == ':' || v[hi-1] == '!' || v[hi-1] == '?') {
			hi--
		}
		if hi <= lo {
			continue
		}
		a := atom{lo: lo, hi: hi}
		w := v[lo:hi]
		a.num = houseNumber(w)
		if c := w[0]; c < utf8.RuneSelf {
			a.cap = c >= 'A' && c <= 'Z'
		} else {
			r, _ := utf8.DecodeRuneInString(w)
			a.cap = unicode.IsUpper(r)
		}
		if len(w) <= 32 && !a.num {
			a.llo = len(buf)
			for k := 0; k < len(w); {
				if c := w[k]; c < utf8.RuneSelf {
					buf = append(buf, lowerTab[c])
					k++
					continue
				}
				r, n := utf8.DecodeRuneInString(w[k:])
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
				k += n
			}
			a.lhi = len(buf)
		}
		as = append(as, a)
	}
	return as, buf
}

// houseNumber: 1–6 digits, optionally one letter ("12a") or a range/part
// ("12-14", "12/3").
func houseNumber(w string) bool {
	d := 0
	for d < len(w) && w[d] >= '0' && w[d] <= '9' {
		d++
	}
	if d == 0 || d > 6 {
		return false
	}
	rest := w[d:]
	switch {
	case rest == "":
		return true
	case len(rest) == 1 && (rest[0]|0x20) >= 'a' && (rest[0]|0x20) <= 'z':
		return true
	case len(rest) >= 2 && (rest[0] == '-' || rest[0] == '/') && isDigits(rest[1:]) && len(rest) <= 5:
		return true
	}
	return false
}

// streetSuffixByLast indexes streetSuffixes by their last byte.
var streetSuffixByLast = func() (m [256][]string) {
	for _, suf := range streetSuffixes {
		c := suf[len(suf)-1]
		m[c] = append(m[c], suf)
	}
	return
}()

func hasStreetSuffix(low []byte) bool {
	if len(low) == 0 {
		return false
	}
	for _, suf := range streetSuffixByLast[low[len(low)-1]] {
		if len(low) >= len(suf)+3 && string(low[len(low)-len(suf):]) == suf {
			return true
		}
	}
	return false
}

// addressIn finds the first postal address in v by the grammar above and
// returns its span.
func (s *scanner) addressIn(v string) (lo, hi int, ok bool) {
	if !hasDigit(v) {
		return 0, 0, false
	}
	s.atoms, s.buf = atomsOf(v, s.atoms, s.buf)
	return s.addressAt(v, 0)
}

// addressAt finds the first address whose first atom is at index k0 or
// later (s.atoms holds v's atoms).
func (s *scanner) addressAt(v string, k0 int) (lo, hi int, ok bool) {
	as := s.atoms
	low := func(a atom) []byte { return s.buf[a.llo:a.lhi] }
	num := k0 // the first house-number atom at k or later (len(as): none)
	for k := k0; k < len(as); k++ {
		// Every form below holds a house number within six atoms of its
		// first one: skip ahead to the next number.
		if num < k {
			num = k
		}
		for num < len(as) && !as[num].num {
			num++
		}
		if num == len(as) {
			break
		}
		if num-6 > k {
			k = num - 6
		}
		a := as[k]
		switch {
		case a.num && a.hi-a.lo <= 6:
			// number, 1–4 capitalised words, street type
			for m := k + 1; m < len(as) && m <= k+5; m++ {
				if !as[m].cap && !(m > k+1 && nameParticles[string(low(as[m]))]) {
					break
				}
				if m > k+1 && streetTypesAfter[string(low(as[m]))] && !sameLineBreak(v, as[k].hi, as[m].lo) {
					return a.lo, as[m].hi, true
				}
			}
		case a.cap && hasStreetSuffix(low(a)) && k+1 < len(as) && as[k+1].num && !sameLineBreak(v, a.hi, as[k+1].lo):
			return a.lo, as[k+1].hi, true
		case a.cap && k+2 < len(as) && as[k+1].cap && streetWord(low(as[k+1])) && as[k+2].num && !sameLineBreak(v, a.lo, as[k+2].lo):
			// the street word on its own: "Villacher Strasse 89"
			return a.lo, as[k+2].hi, true
		case a.cap && k+2 < len(as) && streetTypesAfterNumber[string(low(as[k+1]))] && as[k+2].num && v[as[k+1].hi] == '.' && !sameLineBreak(v, a.lo, as[k+2].lo):
			return a.lo, as[k+2].hi, true
		case streetTypesBefore[string(low(a))] && (a.cap || len(low(a)) == 2):
			// type, 1–5 words, number
			for m := k + 1; m < len(as) && m <= k+6; m++ {
				if as[m].num {
					if m > k+1 && !sameLineBreak(v, a.hi, as[m].lo) {
						return a.lo, as[m].hi, true
					}
					break
				}
				if !as[m].cap && !nameParticles[string(low(as[m]))] && !addrParticles[string(low(as[m]))] {
					break
				}
			}
		case unitWords[string(low(a))] && k+1 < len(as) && as[k+1].num && (a.cap || string(low(a)) == "psc" || k > 0 && as[k-1].num):
			return a.lo, as[k+1].hi, true
		case (string(low(a)) == "p.o" || string(low(a)) == "po") && k+2 < len(as) && string(low(as[k+1])) == "box" && as[k+2].num:
			return a.lo, as[k+2].hi, true
		}
	}
	return 0, 0, false
}

// streetWord: a street suffix standing as a word of its own ("Strasse",
// "Weg", "Straat", "Gata").
func streetWord(low []byte) bool {
	if len(low) == 0 {
		return false
	}
	for _, suf := range streetSuffixByLast[low[len(low)-1]] {
		if string(low) == suf {
			return true
		}
	}
	return false
}

// addrParticles may stand in lower case inside a street name.
var addrParticles = toSet("de", "del", "della", "delle", "dei", "degli", "da", "do", "dos", "das", "des", "du",
	"la", "le", "les", "los", "las", "di", "d'", "von", "van", "der", "i", "e", "y", "et", "z", "na")

// sameLineBreak reports a line break between two offsets (an address's
// street and number stand on one line).
func sameLineBreak(v string, a, b int) bool {
	return strings.IndexByte(v[a:b], '\n') >= 0
}

// addressesInText finds the postal addresses in free text; their spans
// are kept in s.addr so that the words of a street ("Victor Hugo u. 49")
// are no person.
func (s *scanner) addressesInText(v string) {
	s.addr = s.addr[:0]
	if !hasDigit(v) {
		return
	}
	s.atoms, s.buf = atomsOf(v, s.atoms, s.buf)
	k := 0
	for k < len(s.atoms) {
		lo, hi, ok := s.addressAt(v, k)
		if !ok {
			break
		}
		if len(s.addr) == 0 {
			s.ctxLo, s.ctxHi = lo-ctxWindow, hi+ctxWindow/2
			s.add(det{c: cPostalAddress, conf: 0.75, rule: "text:postal_address", raw: v[lo:hi]})
		}
		s.addr = append(s.addr, [2]int{lo, hi})
		for k < len(s.atoms) && s.atoms[k].lo < hi {
			k++
		}
	}
}

// inAddress reports that [lo,hi) overlaps an address found in the text.
func (s *scanner) inAddress(lo, hi int) bool {
	for _, a := range s.addr {
		if lo < a[1] && a[0] < hi {
			return true
		}
	}
	return false
}
