package classify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// mask renders a detection as an example that says what the value is
// without enough of it to reconstruct it: at most a first character, a
// provider/scheme prefix, the last four digits of a card, or a vendor (OUI)
// half of a MAC address.
func mask(d det) string {
	v := d.raw
	switch d.c {
	case cEmail:
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return "***@***"
		}
		dom := v[at+1:]
		dot := strings.LastIndexByte(dom, '.')
		if dot <= 0 {
			return first(v) + "***@***"
		}
		return first(v) + "***@" + first(dom) + strings.Repeat("*", min(utf8.RuneCountInString(dom[:dot])-1, 8)) + strings.ToLower(dom[dot:])
	case cAuthToken, cAPIKey:
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
	case cPasswordHash:
		lbl := d.label
		if lbl == "" {
			lbl = "hash"
		}
		if d.prefix > 0 {
			return safePrefix(v, d.prefix) + "…[" + lbl + "]"
		}
		return "…[" + lbl + "]"
	case cPassword:
		return "[password, " + strconv.Itoa(utf8.RuneCountInString(v)) + " chars]"
	case cCard:
		digits := d.norm
		if len(digits) < 12 {
			return "••••[card]"
		}
		return "••••" + digits[len(digits)-4:] + " [" + d.label + "]"
	case cBank:
		if d.label == "iban" && len(d.norm) > 6 {
			return d.norm[:2] + "••…••" + d.norm[len(d.norm)-2:] + " [iban]"
		}
		return "••••[account]"
	case cNationalID:
		lbl := d.label
		if lbl == "" {
			lbl = "national id"
		}
		return "•••[" + lbl + "]"
	case cPhone:
		n := d.norm
		if n == "" {
			n = v
		}
		if len(n) > 6 && n[0] == '+' {
			// country code (up to 3 digits) and the last two digits
			cc := n[1:2]
			return "+" + cc + "•••••" + n[len(n)-2:]
		}
		return "•••••" + lastN(n, 2)
	case cIP:
		if strings.IndexByte(v, ':') >= 0 && strings.Count(v, ".") != 3 {
			if i := strings.IndexByte(v, ':'); i > 0 {
				return v[:i] + ":…[ipv6]"
			}
			return "…[ipv6]"
		}
		if i := strings.IndexByte(v, '.'); i > 0 {
			return v[:i] + ".x.x.x"
		}
		return "x.x.x.x"
	case cMAC:
		n := d.norm
		if len(n) == 12 {
			return n[0:2] + ":" + n[2:4] + ":" + n[4:6] + ":xx:xx:xx"
		}
		return "xx:xx:xx:xx:xx:xx"
	case cGeo:
		return "[lat/lon]"
	case cDOB:
		if y, ok := yearOf(v); ok {
			return strconv.Itoa(y/10) + "x-xx-xx"
		}
		return "[date]"
	case cPersonName:
		var parts []string
		for _, w := range strings.Fields(v) {
			parts = append(parts, first(w)+"***")
			if len(parts) == 3 {
				break
			}
		}
		return strings.Join(parts, " ")
	case cPostalAddress:
		return "[address, " + strconv.Itoa(len(strings.Fields(v))) + " words]"
	case cWifiSSID, cUsername, cDeviceModel:
		if utf8.RuneCountInString(v) <= 3 {
			return "***"
		}
		if d.c == cDeviceModel {
			return first(v) + first(v[len(first(v)):]) + "***"
		}
		return first(v) + "***"
	case cDeviceID:
		if utf8.RuneCountInString(v) <= 6 {
			return "***"
		}
		return first(v) + "…[" + strconv.Itoa(len(v)) + " chars]"
	}
	return "***"
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
