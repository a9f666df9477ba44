package classify

import (
	"encoding/base64"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The validators are tested by class, not by example: every valid value a
// generator builds is accepted, and every one-character change of it that
// the check is designed to catch is rejected. An independent reference
// implementation (big integers, a doubling table) makes the valid values.

// refLuhnCheck returns the check digit that completes body (doubling table).
func refLuhnCheck(body string) byte {
	dbl := [10]int{0, 2, 4, 6, 8, 1, 3, 5, 7, 9}
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 {
			d = dbl[d]
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

func randDigits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

func TestLuhnCatchesEverySingleDigitError(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 1))
	for k := 0; k < 300; k++ {
		body := randDigits(r, 12+r.IntN(7))
		num := body + string(refLuhnCheck(body))
		if !luhn(num) {
			t.Fatalf("luhn(%s) = false for a valid number", num)
		}
		// Separators are ignored.
		if !luhn(num[:4] + " " + num[4:8] + "-" + num[8:]) {
			t.Fatalf("luhn(%s grouped) = false", num)
		}
		for i := 0; i < len(num); i++ {
			for c := byte('0'); c <= '9'; c++ {
				if c == num[i] {
					continue
				}
				bad := num[:i] + string(c) + num[i+1:]
				if luhn(bad) {
					t.Fatalf("luhn(%s) = true: digit %d of valid %s changed", bad, i, num)
				}
			}
		}
		// Adjacent transpositions (except 09/90, which Luhn cannot see).
		for i := 0; i+1 < len(num); i++ {
			a, b := num[i], num[i+1]
			if a == b || a == '0' && b == '9' || a == '9' && b == '0' {
				continue
			}
			bad := num[:i] + string(b) + string(a) + num[i+2:]
			if luhn(bad) {
				t.Fatalf("luhn(%s) = true: transposition at %d of %s", bad, i, num)
			}
		}
	}
	for _, s := range []string{"", "-", "abc", " "} {
		if luhn(s) {
			t.Errorf("luhn(%q) = true: no digits is no number", s)
		}
	}
}

func TestCardDigits(t *testing.T) {
	var buf [19]byte
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"4539148803436467", "4539148803436467"},
		{"4539 1488 0343 6467", "4539148803436467"},
		{"4539-1488-0343-6467", "4539148803436467"},
		{"3714 496353 98431", "371449635398431"},
		{"4222222222222", "4222222222222"},             // 13: shortest
		{"6799990100000000019", "6799990100000000019"}, // 19: longest
		{"422222222222", ""},                           // 12 digits
		{"67999901000000000190", ""},                   // 20 digits
		{"4539 1488-0343 6467", ""},                    // mixed separators
		{"4539  1488 0343 6467", ""},                   // double separator
		{" 4539148803436467", ""},                      // leading separator
		{"4539148803436467 ", ""},                      // trailing separator
		{"-4539148803436467", ""},
		{"4539148803436467-", ""},
		{"4539 1488 -0343 6467", ""},
		{"4539.1488.0343.6467", ""}, // other separator
		{"4539x1488034364670", ""},
	} {
		n := cardDigits(tc.in, &buf)
		if got := string(buf[:n]); got != tc.want {
			t.Errorf("cardDigits(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCardBrandPrefixesAndLengths(t *testing.T) {
	// num builds a number of length n with the given prefix.
	num := func(prefix string, n int) []byte {
		return []byte(prefix + strings.Repeat("0", n-len(prefix)))
	}
	for _, tc := range []struct {
		prefix string
		n      int
		want   string
	}{
		{"4", 13, "visa"}, {"4", 16, "visa"}, {"4", 19, "visa"}, {"4", 15, ""}, {"4", 17, ""},
		{"51", 16, "mastercard"}, {"55", 16, "mastercard"}, {"51", 15, ""}, {"55", 17, ""},
		{"2221", 16, "mastercard"}, {"2720", 16, "mastercard"}, {"2220", 16, ""}, {"2721", 16, ""},
		{"34", 15, "amex"}, {"37", 15, "amex"}, {"34", 16, ""}, {"35", 15, ""}, {"33", 15, ""},
		{"6011", 16, "discover"}, {"6011", 19, "discover"}, {"6011", 15, "maestro"}, {"6011", 20, ""},
		{"65", 16, "discover"}, {"644", 16, "discover"}, {"649", 16, "discover"},
		{"643", 16, "maestro"}, {"622126", 16, "discover"}, {"622925", 16, "discover"},
		{"622125", 16, "unionpay"}, {"622926", 16, "unionpay"},
		{"2131", 15, "jcb"}, {"1800", 15, "jcb"}, {"2131", 16, ""}, {"1801", 15, ""},
		{"3528", 16, "jcb"}, {"3589", 19, "jcb"}, {"3527", 16, ""}, {"3590", 16, ""}, {"3528", 15, ""}, {"3528", 20, ""},
		{"300", 14, "diners"}, {"305", 14, "diners"}, {"36", 14, "diners"}, {"38", 16, "diners"}, {"39", 19, "diners"},
		{"306", 14, ""}, {"299", 14, ""}, {"36", 13, ""}, {"36", 20, ""},
		{"62", 16, "unionpay"}, {"62", 19, "unionpay"}, {"62", 15, "maestro"}, {"62", 20, ""},
		{"50", 12, "maestro"}, {"50", 19, "maestro"}, {"56", 13, "maestro"}, {"69", 13, "maestro"},
		{"57", 20, ""}, {"49", 13, "visa"}, {"70", 16, ""}, {"1", 16, ""}, {"0", 16, ""},
		{"2200", 16, "mir"}, {"2204", 16, "mir"}, {"2205", 16, ""}, {"2200", 17, ""}, {"2199", 16, ""},
	} {
		if got := cardBrand(num(tc.prefix, tc.n)); got != tc.want {
			t.Errorf("cardBrand(%s… %d digits) = %q, want %q", tc.prefix, tc.n, got, tc.want)
		}
	}
}

// refIBAN completes country+bban with ISO 7064 mod-97-10 check digits,
// computed with big integers.
func refIBAN(cc, bban string) string {
	var digits strings.Builder
	for _, c := range bban + cc + "00" {
		if c >= '0' && c <= '9' {
			digits.WriteRune(c)
		} else {
			digits.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	chk := 98 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return cc + string(rune('0'+chk/10)) + string(rune('0'+chk%10)) + bban
}

func TestIBANMod97CatchesEverySingleCharacterError(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 2))
	const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for cc, length := range ibanLen {
		for k := 0; k < 3; k++ {
			b := make([]byte, length-4)
			for i := range b {
				if r.IntN(3) == 0 {
					b[i] = alnum[10+r.IntN(26)]
				} else {
					b[i] = alnum[r.IntN(10)]
				}
			}
			iban := refIBAN(cc, string(b))
			if !ibanOK(iban) {
				t.Fatalf("ibanOK(%s) = false for a valid IBAN", iban)
			}
			if !ibanOK(strings.ToLower(iban)) {
				t.Fatalf("ibanOK(lower %s) = false", iban)
			}
			var grouped strings.Builder
			for i := 0; i < len(iban); i += 4 {
				if i > 0 {
					grouped.WriteByte(' ')
				}
				grouped.WriteString(iban[i:min(i+4, len(iban))])
			}
			if !ibanOK(grouped.String()) {
				t.Fatalf("ibanOK(%s) = false", grouped.String())
			}
			// Every substitution of a digit by a digit or a letter by a letter
			// after the country code changes the number by k·10^p or
			// k·100^p with 0 < |k| < 97, which mod-97 catches (a digit for a
			// letter changes the length and can collide).
			for i := 2; i < len(iban); i++ {
				for j := 0; j < len(alnum); j++ {
					c := alnum[j]
					if c == iban[i] || (c <= '9') != (iban[i] <= '9') {
						continue
					}
					bad := iban[:i] + string(c) + iban[i+1:]
					if ibanOK(bad) {
						t.Fatalf("ibanOK(%s) = true: character %d of valid %s changed", bad, i, iban)
					}
				}
			}
			// One character more or less is the wrong length for the country.
			if ibanOK(iban + "0") {
				t.Fatalf("ibanOK(%s0) = true: too long", iban)
			}
			if ibanOK(iban[:len(iban)-1]) {
				t.Fatalf("ibanOK(%s) = true: too short", iban[:len(iban)-1])
			}
		}
	}
	for _, s := range []string{
		"", "DE", "XX89370400440532013000", // unknown country
		"DEAB370400440532013000",              // letters as check digits
		"DE89-3704-0044-0532-0130-00",         // dashes
		"NO93 8601 1117 94",                   // 14 characters (NO is 15)
		"MT84MALT011000012345MTLCAST001SX",    // 32: MT is 31
		"LC55HEMM000100010012001200023015X0",  // 34 max, wrong length
		"LC55HEMM000100010012001200023015X00", // 35 characters
	} {
		if ibanOK(s) {
			t.Errorf("ibanOK(%q) = true", s)
		}
	}
	for _, s := range []string{"NO9386011117947", "LC55HEMM000100010012001200023015", "MT84MALT011000012345MTLCAST001S"} {
		if !ibanOK(s) {
			t.Errorf("ibanOK(%q) = false (registry example)", s)
		}
	}
}

func b64u(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWTStructure(t *testing.T) {
	payload := b64u(`{"sub":"1234567890","iat":1516239022}`)
	sig := b64u("0123456789abcdef0123456789abcdef")
	tok := func(header string) string { return b64u(header) + "." + payload + "." + sig }
	for _, a := range knownAlgList {
		if a == "none" {
			continue
		}
		if got, ok := jwtAlg(tok(`{"alg":"` + a + `","typ":"JWT"}`)); !ok || got != a {
			t.Errorf("jwtAlg(alg %s) = %q, %v", a, got, ok)
		}
	}
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"alg after typ, spaces", tok(`{"typ":"JWT", "alg" : "HS256"}`), "HS256", true},
		{"unknown alg", tok(`{"alg":"XYZ9"}`), "other", true},
		{"alg with + and -", tok(`{"alg":"A-B+C"}`), "other", true},
		{"alg none, no signature", b64u(`{"alg":"none"}`) + "." + payload + ".", "none", true},
		{"padded header", b64u(`{"alg":"HS256"}`) + "==." + payload + "." + sig, "HS256", true},
		{"alg none with a signature", b64u(`{"alg":"none"}`) + "." + payload + "." + sig, "", false},
		{"no alg", tok(`{"typ":"JWT","kid":"k1"}`), "", false},
		{"alg not a string", tok(`{"alg":256}`), "", false},
		{"alg escaped", tok(`{"alg":"HS\u0032"}`), "", false},
		{"alg unterminated", b64u(`{"alg":"HS256`) + "." + payload + "." + sig, "", false},
		{"alg escaped first", tok(`{"alg":"\u0048S256"}`), "", false},
		{"alg empty", tok(`{"alg":""}`), "", false},
		{"alg too long", tok(`{"alg":"ABCDEFGHIJKLMNOPQ"}`), "", false},
		{"alg of 16", tok(`{"alg":"ABCDEFGHIJKLMNOP"}`), "other", true},
		{"alg with a space", tok(`{"alg":"HS 256"}`), "", false},
		{"alg with a dot", tok(`{"alg":"HS.256"}`), "", false},
		{"header an array", b64u(`["alg","HS256"]`) + "." + payload + "." + sig, "", false},
		{"key alg only as a value", tok(`{"x":"alg","y":"HS256"}`), "", false},
		{"nested alg", tok(`{"jwk":{"alg":"RS256"}}`), "RS256", true},
		{"two parts", b64u(`{"alg":"HS256"}`) + "." + payload, "", false},
		{"four parts", tok(`{"alg":"HS256"}`) + ".eyJ4In0", "", false},
		{"payload not JSON-shaped", b64u(`{"alg":"HS256"}`) + ".bm90LWpzb24." + sig, "", false},
		{"payload too short", b64u(`{"alg":"HS256"}`) + ".e." + sig, "", false},
		{"bad character in payload", b64u(`{"alg":"HS256"}`) + "." + payload + "!." + sig, "", false},
		{"bad character in signature", tok(`{"alg":"HS256"}`) + "*", "", false},
		{"bad character in header", "eyJ!" + b64u(`{"alg":"HS256"}`)[4:] + "." + payload + "." + sig, "", false},
		{"header not base64", "eyJhbGciOiJIUzI1NiJ9x." + payload + "." + sig, "", false},
		{"no eyJ prefix", "abc" + tok(`{"alg":"HS256"}`)[3:], "", false},
		{"too short", "eyJhbGc.eyJ.c2ln", "", false},
		{"huge header", tok(`{"alg":"HS256","x":"` + strings.Repeat("a", 800) + `"}`), "", false},
	} {
		got, ok := jwtAlg(tc.in)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: jwtAlg(%.60s…) = %q, %v; want %q, %v", tc.name, tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEmailSyntax(t *testing.T) {
	local64 := strings.Repeat("a", 64)
	label63 := strings.Repeat("b", 63)
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"a@b.co", true}, {"a@b.c", false}, // 6 is the shortest
		{"jane.doe@example.com", true}, {"j+tag@example.com", true}, {"o'brien@example.ie", true},
		{"jürgen@beispiel.de", true}, {"x@xn--80ak6aa92e.com", true}, {"x@example.xn--p1ai", true},
		{local64 + "@example.com", true}, {local64 + "a@example.com", false},
		{"x@" + label63 + ".com", true}, {"x@" + label63 + "b.com", false},
		{"x@" + strings.Repeat("abcdefghi.", 25) + "com", false}, // domain over 253
		{"@example.com", false}, {"jane@", false}, {"jane", false}, {"jane@example", false},
		{".jane@example.com", false}, {"jane.@example.com", false}, {"ja..ne@example.com", false},
		{"ja ne@example.com", false}, {"ja\"ne@example.com", false}, {"\xff\xfe@example.com", false},
		{"jane@example.c0m", false}, {"jane@example.123", false}, {"jane@-example.com", false},
		{"jane@example-.com", false}, {"jane@exa_mple.com", false}, {"jane@example..com", false},
		{"jane@.example.com", false}, {"jane@example.com.", false}, {"jane@xn--", false},
		{strings.Repeat("a", 250) + "@b.co", false}, // over 254
	} {
		if got := emailOK(tc.in); got != tc.ok {
			t.Errorf("emailOK(%.70q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}

func TestMACShape(t *testing.T) {
	for _, tc := range []struct {
		in       string
		bare, ok bool
	}{
		{"a4:5e:60:c2:11:9f", false, true}, {"A4-5E-60-C2-11-9F", false, true}, {"a45e.60c2.119f", false, true},
		{"a45e60c2119f", true, true}, {"a45e60c2119f", false, false},
		{"a4:5e-60:c2:11:9f", false, false}, {"a4.5e.60.c2.11.9f", false, false}, {"a4:5e:60:c2:11:9g", false, false},
		{"a45e:60c2:119f", false, false}, {"a45e.60c2.119g", false, false}, {"a45e60c2119g", true, false},
		{"00:00:00:00:00:00", false, false}, {"ff:ff:ff:ff:ff:ff", false, false}, {"FF-FF-FF-FF-FF-FF", false, false},
		{"0000.0000.0000", false, false}, {"000000000000", true, false}, {"ffffffffffff", true, false},
		{"00:00:00:00:00:01", false, true}, {"ff:ff:ff:ff:ff:fe", false, true}, {"fF:ff:ff:ff:ff:ff", false, false},
		{"a4:5e:60:c2:11", false, false}, {"a4:5e:60:c2:11:9f:00", false, false},
	} {
		if got := macShape(tc.in, tc.bare); got != tc.ok {
			t.Errorf("macShape(%q, bare %v) = %v, want %v", tc.in, tc.bare, got, tc.ok)
		}
	}
}

func TestParseIP(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"203.0.113.7", "203.0.113.7"}, {"203.0.113.7:443", "203.0.113.7"},
		{"2001:db8::1", "2001:db8::1"}, {"[2001:db8::1]:8443", "2001:db8::1"},
		{"203.0.113.256", ""}, {"203.0.113", ""}, {"1.2.3.4.5", ""}, {"2001:db8:::1", ""}, {"", ""},
	} {
		a, ok := parseIP(tc.in)
		got := ""
		if ok {
			got = a.String()
		}
		if got != tc.want {
			t.Errorf("parseIP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestHashShapes(t *testing.T) {
	b53 := "KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS"
	for _, tc := range []struct {
		in, want string
	}{
		{"$2b$12$" + b53, "bcrypt"}, {"$2a$04$" + b53, "bcrypt"}, {"$2y$31$" + b53, "bcrypt"}, {"$2x$10$" + b53, "bcrypt"},
		{"$2b$12$" + b53[1:], ""}, {"$2b$12$" + b53 + "a", ""}, {"$2b$42$" + b53, ""}, {"$2b$1x$" + b53, ""},
		{"$2b$12x" + b53, ""}, {"$2b$12$" + b53[:52] + "!", ""}, {"$2c$12$" + b53, ""},
		{"$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", "argon2"},
		{"$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "argon2"},
		{"$argon2d$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA", "argon2"},
		{"$argon2id$v=19$t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g", ""}, {"$argon2id$m=65536$c2FsdA", ""},
		{"$scrypt$ln=16,r=8,p=1$c2FsdA$aGFzaGhhc2g", "scrypt"}, {"$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn", "scrypt"},
		{"$scrypt$ln=16$short", ""}, {"$scrypt$ln=16,r=8,p=1aaaaaaaaaaaaaaa", ""},
		{"$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7", "yescrypt"},
		{"$gy$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317f", "yescrypt"}, {"$y$j9T$short$x", ""},
		{"$y$j9T$F5Jx5fExrKuPp53xLKQ..1X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd", ""},
		{"$6$saltsalt$" + strings.Repeat("A", 86), "sha-crypt"}, {"$5$rounds=5000$salt$" + strings.Repeat("b", 43), "sha-crypt"},
		{"$6$saltsalt$" + strings.Repeat("A", 85), ""}, {"$6$saltsalt$" + strings.Repeat("A", 87), ""},
		{"$5$salt$" + strings.Repeat("b", 42) + "!", ""},
		{"$1$saltsalt$" + strings.Repeat("c", 22), "md5-crypt"}, {"$apr1$saltsalt$" + strings.Repeat("c", 22), "md5-crypt"},
		{"$1$saltsalt$" + strings.Repeat("c", 21), ""}, {"$1$saltsalt$" + strings.Repeat("c", 21) + "-", ""},
		{"pbkdf2_sha256$600000$salt$" + strings.Repeat("d", 15), "pbkdf2"}, // 41
		{"pbkdf2_sha256$600000$salt$" + strings.Repeat("d", 14), ""},       // 40
		{"pbkdf2:sha256:260000$salt$" + strings.Repeat("e", 20), "pbkdf2"},
		{"$pbkdf2-sha512$25000$salt$" + strings.Repeat("e", 20), "pbkdf2"},
		{"{SSHA}W6ph5Mm5Pz8GgiU", "ldap"}, {"{SSHA}W6ph5Mm5Pz8Ggi", ""}, {"{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", "ldap"},
		{"{SSHA512}" + strings.Repeat("f", 20), "ldap"}, {"{CRYPT}$1$abc$defghijkl", "ldap"},
		{"sha1$salt$" + strings.Repeat("0", 21), "django"}, {"sha1$salt$" + strings.Repeat("0", 20), ""},
		{"md5$salt$" + strings.Repeat("0", 22), "django"}, {"bcrypt_sha256$$2b$12$" + b53, "django"},
		{"argon2$argon2id$v=19$m=512,t=2,p=2$abc", "django"},
		{"$3$whatever-this-is-not-a-known-scheme", ""}, {strings.Repeat("0", 60), ""},
	} {
		if got := hashKind(tc.in); got != tc.want {
			t.Errorf("hashKind(%.40q…, len %d) = %q, want %q", tc.in, len(tc.in), got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int
		want string
	}{{31, ""}, {32, "md5"}, {33, ""}, {39, ""}, {40, "sha1"}, {41, ""}, {63, ""}, {64, "sha256"}, {65, ""}, {127, ""}, {128, "sha512"}, {129, ""}} {
		h := strings.Repeat("a1F9", 40)[:tc.n]
		if got := hexHashKind(h); got != tc.want {
			t.Errorf("hexHashKind(%d hex) = %q, want %q", tc.n, got, tc.want)
		}
		if tc.want != "" {
			if got := hexHashKind(h[:tc.n-1] + "g"); got != "" {
				t.Errorf("hexHashKind(%d chars ending in g) = %q, want none", tc.n, got)
			}
		}
	}
}

func TestUUIDShape(t *testing.T) {
	ok := "7c9e6679-7425-40de-944b-e07fc1f90ae7"
	if !uuidShape(ok) || !uuidShape(strings.ToUpper(ok)) {
		t.Fatalf("uuidShape(%s) = false", ok)
	}
	for i := 0; i < len(ok); i++ {
		for _, c := range []byte{'-', 'g', '0'} {
			if c == ok[i] || c == '0' && ok[i] != '-' {
				continue
			}
			bad := ok[:i] + string(c) + ok[i+1:]
			if uuidShape(bad) {
				t.Errorf("uuidShape(%s) = true", bad)
			}
		}
	}
	for _, s := range []string{ok[:35], ok + "0", strings.ReplaceAll(ok, "-", "")} {
		if uuidShape(s) {
			t.Errorf("uuidShape(%s) = true", s)
		}
	}
}

func TestNationalIDChecks(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"536-22-8714", true}, {"001-01-0001", true}, {"899-99-9999", true},
		{"000-22-8714", false}, {"666-22-8714", false}, {"900-22-8714", false}, {"999-22-8714", false},
		{"536-00-8714", false}, {"536-22-0000", false},
		{"078-05-1120", false}, {"219-09-9999", false}, {"123-45-6789", false},
		{"536228714", false}, {"536-228-714", false}, {"536 22 8714", false}, {"53a-22-8714", false},
		{"536-2b-8714", false}, {"536-22-871c", false}, {"536-22-87145", false},
	} {
		if got := ssnOK(tc.in); got != tc.ok {
			t.Errorf("ssnOK(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"AB123456C", true}, {"ab123456c", true}, {"AB 12 34 56 C", true}, {"CE123456A", true}, {"ZY123456D", true},
		{"AB123456E", false}, {"AB12345C", false}, {"AB1234567C", false}, {"AB12345XC", false},
		{"DA123456A", false}, {"FA123456A", false}, {"IA123456A", false}, {"QA123456A", false},
		{"UA123456A", false}, {"VA123456A", false}, {"AD123456A", false}, {"AF123456A", false},
		{"AI123456A", false}, {"AQ123456A", false}, {"AU123456A", false}, {"AV123456A", false},
		{"AO123456A", false}, {"OA123456A", true},
		{"BG123456A", false}, {"GB123456A", false}, {"NK123456A", false}, {"KN123456A", false},
		{"TN123456A", false}, {"NT123456A", false}, {"ZZ123456A", false},
		{"1B123456A", false}, {"A1123456A", false}, {"AB123456 ", false},
	} {
		if got := ninoOK(tc.in); got != tc.ok {
			t.Errorf("ninoOK(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
	// DNI: the letter is the number mod 23; each of the 22 other letters is
	// rejected.
	const letters = "TRWAGMYFPDXBNJZSQVHLCKE"
	r := rand.New(rand.NewPCG(15, 3))
	for k := 0; k < 200; k++ {
		n := r.IntN(100000000)
		num := strings.Repeat("0", 8-len(big.NewInt(int64(n)).String())) + big.NewInt(int64(n)).String()
		want := letters[n%23]
		for i := 0; i < len(letters); i++ {
			c := letters[i]
			if got := dniOK(num + string(c)); got != (c == want) {
				t.Fatalf("dniOK(%s%c) = %v (check letter %c)", num, c, got, want)
			}
			if c == want && !dniOK(num+strings.ToLower(string(c))) {
				t.Fatalf("dniOK(%s%c) = false (lower case)", num, c+32)
			}
		}
	}
	for _, s := range []string{"1234567Z", "123456789Z", "1234567AZ", "X1234567L"} {
		if dniOK(s) {
			t.Errorf("dniOK(%q) = true", s)
		}
	}
}

func TestSecretKinds(t *testing.T) {
	a := func(n int) string { return strings.Repeat("aB3d", 40)[:n] }
	for _, tc := range []struct {
		in, rule string
	}{
		{"AKIAZ3MHTQWX7D5RNPLE", "value:aws_access_key_id"}, {"ASIAZ3MHTQWX7D5RNPLE", "value:aws_access_key_id"},
		{"AKIAZ3MHTQWX7D5RNPL", ""}, {"AKIAZ3MHTQWX7D5RNPLEX", ""}, {"AKIAz3MHTQWX7D5RNPLE", ""}, {"AKIAIOSFODNN7EXAMPLE", ""},
		{"AKZAZ3MHTQWX7D5RNPLE", ""},
		{"AIza" + a(35), "value:gcp_api_key"}, {"AIza" + a(34), ""}, {"AIza" + a(34) + "!", ""},
		{"xoxb-2048163902-4096327805-Ab3Cd5", "value:slack_token"}, {"xoxp-1-2-3-4abcdef", "value:slack_token"},
		{"xoxz-2048163902-4096327805", ""}, {"xoxb_2048163902-4096327805", ""}, {"xoxb-2048", ""}, {"xoxb-20481639.02-409", ""},
		{"https://hooks.slack.com/services/T0001/B0002/XXXX", "value:slack_webhook"}, {"https://hooks.slack.com/services/", ""},
		{"ghp_" + a(36), "value:github_token"}, {"ghs_" + a(36), "value:github_token"}, {"ghp_" + a(35), ""}, {"ghp_" + a(35) + "-", ""}, {"ghx_" + a(36), ""},
		{"github_pat_" + a(59), "value:github_pat"}, {"github_pat_" + a(58), ""},
		{"sk_live_" + a(12), "value:stripe_live_key"}, {"rk_live_" + a(12), "value:stripe_live_key"}, {"sk_live_" + a(11), ""}, {"sk_live_" + a(11) + "_", ""},
		{"sk_test_" + a(12), "value:stripe_test_key"}, {"sk_test_" + a(11), ""},
		{"glpat-" + a(20), "value:gitlab_pat"}, {"glpat-" + a(19), ""}, {"glpat-" + a(19) + "=", ""},
		{"npm_" + a(36), "value:npm_token"}, {"npm_" + a(35), ""}, {"npm_" + a(37), ""}, {"npm_" + a(35) + "-", ""},
		{"SG." + a(22) + "." + a(43), "value:sendgrid_key"}, {"SG." + a(22) + "x" + a(43), ""}, {"SG." + a(21) + "." + a(43), ""},
		{"SG." + a(22) + "." + a(42) + "!", ""},
		{"sk-proj-" + a(32), "value:ai_provider_key"}, {"sk-ant-" + a(33), "value:ai_provider_key"}, {"sk-proj-" + a(31), ""}, {"sk-proj-" + a(31) + "+", ""},
		{"ya29." + a(35), "value:google_oauth_token"}, {"ya29." + a(34), ""},
		{"AccountName=x;AccountKey=y", "value:azure_storage_connection_string"}, {"AccountKey=y", ""},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIE", "value:pem_private_key"}, {"-----BEGIN OPENSSH PRIVATE KEY-----", "value:pem_private_key"},
		{"-----BEGIN EC PRIVATE KEY----- x", "value:pem_private_key"},
		{"-----BEGIN PUBLIC KEY-----\nMIIB", ""}, {"-----BEGIN CERTIFICATE-----\nMIID", ""},
		{"-----BEGIN SOMETHING VERY LONG THAT PUSHES IT PAST SIXTY FOUR BYTES PRIVATE KEY-----", ""},
	} {
		h, ok := secretKind(tc.in)
		if ok != (tc.rule != "") || h.rule != tc.rule {
			t.Errorf("secretKind(%.50q) = %q, %v; want %q", tc.in, h.rule, ok, tc.rule)
		}
	}
	key := strings.Repeat("Zm9vYmFy", 11)[:86] + "=="
	if !azureKeyShape(key) || azureKeyShape(key[1:]) || azureKeyShape(key[:86]+"=a") || azureKeyShape("!"+key[1:]) {
		t.Error("azureKeyShape: 88 base64 characters ending in == only")
	}
}

func TestOpaqueToken(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"a1b2c3d4e5f6a7b8", true}, {"a1b2c3d4e5f6a7b", false}, // 16 is the shortest
		{strings.Repeat("a1", 2048), true}, {strings.Repeat("a1", 2048) + "b", false},
		{strings.Repeat("7", 20), true}, {strings.Repeat("7", 19), false},
		{strings.Repeat("abcdefgh", 3), true}, {strings.Repeat("abcdefgh", 3)[:23], false}, // lower only: 24
		{"AbcdefghijklmnoP", true}, {"ABCDEFGHIJKLMNOP", false}, // mixed case vs. upper only
		{"a1b2c3d4-e5f6_a7.b8+c9/d0=e1~f2:g3%h4", true}, {"a1b2c3d4e5f6a7b8!", false}, {"a1b2c3d4 e5f6a7b8", false},
	} {
		if got := opaqueToken(tc.in); got != tc.ok {
			t.Errorf("opaqueToken(%.40q, len %d) = %v, want %v", tc.in, len(tc.in), got, tc.ok)
		}
	}
}

func TestParseDateAndCoordinates(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		year int
	}{
		{"1984-03-02", 1984}, {"1984/03/02", 1984}, {"1984.03.02", 1984}, {"02.03.1984", 1984}, {"02/03/1984", 1984},
		{"12/31/1984", 1984}, {"31/12/1984", 1984}, {"19840302", 1984}, {"1984-03-02T10:00:00Z", 1984},
		{"1984-03-02 10:00:00", 1984}, {"1900-01-01", 1900}, {"2025-12-31", 2025}, {"2026-01-01", 2026},
		{"1899-12-31", 0}, {"2026-01-02", 0}, {"2031-05-05", 0}, {"1984-13-02", 0}, {"1984-00-02", 0},
		{"1984-03-32", 0}, {"1984-03-00", 0}, {"1984-03/02", 0}, {"13/13/1984", 0}, {"1984032", 0},
		{"198403021", 0}, {"84-03-02", 0}, {"abcd-ef-gh", 0}, {"2026-01-01T" + strings.Repeat("0", 30), 0},
	} {
		y, ok := parseDate(tc.in, now)
		if ok != (tc.year != 0) || y != tc.year {
			t.Errorf("parseDate(%q) = %d, %v; want %d", tc.in, y, ok, tc.year)
		}
	}
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"48.8566,2.3522", true}, {"48.8566, 2.3522", true}, {"[2.3522, 48.8566]", true}, {"-33.86,151.20", true},
		{"90.0,180.0", true}, {"90.1,180.1", false}, {"-90.0,-180.0", true}, {"48,2", false}, {"48.8566,2", false},
		{"0.0,0.0", false}, {"48.1,2.1,3.1", false}, {"48.1;2.1", false}, {"48.1,abc", false},
		{"POINT(-122.4194 37.7749)", true}, {"POINT (2.35 48.85)", true}, {"POINT(200.1 37.7)", false},
		{"POINT(-122.4 95.5)", false}, {"POINT(0 0)", false}, {"POINT(-122.4194,37.7749)", false}, {"POINT -122 37", false},
	} {
		if got := latLonPair(tc.in); got != tc.ok {
			t.Errorf("latLonPair(%q) = %v, want %v", tc.in, got, tc.ok)
		}
	}
}
