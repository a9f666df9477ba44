package classify

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Validators confirm that a value which has the right shape really is what
// it looks like. They take the value as it came and allocate nothing on the
// common (rejecting) path.

// luhn reports whether the digits of s (other bytes ignored) pass the Luhn
// check.
func luhn(s string) bool {
	sum, n := 0, 0
	for i := len(s) - 1; i >= 0; i-- {
		c := s[i]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if n%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		n++
	}
	return n > 0 && sum%10 == 0
}

// cardDigits extracts the digits of a card-shaped value: 13–19 digits,
// optionally grouped by single spaces or dashes. It returns the digit count
// and the digits in buf.
func cardDigits(s string, buf *[19]byte) int {
	n := 0
	var sep byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == 19 {
				return 0
			}
			buf[n] = c
			n++
		case c == ' ' || c == '-':
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' || s[i-1] == '-' {
				return 0
			}
			if sep != 0 && c != sep {
				return 0
			}
			sep = c
		default:
			return 0
		}
	}
	if n < 13 {
		return 0
	}
	return n
}

// cardBrand checks the issuer prefix and length of a card number and names
// the network; "" when no network issues such numbers.
func cardBrand(d []byte) string {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p3 := p2*10 + int(d[2]-'0')
	p4 := p3*10 + int(d[3]-'0')
	p6 := p4*100 + int(d[4]-'0')*10 + int(d[5]-'0')
	switch {
	case d[0] == '4' && (n == 13 || n == 16 || n == 19):
		return "visa"
	case (p2 >= 51 && p2 <= 55 || p4 >= 2221 && p4 <= 2720) && n == 16:
		return "mastercard"
	case (p2 == 34 || p2 == 37) && n == 15:
		return "amex"
	case (p4 == 6011 || p2 == 65 || p3 >= 644 && p3 <= 649 || p6 >= 622126 && p6 <= 622925) && n >= 16 && n <= 19:
		return "discover"
	case p4 >= 3528 && p4 <= 3589 && n >= 16 && n <= 19 || (p4 == 2131 || p4 == 1800) && n == 15:
		return "jcb"
	case (p3 >= 300 && p3 <= 305 || p2 == 36 || p2 == 38 || p2 == 39) && n >= 14 && n <= 19:
		return "diners"
	case p2 == 62 && n >= 16 && n <= 19:
		return "unionpay"
	case (p2 == 50 || p2 >= 56 && p2 <= 69) && n >= 12 && n <= 19:
		return "maestro"
	case p4 == 2200 || p4 == 2201 || p4 == 2202 || p4 == 2203 || p4 == 2204:
		if n == 16 {
			return "mir"
		}
	}
	return ""
}

// testCards are the well-known numbers payment providers publish for
// testing. They pass Luhn and look like cards, but they are public, belong
// to no one, and a table full of them is a test fixture, not cardholder
// data: the engine does not count them as payment_card.
var testCards = toSet(
	"4111111111111111", "4242424242424242", "4012888888881881", "4222222222222",
	"4000056655665556", "4000000000000002", "4000000000000077", "4000000000000093",
	"4000000000009995", "4000000000000069", "4000000000000127", "4000000000000119",
	"4000002500003155", "4000002760003184", "4000000000003220", "4005519200000004",
	"4009348888881881", "4012000033330026", "4012000077777777", "4217651111111119",
	"4500600000000061", "4444333322221111", "4917610000000000", "4462030000000000",
	"4917300800000000", "4484070000000000", "5555555555554444", "5105105105105100",
	"5200828282828210", "5454545454545454", "5431111111111111", "5500000000000004",
	"2223003122003222", "2222400070000005", "5425233430109903", "2223000048410010",
	"378282246310005", "371449635398431", "378734493671000", "340000000000009",
	"370000000000002", "6011111111111117", "6011000990139424", "6011000000000004",
	"6011601160116611", "6445644564456445", "30569309025904", "38520000023237",
	"36148900647913", "3530111333300000", "3566002020360505", "3566111111111113",
	"6200000000000005", "6250941006528599", "6304000000000000", "6759649826438453",
	"6799990100000000019", "5019717010103742", "4035501000000008", "4360000001000005",
)

// isIPv4Shape: digits and exactly three dots.
func parseIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(s); err2 == nil {
			return ap.Addr(), true
		}
		return netip.Addr{}, false
	}
	return a, true
}

// macShape recognises 00:11:22:33:44:55, 00-11-22-33-44-55 and
// 0011.2233.4455; bare 12-hex only when allowBare.
func macShape(s string, allowBare bool) bool {
	switch len(s) {
	case 17:
		sep := s[2]
		if sep != ':' && sep != '-' {
			return false
		}
		for i := 0; i < 17; i++ {
			if i%3 == 2 {
				if s[i] != sep {
					return false
				}
			} else if !isHex(s[i]) {
				return false
			}
		}
	case 14:
		for i := 0; i < 14; i++ {
			if i == 4 || i == 9 {
				if s[i] != '.' {
					return false
				}
			} else if !isHex(s[i]) {
				return false
			}
		}
	case 12:
		if !allowBare {
			return false
		}
		for i := 0; i < 12; i++ {
			if !isHex(s[i]) {
				return false
			}
		}
	default:
		return false
	}
	// All-zero and broadcast addresses are placeholders.
	zero, ff := true, true
	for i := 0; i < len(s); i++ {
		if isHex(s[i]) {
			if s[i] != '0' {
				zero = false
			}
			if s[i] != 'f' && s[i] != 'F' {
				ff = false
			}
		}
	}
	return !zero && !ff
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// emailOK validates the syntax of an address and the shape of its domain:
// dot-atom local part, at least two labels, an alphabetic TLD.
func emailOK(s string) bool {
	if len(s) < 6 || len(s) > 254 {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if !utf8.ValidString(local) {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if isAlnum(c) || c >= 0x80 || strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 {
			if c == '.' && i > 0 && local[i-1] == '.' {
				return false
			}
			continue
		}
		return false
	}
	return domainOK(domain)
}

// domainOK: at least two labels of [a-z0-9-], none starting or ending with
// '-', and an alphabetic TLD of two or more letters (or an IDN "xn--" one).
func domainOK(d string) bool {
	if len(d) < 4 || len(d) > 253 {
		return false
	}
	labels := 0
	start := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !isAlnum(c) && c != '-' {
				return false
			}
			continue
		}
		l := d[start:i]
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		labels++
		if i == len(d) {
			// TLD
			if strings.HasPrefix(l, "xn--") {
				return labels >= 2
			}
			if len(l) < 2 {
				return false
			}
			for j := 0; j < len(l); j++ {
				c := l[j] | 0x20
				if c < 'a' || c > 'z' {
					return false
				}
			}
		}
		start = i + 1
	}
	return labels >= 2
}

// jwtAlg validates a JSON Web Token (three base64url parts, a JSON header
// with "alg") and returns its algorithm.
func jwtAlg(s string) (string, bool) {
	if len(s) < 20 || !strings.HasPrefix(s, "eyJ") {
		return "", false
	}
	d1 := strings.IndexByte(s, '.')
	if d1 < 0 {
		return "", false
	}
	d2 := strings.IndexByte(s[d1+1:], '.')
	if d2 < 0 {
		return "", false
	}
	d2 += d1 + 1
	if strings.IndexByte(s[d2+1:], '.') >= 0 {
		return "", false
	}
	head, payload, sig := s[:d1], s[d1+1:d2], s[d2+1:]
	if len(head) > 1024 || len(payload) < 2 || !b64url(head) || !b64url(payload) || !b64url(sig) {
		return "", false
	}
	if !strings.HasPrefix(payload, "eyJ") && !strings.HasPrefix(payload, "ey") {
		return "", false
	}
	var buf [768]byte
	head = strings.TrimRight(head, "=")
	if head == "" {
		return "", false
	}
	// Decode reads the header in place (no copy of the value).
	n, err := base64.RawURLEncoding.Decode(buf[:], unsafe.Slice(unsafe.StringData(head), len(head)))
	if err != nil {
		return "", false
	}
	alg := jsonStringField(buf[:n], "alg")
	if len(alg) == 0 || len(alg) > 16 || buf[0] != '{' {
		return "", false
	}
	for _, c := range alg {
		if !isAlnum(c) && c != '-' && c != '+' {
			return "", false
		}
	}
	if string(alg) == "none" && sig != "" {
		return "", false
	}
	for _, a := range knownAlgList {
		if string(alg) == a {
			return a, true
		}
	}
	return "other", true
}

// knownAlgs are the JOSE algorithms an example may name; others show as
// "other" so that no header text reaches a finding.
var knownAlgs = toSet(knownAlgList...)

var knownAlgList = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "ES512",
	"PS256", "PS384", "PS512", "EdDSA", "ES256K", "none", "dir", "RSA-OAEP", "RSA-OAEP-256", "A128KW", "A256KW"}

// jsonStringField finds "name": "value" at any level of a small JSON
// object and returns value (empty if absent or not a plain string), a
// slice of b.
func jsonStringField(b []byte, name string) []byte {
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(name))
		if i < 0 {
			return nil
		}
		i += off
		off = i + 1
		if i == 0 || b[i-1] != '"' || i+len(name) >= len(b) || b[i+len(name)] != '"' {
			continue
		}
		s := bytes.TrimLeft(b[i+len(name)+1:], " \t\r\n")
		if len(s) == 0 || s[0] != ':' {
			return nil
		}
		s = bytes.TrimLeft(s[1:], " \t\r\n")
		if len(s) == 0 || s[0] != '"' {
			return nil
		}
		end := bytes.IndexByte(s[1:], '"')
		if end < 0 || bytes.IndexByte(s[1:end+1], '\\') >= 0 {
			return nil
		}
		return s[1 : end+1]
	}
}

func b64url(s string) bool {
	for i := 0; i < len(s); i++ {
		if !b64urlTab[s[i]] {
			return false
		}
	}
	return true
}

// b64urlTab marks the base64url alphabet and padding.
var b64urlTab = func() (t [256]bool) {
	for c := range t {
		t[c] = isAlnum(byte(c)) || c == '-' || c == '_' || c == '='
	}
	return
}()

// ibanLen is the IBAN length per country (ISO 13616 registry, subset of the
// countries that issue them).
var ibanLen = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20,
	"LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18,
	"NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
	"SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
	"TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}

// ibanOK checks country, length and the ISO 7064 mod-97 check digits.
// Spaces are allowed between groups.
func ibanOK(s string) bool {
	var buf [34]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			continue
		}
		if n == 34 || !isAlnum(c) {
			return false
		}
		if c >= 'a' && c <= 'z' {
			c -= 32
		}
		buf[n] = c
		n++
	}
	if n < 15 {
		return false
	}
	if want, ok := ibanLen[string(buf[:2])]; !ok || want != n {
		return false
	}
	if buf[2] < '0' || buf[2] > '9' || buf[3] < '0' || buf[3] > '9' {
		return false
	}
	rem := 0
	for i := 0; i < n; i++ {
		c := buf[(i+4)%n]
		if c >= '0' && c <= '9' {
			rem = (rem*10 + int(c-'0')) % 97
		} else {
			v := int(c-'A') + 10
			rem = (rem*100 + v) % 97
		}
	}
	return rem == 1
}

// hashKind names the password-hash scheme of a crypt-style or hex value.
func hashKind(s string) string {
	switch {
	case len(s) == 60 && (strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$") || strings.HasPrefix(s, "$2x$")):
		if s[4] >= '0' && s[4] <= '3' && s[5] >= '0' && s[5] <= '9' && s[6] == '$' && bcryptAlphabet(s[7:]) {
			return "bcrypt"
		}
	case strings.HasPrefix(s, "$argon2id$") || strings.HasPrefix(s, "$argon2i$") || strings.HasPrefix(s, "$argon2d$"):
		if strings.Count(s, "$") >= 4 && strings.Contains(s, "m=") {
			return "argon2"
		}
	case strings.HasPrefix(s, "$scrypt$") || strings.HasPrefix(s, "$7$"):
		if strings.Count(s, "$") >= 3 && len(s) > 30 {
			return "scrypt"
		}
	case strings.HasPrefix(s, "$y$") || strings.HasPrefix(s, "$gy$"):
		if strings.Count(s, "$") >= 4 && len(s) > 30 {
			return "yescrypt"
		}
	case strings.HasPrefix(s, "$6$") || strings.HasPrefix(s, "$5$"):
		last := s[strings.LastIndexByte(s, '$')+1:]
		if (len(last) == 86 || len(last) == 43) && bcryptAlphabet(last) {
			return "sha-crypt"
		}
	case strings.HasPrefix(s, "$1$") || strings.HasPrefix(s, "$apr1$"):
		last := s[strings.LastIndexByte(s, '$')+1:]
		if len(last) == 22 && bcryptAlphabet(last) {
			return "md5-crypt"
		}
	case strings.HasPrefix(s, "pbkdf2_sha256$") || strings.HasPrefix(s, "pbkdf2_sha1$") || strings.HasPrefix(s, "pbkdf2:sha256:") || strings.HasPrefix(s, "$pbkdf2"):
		if len(s) > 40 {
			return "pbkdf2"
		}
	case strings.HasPrefix(s, "{SSHA}") || strings.HasPrefix(s, "{SHA}") || strings.HasPrefix(s, "{SSHA512}") || strings.HasPrefix(s, "{CRYPT}"):
		if len(s) > 20 {
			return "ldap"
		}
	case strings.HasPrefix(s, "sha1$") || strings.HasPrefix(s, "md5$") || strings.HasPrefix(s, "bcrypt_sha256$") || strings.HasPrefix(s, "argon2$"):
		if len(s) > 30 {
			return "django"
		}
	}
	return ""
}

// hexHashKind names a bare hex digest by length (md5/ntlm, sha1, sha256,
// sha512); counted as password_hash only under a password-ish field name.
func hexHashKind(s string) string {
	switch len(s) {
	case 32, 40, 64, 128:
	default:
		return ""
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return ""
		}
	}
	switch len(s) {
	case 32:
		return "md5"
	case 40:
		return "sha1"
	case 64:
		return "sha256"
	}
	return "sha512"
}

func bcryptAlphabet(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

// uuidShape: 8-4-4-4-12 hex.
func uuidShape(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// ssnOK validates a US social security number in ddd-dd-dddd form.
func ssnOK(s string) bool {
	if len(s) != 11 || s[3] != '-' || s[6] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i == 3 || i == 6 {
			continue
		}
		if c < '0' || c > '9' {
			return false
		}
	}
	area := s[:3]
	if area == "000" || area == "666" || area[0] == '9' || s[4:6] == "00" || s[7:] == "0000" {
		return false
	}
	// Publicly known and advertised numbers.
	if s == "078-05-1120" || s == "219-09-9999" || s == "123-45-6789" {
		return false
	}
	return true
}

// ninoOK validates the shape of a UK National Insurance number (AB123456C).
func ninoOK(s string) bool {
	t := strings.ReplaceAll(s, " ", "")
	if len(t) != 9 {
		return false
	}
	t = strings.ToUpper(t)
	for i := 0; i < 2; i++ {
		if t[i] < 'A' || t[i] > 'Z' || strings.IndexByte("DFIQUV", t[i]) >= 0 {
			return false
		}
	}
	if t[1] == 'O' {
		return false
	}
	switch t[:2] {
	case "BG", "GB", "NK", "KN", "TN", "NT", "ZZ":
		return false
	}
	for i := 2; i < 8; i++ {
		if t[i] < '0' || t[i] > '9' {
			return false
		}
	}
	return t[8] >= 'A' && t[8] <= 'D'
}

// dniOK validates a Spanish DNI (8 digits + mod-23 letter).
func dniOK(s string) bool {
	if len(s) != 9 {
		return false
	}
	n := 0
	for i := 0; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
		n = n*10 + int(s[i]-'0')
	}
	return "TRWAGMYFPDXBNJZSQVHLCKE"[n%23] == s[8]&^0x20
}
