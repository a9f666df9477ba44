package classify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// mask renders a detection as an example that says what the value is
// without enough of it to reconstruct it (the class's classDef.mask): at
// most a first character, a provider/scheme prefix, the last four digits of
// a card, or a vendor (OUI) half of a MAC address.
func mask(d det) string {
	if d.c < numClasses && classTable[d.c].mask != nil {
		return classTable[d.c].mask(d)
	}
	return "***"
}

// maskToken masks auth tokens and API keys: a provider prefix where the
// detector allows one, the label, and the length.
func maskToken(d det) string {
	v := d.raw
	lbl := d.label
	if lbl == "" {
		lbl = "token"
	}
	switch {
	case strings.HasPrefix(lbl, "JWT"):
		return safePrefix(v, 4) + "…[" + lbl + "]"
	case d.prefix > 0:
		return safePrefix(v, d.prefix) + "…[" + lbl + "]"
	}
	return "…[" + lbl + ", " + strconv.Itoa(len(v)) + " chars]"
}

// maskShort masks short names (usernames, SSIDs): the first character.
func maskShort(d det) string {
	if utf8.RuneCountInString(d.raw) <= 3 {
		return "***"
	}
	return first(d.raw) + "***"
}

// first returns the first character of s.
func first(s string) string {
	_, n := utf8.DecodeRuneInString(s)
	return s[:n]
}

func lastN(s string, n int) string {
	if len(s) <= n {
		return ""
	}
	return s[len(s)-n:]
}

// safePrefix returns at most n bytes, cut on a rune boundary, and never
// more than a third of the value.
func safePrefix(s string, n int) string {
	if n > len(s)/3 {
		n = len(s) / 3
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func yearOf(v string) (int, bool) {
	for i := 0; i+4 <= len(v); i++ {
		if isDigits(v[i:i+4]) && (i+4 == len(v) || v[i+4] < '0' || v[i+4] > '9') && (i == 0 || v[i-1] < '0' || v[i-1] > '9') {
			y, _ := strconv.Atoi(v[i : i+4])
			if y >= 1900 && y <= 2100 {
				return y, true
			}
		}
	}
	return 0, false
}
