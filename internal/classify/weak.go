package classify

import (
	"strings"
	"time"
)

// Recall for device ids, user names and dates of birth written in free
// text or spelled in ways the first rules did not read: dates in national
// formats and with month names, a date after a birth word, an IMEI or a
// serial after a device word, a login name after a user word or in a URL.

// monthNames maps month names and their abbreviations in English, German,
// French, Spanish, Italian, Portuguese and Dutch (lower case) to the month.
var monthNames = func() map[string]int {
	m := map[string]int{}
	for i, names := range [12]string{
		"january jan janvier janv enero ene gennaio gen janeiro januar januari jänner",
		"february feb février fevrier févr fevr febrero febbraio fevereiro fev februar februari",
		"march mar märz maerz marz mrz mars marzo março marco maart",
		"april apr avril avr abril abr aprile",
		"may mai mayo maggio mag maio mei",
		"june jun juin junio giugno giu junho juni",
		"july jul juillet juil julio luglio lug julho juli",
		"august aug août aout agosto ago augustus",
		"september sep sept septembre septiembre settembre set setembro",
		"october oct octobre octubre ottobre ott outubro out oktober okt",
		"november nov novembre noviembre novembro",
		"december dec décembre decembre déc diciembre dic dicembre dezembro dez dezember",
	} {
		for _, w := range strings.Fields(names) {
			m[w] = i + 1
		}
	}
	return m
}()

// parseDOB reads a date of birth: every spelling parseDate reads, and
// one-digit days and months (7.3.1985, 1985-3-7), two-digit years
// (07/03/85), month names in seven languages (7 March 1985, March 7, 1985,
// 07-Mar-1985, 7. März 1985, 7 de marzo de 1985) and 1985年3月7日.
func parseDOB(v string, now time.Time) (int, bool) {
	if y, ok := parseDate(v, now); ok {
		return y, true
	}
	if len(v) < 6 || len(v) > 40 {
		return 0, false
	}
	if t := strings.IndexByte(v, 'T'); t >= 8 && t <= 10 {
		v = v[:t]
	}
	var nums [3]int
	var widths [3]int
	n, month, monthAt := 0, 0, -1
	for i := 0; i < len(v); {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			j := i
			x := 0
			for j < len(v) && v[j] >= '0' && v[j] <= '9' && j-i < 5 {
				x = x*10 + int(v[j]-'0')
				j++
			}
			if n == 3 || j-i == 3 || j-i > 4 {
				return 0, false
			}
			nums[n], widths[n] = x, j-i
			n++
			// ordinal suffixes (1st, 2nd, 3rd, 4th, 1er)
			for j < len(v) && j-i < 6 && (v[j]|0x20) >= 'a' && (v[j]|0x20) <= 'z' && month == 0 && monthAt < 0 && isOrdinal(v[i:j], v[j:]) {
				j++
			}
			i = j
		case c == '-' || c == '.' || c == '/' || c == ' ' || c == ',':
			i++
		case c >= 0x80 && strings.HasPrefix(v[i:], "年") || strings.HasPrefix(v[i:], "月") || strings.HasPrefix(v[i:], "日"):
			i += len("年")
		default:
			j := i
			for j < len(v) && !(v[j] >= '0' && v[j] <= '9' || v[j] == '-' || v[j] == '.' || v[j] == '/' || v[j] == ' ' || v[j] == ',') {
				j++
			}
			w := lowerASCII(v[i:j])
			switch {
			case w == "de" || w == "del" || w == "of" || w == "the" || w == "st" || w == "nd" || w == "rd" || w == "th" || w == "er":
			case month == 0 && monthNames[w] > 0:
				month, monthAt = monthNames[w], n
			default:
				return 0, false
			}
			i = j
		}
	}
	var y, m, d int
	switch {
	case month > 0 && n == 2:
		m = month
		switch {
		case widths[0] == 4 && widths[1] <= 2:
			y, d = nums[0], nums[1]
		case widths[1] == 4 && widths[0] <= 2:
			d, y = nums[0], nums[1]
		default:
			return 0, false
		}
	case month == 0 && n == 3:
		switch {
		case widths[0] == 4 && widths[1] <= 2 && widths[2] <= 2:
			y, m, d = nums[0], nums[1], nums[2]
		case widths[0] <= 2 && widths[1] <= 2 && (widths[2] == 4 || widths[2] == 2):
			d, m, y = nums[0], nums[1], nums[2]
			if m > 12 && d <= 12 {
				d, m = m, d
			}
			if widths[2] == 2 {
				y += 1900
				if y+100 <= now.Year() {
					y += 100
				}
			}
		default:
			return 0, false
		}
	default:
		return 0, false
	}
	if !pastDate(y, m, d, now) {
		return 0, false
	}
	return y, true
}

// isOrdinal: a day number's ordinal suffix follows (1st, 22nd, 3rd, 7th, 1er).
func isOrdinal(num, rest string) bool {
	if len(rest) < 2 {
		return false
	}
	s := lowerASCII(rest[:2])
	return s == "st" || s == "nd" || s == "rd" || s == "th" || s == "er"
}

// weakText runs the text detectors of this file on free text, before the
// national phone reader (which leaves what they claimed alone).
func (s *scanner) weakText(v string, vc *valueCtx) {
	if vc.groups&(1<<kgCtxDOB|1<<kgCtxDevice|1<<kgCtxUser|1<<kgCtxToken) == 0 {
		return
	}
	for _, h := range vc.hits {
		if h.pos < 0 || h.pos >= len(v) {
			continue
		}
		switch h.group {
		case kgCtxDOB:
			s.dobAfter(v, h.pos)
		case kgCtxDevice:
			s.deviceIDAfter(v, h.pos)
		case kgCtxUser:
			s.usernameAfter(v, h.pos)
		case kgCtxToken:
			s.tokenAfter(v, h.pos)
		}
	}
}

// cueEnd returns the end of the keyword word at pos (its letters and
// the joiners of a compound cue: "device_id", "d.o.b", "Geb.-Datum").
func cueEnd(v string, pos int) int {
	j := pos
	for j < len(v) && (isAlnum(v[j]) || v[j] >= 0x80 || v[j] == '_' || v[j] == '.' && j+1 < len(v) && isAlnum(v[j+1]) || v[j] == '-' && j+1 < len(v) && isAlnum(v[j+1]) && j > pos && v[j-1] == '.') {
		j++
	}
	return j
}

// wordsAfter splits up to max words after i (spaces, ':', '=' and quotes
// between them), returning their spans.
func wordsAfter(v string, i, max int, out [][2]int) [][2]int {
	for len(out) < max && i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == ':' || v[i] == '=' || v[i] == '"' || v[i] == '\'' || v[i] == '\t') {
			i++
		}
		j := i
		for j < len(v) && !(v[j] == ' ' || v[j] == '"' || v[j] == '\'' || v[j] == '\t' || v[j] == ';' || v[j] == '\n') {
			j++
		}
		if j == i {
			break
		}
		out = append(out, [2]int{i, j})
		i = j
	}
	return out
}

// dobAfter reads a date within the few words after a birth word ("DOB:
// 07/03/1985", "born on 7 March 1985", "geboren am 7.3.1985", "né le …",
// "nacido el 7 de marzo de 1985").
func (s *scanner) dobAfter(v string, pos int) {
	var buf [8][2]int
	ws := wordsAfter(v, cueEnd(v, pos), 8, buf[:0])
	for a := 0; a < len(ws) && a < 3; a++ {
		for k := min(len(ws)-1, a+4); k >= a; k-- {
			lo, hi := ws[a][0], ws[k][1]
			for hi > lo && (v[hi-1] == ',' || v[hi-1] == '.' || v[hi-1] == ')') {
				if v[hi-1] == '.' && hi-lo >= 2 && isDigits(v[hi-2:hi-1]) && k > a {
					break // "7. März": the dot after a day in the middle
				}
				hi--
			}
			cand := v[lo:hi]
			if k == a && !hasDigit(cand) {
				continue
			}
			if _, ok := parseDOB(cand, s.now); ok {
				s.add(det{c: cDOB, conf: 0.8, rule: "text:date_of_birth", raw: cand})
				return
			}
		}
	}
}

// deviceIDAfter reads an IMEI (15 digits, Luhn; also 2-6-6-1 grouped) or
// a serial/device identifier in the word after a device word.
func (s *scanner) deviceIDAfter(v string, pos int) {
	e := cueEnd(v, pos)
	cue := lowerASCII(v[pos:e])
	var buf [4][2]int
	ws := wordsAfter(v, e, 4, buf[:0])
	for _, w := range ws {
		tok := strings.TrimRight(v[w[0]:w[1]], ".,)")
		if isSerialWord(lowerASCII(strings.TrimRight(tok, ":"))) {
			continue // "serial number: X", "numéro de série X"
		}
		if imeiText(tok) {
			s.add(det{c: cDeviceID, conf: 0.85, rule: "text:imei", raw: tok, label: "imei"})
			return
		}
		if cue == "imei" || s.claimed(tok) {
			return // an IMEI that fails its check is no IMEI
		}
		if bareDeviceWord[cue] {
			// a bare "device" word: only a random-looking identifier
			if !(len(tok) >= 12 && hexID(tok) || uuidShape(tok)) {
				return
			}
		} else if !serialShape(tok) {
			return
		}
		if _, date := parseDOB(tok, s.now); date {
			return
		}
		s.add(det{c: cDeviceID, conf: 0.8, rule: "text:device_id", raw: tok})
		return
	}
}

// tokenAfter reads an opaque token written right after a session or token
// word without a separator ("session 9f2c…x7 expired", "token ab12…"): 20
// or more characters of token alphabet mixing letters and digits, not a
// UUID, not something another detector claimed ("token=…" pairs are the
// pair reader's).
func (s *scanner) tokenAfter(v string, pos int) {
	if pos > 0 && isAlnum(v[pos-1]) {
		return
	}
	e := cueEnd(v, pos)
	if e >= len(v) || v[e] != ' ' {
		return
	}
	switch lowerASCII(v[pos:e]) {
	case "session", "token", "sessionid", "sid", "bearer":
	default:
		return
	}
	i := e + 1
	j := i
	for j < len(v) && !(v[j] == ' ' || v[j] == ',' || v[j] == ';' || v[j] == '"' || v[j] == '\'' || v[j] == ')') {
		j++
	}
	tok := strings.TrimRight(v[i:j], ".:")
	if len(tok) < 20 || !hasDigit(tok) || !hasLetter(tok) || uuidShape(tok) || !opaqueToken(tok) || hexDateLike(tok) || placeholderSecret(tok) || s.claimed(tok) {
		return
	}
	s.add(det{c: cAuthToken, conf: 0.75, rule: "text:session_token", raw: tok, label: "token"})
}

// bareDeviceWord: a device word that names no identifier.
var bareDeviceWord = toSet("device", "devices", "gerät", "geräte", "appareil", "appareils", "dispositivo", "dispositivos")

// isSerialWord: the words of a compound device cue that may stand
// between the cue and the value.
func isSerialWord(w string) bool {
	switch w {
	case "number", "no", "nr", "num", "id", "de", "di", "série", "serie", "series", "#", "nummer", "numéro", "numero", "número":
		return true
	}
	return false
}

// imeiText: 15 digits passing the Luhn check, whole or grouped 2-6-6-1.
func imeiText(t string) bool {
	if len(t) == 18 && t[2] == '-' && t[9] == '-' && t[16] == '-' {
		t = t[:2] + t[3:9] + t[10:16] + t[17:]
	}
	return len(t) == 15 && isDigits(t) && luhn(t) && t[:8] != "00000000"
}

// hexID: hex digits (any case) with both digits and letters.
func hexID(t string) bool {
	var d, l int
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9':
			d++
		case isHex(c):
			l++
		default:
			return false
		}
	}
	return d > 0 && l > 0
}

// serialShape: a serial number or device identifier — 6 to 64 letters,
// digits and dashes or colons, with a digit, not only digits and dots (a
// version).
func serialShape(t string) bool {
	if len(t) < 6 || len(t) > 64 || !hasDigit(t) {
		return false
	}
	letters := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
		case c|0x20 >= 'a' && c|0x20 <= 'z':
			letters++
		case c == '-' || c == ':' || c == '_':
		default:
			return false
		}
	}
	return letters > 0 || len(t) >= 10
}

// versionLike: digits and dots with a dot (1.4.2), a version under a
// serial-named field.
func versionLike(v string) bool {
	dot := false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '.':
			dot = true
		case c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return dot
}

// usernameAfter reads a login name after a user word: "user=bob",
// "username: bob", `username="bob"`, "for user 'bob'", "user bob logged
// in", "Benutzer bob hat sich angemeldet", and sshd's "password for bob
// from" / "invalid user bob from".
func (s *scanner) usernameAfter(v string, pos int) {
	if pos > 0 && (isAlnum(v[pos-1]) || v[pos-1] == '_' || v[pos-1] == '.' || v[pos-1] == '$' || v[pos-1] == '{' || v[pos-1] == '%') {
		return // inside a word or a reference ($USER, ${user}, %(user)s)
	}
	e := cueEnd(v, pos)
	cue := lowerASCII(v[pos:e])
	sshd := false
	switch cue {
	case "user", "username", "login", "utilisateur", "benutzer", "usuario", "utente", "gebruiker", "uname", "user_name", "user-name", "login_name":
	case "password", "publickey":
		// sshd: "Accepted password for X from", "Failed publickey for X from"
		if !strings.HasPrefix(v[e:], " for ") {
			return
		}
		e += 4
		sshd = true
	default:
		return
	}
	i := e
	for i < len(v) && v[i] == ' ' {
		i++
	}
	assigned, colon := false, false
	if i < len(v) && (v[i] == '=' || v[i] == ':') {
		assigned, colon = true, v[i] == ':'

		i++
		for i < len(v) && v[i] == ' ' {
			i++
		}
	}
	quoted := false
	if i < len(v) && (v[i] == '"' || v[i] == '\'' || v[i] == '`') {
		quoted = true
		i++
	}
	j := i
	for j < len(v) && (isAlnum(v[j]) || v[j] == '.' || v[j] == '_' || v[j] == '-' || v[j] == '\\') {
		j++
	}
	tok := strings.TrimRight(v[i:j], ".-")
	if len(tok) < 2 || len(tok) > 32 || j < len(v) && (v[j] == '@' || v[j] == '(' || v[j] == '$' || v[j] == '{') || isDigits(tok) || !hasLetter(tok) {
		return
	}
	lo := lowerASCII(tok)
	if userStop[lo] || placeholderSecret(tok) {
		return
	}
	if quoted && j < len(v) && v[j] != v[i-1] {
		return
	}
	next := ""
	if k := j; k < len(v) && v[k] == ' ' {
		k++
		m := k
		for m < len(v) && v[m] >= 'a' && v[m] <= 'z' || m < len(v) && v[m] >= 0x80 {
			m++
		}
		next = v[k:m]
	}
	handle := false
	for k := 1; k < len(tok)-1; k++ {
		if c := tok[k]; c == '.' || c == '_' || c == '-' || c >= '0' && c <= '9' || c == '\\' {
			handle = true
			break
		}
	}
	switch {
	case sshd || cue == "user" && next == "from":
		if next != "from" {
			return
		}
	case colon && !quoted && !handle && j+1 < len(v) && v[j] == ' ' && isAlnum(v[j+1]):
		return // "User: Vilma Holm" — a speaker's label before prose
	case assigned || quoted || handle:
	case pos >= 4 && strings.EqualFold(v[pos-4:pos], "for ") && (j >= len(v) || v[j] == ':' || v[j] == ','):
		// "login failed for user bob: bad password"
	case loginVerbs[next] && !roleWords[lo]:
	default:
		return
	}
	if _, date := parseDate(tok, s.now); date {
		return
	}
	s.add(det{c: cUsername, conf: 0.75, rule: "text:username", raw: tok})
}

// userStop: words that follow a user word in prose and are no login.
var userStop = toSet("name", "names", "id", "ids", "not", "is", "was", "has", "have", "had", "the", "a", "an", "and", "or",
	"in", "on", "of", "to", "for", "from", "with", "by", "at", "as", "if", "this", "that", "who", "which", "list",
	"data", "info", "profile", "account", "accounts", "agent", "interface", "input", "group", "groups", "role",
	"roles", "type", "types", "session", "sessions", "settings", "preferences", "request", "requests", "found",
	"exists", "does", "did", "can", "cannot", "must", "should", "will", "would", "may", "clicked", "logged",
	"unknown", "none", "null", "nil", "undefined", "invalid", "anonymous", "inconnu", "nicht", "non", "no",
	"nao", "não", "desconocido", "sconosciuto", "onbekend", "page", "form", "failed", "succeeded", "successful",
	"attempt", "attempts", "count", "manual", "guide", "experience", "story", "stories", "base", "level",
	"password", "passwords", "credentials", "login", "logout", "user", "users", "username", "details", "record",
	"table", "object", "model", "entity", "field", "fields", "value", "key", "token", "mode", "access", "rights",
	"permissions", "se", "s", "est", "ist", "es", "è", "is", "de", "du", "der", "die", "das", "el", "la", "il",
	"le", "les", "een", "het")

// roleWords: default accounts that are also role words in prose ("user
// admin logged in" may name the role): read only when assigned or quoted.
var roleWords = toSet("admin", "administrator", "root", "guest", "system", "operator", "superuser", "test", "demo")

// loginVerbs: a word after "user X" that says X logged in or out.
var loginVerbs = toSet("logged", "signed", "authenticated", "connected", "disconnected", "logs", "connecté", "connecte",
	"déconnecté", "deconnecte", "hat", "ist", "wurde", "inició", "inicio", "cerró", "cerro", "conectado", "desconectado",
	"disconnesso", "connesso", "ha", "ingelogd", "uitgelogd", "heeft", "login", "logout", "authenticated.")
