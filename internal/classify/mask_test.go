package classify

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// TestMaskExact pins every branch of mask: what a finding shows of each
// class, and the boundaries where it shows less.
func TestMaskExact(t *testing.T) {
	for _, tc := range []struct {
		d    det
		want string
	}{
		// e-mail: first character, first letter of the domain, stars for
		// the rest of its name (at most 8), the TLD.
		{det{c: cEmail, raw: "jane.doe@example.com"}, "j***@e******.com"},
		{det{c: cEmail, raw: "x@ab.COM"}, "x***@a*.com"},
		{det{c: cEmail, raw: "a@verylongdomainname.org"}, "a***@v********.org"},
		{det{c: cEmail, raw: "a@abcdefghi.org"}, "a***@a********.org"},
		{det{c: cEmail, raw: "a@abcdefgh.org"}, "a***@a*******.org"},
		{det{c: cEmail, raw: "jürgen@müller.de"}, "j***@m*****.de"},
		{det{c: cEmail, raw: "ülla@x.de"}, "ü***@x.de"},
		{det{c: cEmail, raw: "@example.com"}, "***@***"},
		{det{c: cEmail, raw: "jane"}, "***@***"},
		{det{c: cEmail, raw: "jane@localhost"}, "j***@***"},
		{det{c: cEmail, raw: "jane@.com"}, "j***@***"},
		{det{c: cEmail, raw: "a@b@c.example.org"}, "a***@c********.org"},
		// tokens and keys: a provider prefix (never more than a third), or
		// only the label and length.
		{det{c: cAuthToken, raw: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.aGVsbG8", label: "JWT HS256"}, "eyJh…[JWT HS256]"},
		{det{c: cAuthToken, raw: "eyJhbGciOi", label: "JWT none"}, "eyJ…[JWT none]"},
		{det{c: cAPIKey, raw: "AKIAZ3MHTQWX7D5RNPLE", label: "aws key", prefix: 4}, "AKIA…[aws key]"},
		{det{c: cAPIKey, raw: "ghp_abc", label: "github token", prefix: 4}, "gh…[github token]"},
		{det{c: cAPIKey, raw: "abcdefghijkl", label: "key", prefix: 4}, "abcd…[key]"},
		{det{c: cAPIKey, raw: "abcdefghijk", label: "key", prefix: 4}, "abc…[key]"},
		{det{c: cAuthToken, raw: "a8f5f167f44f4964e6c998dee827110c"}, "…[token, 32 chars]"},
		{det{c: cAPIKey, raw: "0123456789abcdef", label: "key"}, "…[key, 16 chars]"},
		// password hashes
		{det{c: cPasswordHash, raw: "$2b$12$KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS", label: "bcrypt", prefix: 7}, "$2b$12$…[bcrypt]"},
		{det{c: cPasswordHash, raw: "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", label: "sha1"}, "…[sha1]"},
		{det{c: cPasswordHash, raw: "abcdefghijabcdefghij"}, "…[hash]"},
		{det{c: cPasswordHash, raw: "abcdefghijabcdefghij", prefix: 3}, "abc…[hash]"},
		// passwords: length in characters only
		{det{c: cPassword, raw: "pässwört"}, "[password, 8 chars]"},
		// cards: last four of the digits and the brand
		{det{c: cCard, raw: "4539 1488 0343 6467", norm: "4539148803436467", label: "visa"}, "••••6467 [visa]"},
		{det{c: cCard, raw: "123456789012", norm: "123456789012", label: "maestro"}, "••••9012 [maestro]"},
		{det{c: cCard, raw: "12345678901", norm: "12345678901", label: "x"}, "••••[card]"},
		// IBANs: country and last two
		{det{c: cBank, raw: "DE89 3704 0044 0532 0130 00", norm: "DE89370400440532013000", label: "iban"}, "DE••…••00 [iban]"},
		{det{c: cBank, raw: "DE8937", norm: "DE8937", label: "iban"}, "••••[account]"},
		{det{c: cBank, raw: "DE89371", norm: "DE89371", label: "iban"}, "DE••…••71 [iban]"},
		{det{c: cBank, raw: "000123456789", norm: "000123456789", label: "account"}, "••••[account]"},
		{det{c: cNationalID, raw: "536-22-8714", label: "ssn"}, "•••[ssn]"},
		{det{c: cNationalID, raw: "X1234567L"}, "•••[national id]"},
		// phones: country code digit and the last two
		{det{c: cPhone, raw: "+49 151 23456789", norm: "+4915123456789"}, "+4•••••89"},
		{det{c: cPhone, raw: "+1234567", norm: "+1234567"}, "+1•••••67"},
		{det{c: cPhone, raw: "+12345", norm: "+12345"}, "•••••45"},
		{det{c: cPhone, raw: "0151 2345678"}, "•••••78"},
		{det{c: cPhone, raw: "12"}, "•••••"},
		{det{c: cPhone, raw: "1234567", norm: "1234567"}, "•••••67"},
		// IPs: first group only
		{det{c: cIP, raw: "203.0.113.7"}, "203.x.x.x"},
		{det{c: cIP, raw: "203.0.113.7:443"}, "203.x.x.x"},
		{det{c: cIP, raw: "2001:db8::1"}, "2001:…[ipv6]"},
		{det{c: cIP, raw: "::1"}, "…[ipv6]"},
		{det{c: cIP, raw: "::ffff:1.2.3.4"}, "::ffff:1.x.x.x"}, // IPv4-mapped: the first octet,
		{det{c: cIP, raw: ".1.2.3"}, "x.x.x.x"},
		{det{c: cIP, raw: "1"}, "x.x.x.x"},
		// MACs: the vendor half
		{det{c: cMAC, raw: "A4-5E-60-C2-11-9F", norm: "a45e60c2119f"}, "a4:5e:60:xx:xx:xx"},
		{det{c: cMAC, raw: "a45e60c2119", norm: "a45e60c2119"}, "xx:xx:xx:xx:xx:xx"},
		{det{c: cGeo, raw: "48.8566,2.3522"}, "[lat/lon]"},
		// dates of birth: the decade
		{det{c: cDOB, raw: "1984-03-02"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "02.03.1984"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "1900-01-01"}, "190x-xx-xx"},
		{det{c: cDOB, raw: "2100-01-01"}, "210x-xx-xx"},
		{det{c: cDOB, raw: "1899-01-01"}, "[date]"},
		{det{c: cDOB, raw: "2101-01-01"}, "[date]"},
		{det{c: cDOB, raw: "19840302"}, "[date]"},
		{det{c: cDOB, raw: "x19840302"}, "[date]"},
		{det{c: cDOB, raw: "319841"}, "[date]"},
		{det{c: cDOB, raw: "3/1984"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "1984"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "198"}, "[date]"},
		{det{c: cDOB, raw: "born x1984"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "1984x"}, "198x-xx-xx"},
		{det{c: cDOB, raw: "91984"}, "[date]"},
		{det{c: cDOB, raw: "19849"}, "[date]"},
		{det{c: cDOB, raw: "01984"}, "[date]"},
		{det{c: cDOB, raw: "19840"}, "[date]"},
		// names: initials of at most three words
		{det{c: cPersonName, raw: "Jean-Luc Picard"}, "J*** P***"},
		{det{c: cPersonName, raw: "Ana María de la Cruz"}, "A*** M*** d***"},
		{det{c: cPersonName, raw: "Åsa  Öberg"}, "Å*** Ö***"},
		{det{c: cPostalAddress, raw: "10 Downing Street, London"}, "[address, 4 words]"},
		// short field-class values show nothing
		{det{c: cWifiSSID, raw: "abc"}, "***"},
		{det{c: cWifiSSID, raw: "abcd"}, "a***"},
		{det{c: cWifiSSID, raw: "äöü"}, "***"},
		{det{c: cWifiSSID, raw: "äöüß"}, "ä***"},
		{det{c: cUsername, raw: "jdoe77"}, "j***"},
		{det{c: cDeviceModel, raw: "Nest Cam"}, "Ne***"},
		{det{c: cDeviceModel, raw: "Ölfühler"}, "Öl***"},
		{det{c: cDeviceModel, raw: "abc"}, "***"},
		{det{c: cDeviceID, raw: "123456"}, "***"},
		{det{c: cDeviceID, raw: "1234567"}, "1…[7 chars]"},
		{det{c: cDeviceID, raw: "ÄÖÜäöü"}, "***"},
		{det{c: numClasses, raw: "anything"}, "***"},
	} {
		if got := mask(tc.d); got != tc.want {
			t.Errorf("mask(%s %q, label %q, prefix %d, norm %q) = %q, want %q", tc.d.c, tc.d.raw, tc.d.label, tc.d.prefix, tc.d.norm, got, tc.want)
		}
	}
}

// TestSafePrefix: at most n bytes, never more than a third of the value,
// never half a character.
func TestSafePrefix(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abcdefghi", 3, "abc"}, {"abcdefghi", 4, "abc"}, {"abcdefghij", 4, "abc"}, {"abcdefghijkl", 4, "abcd"},
		{"aébcdefghi", 2, "a"}, {"éabcdefghi", 1, ""}, {"abcdefghi", 0, ""}, {"ab", 4, ""},
	} {
		got := safePrefix(tc.s, tc.n)
		if got != tc.want {
			t.Errorf("safePrefix(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
		if !utf8.ValidString(got) || 3*len(got) > len(tc.s) || !strings.HasPrefix(tc.s, got) {
			t.Errorf("safePrefix(%q, %d) = %q: not a short, whole-character prefix", tc.s, tc.n, got)
		}
	}
	if lastN("12", 2) != "" || lastN("123", 2) != "23" {
		t.Errorf("lastN shows a value no longer than what it keeps")
	}
}

// TestSafeSegmentBoundaries: the path segments that are read as values
// (and replaced) and those kept, at each threshold.
func TestSafeSegmentBoundaries(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"12345", "{n}"},
		{"jane@example.com", "{email}"},
		{"abc-123", "abc-123"},                   // 7 bytes: a name
		{"abcd-123", "{id}"},                     // 8 bytes, 3 digits, hex and dashes only
		{"abcde-12", "abcde-12"},                 // 2 digits
		{"4f1c-9a2b", "{id}"},                    // hex id
		{"user-123", "user-123"},                 // u, s, r are not hex
		{"ghijklmnopqr1234", "{id}"},             // 16 bytes, 4 digits
		{"ghijklmnopqr123", "ghijklmnopqr123"},   // 15 bytes
		{"ghijklmnopqrs123", "ghijklmnopqrs123"}, // 16 bytes, 3 digits
		{"customers", "customers"},
		{strings.Repeat("a", 48), strings.Repeat("a", 48)},
		{strings.Repeat("a", 49), "{…}"},
		{"caf\xe9", "{…}"},
	} {
		if got := safeSegment(tc.in); got != tc.want {
			t.Errorf("safeSegment(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestScrubFieldList: Scrub keeps a dataset's schema as it was (masked
// names, one entry per shape) and adds nothing.
func TestScrubFieldList(t *testing.T) {
	f := &finding.Finding{Datasets: []finding.Dataset{{Name: "users", Fields: []finding.Field{
		{Name: "email", Type: "keyword"}, {Name: "age", Type: "long"}, {Name: "email", Type: "keyword"},
	}}}}
	Scrub(f)
	got := f.Datasets[0].Fields
	if len(got) != 2 || got[0] != (finding.Field{Name: "email", Type: "keyword"}) || got[1] != (finding.Field{Name: "age", Type: "long"}) {
		t.Errorf("fields after Scrub: %+v", got)
	}
}
