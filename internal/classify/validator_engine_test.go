package classify

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestValidatorsDecide: for each validator, values that have every other
// feature of the class (the field name, the shape, the keyword) and differ
// from a value the engine counts only in what the validator checks (a
// check digit, a header, a range). Each pair must split: the valid value is
// counted, the invalid one is not. A validator that always passed (or always
// failed) fails this test.
func TestValidatorsDecide(t *testing.T) {
	e := testEngine(t)
	r := rand.New(rand.NewPCG(15, 4))
	type pair struct {
		field, valid, invalid string
	}
	classOf := func(field, value string) classSet {
		doc := fmt.Sprintf(`{%q: %q}`, field, value)
		if field == "" {
			return e.recordClasses(FromText("message", value))
		}
		rec, err := FromJSONBytes([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return e.recordClasses(rec)
	}
	check := func(name string, c class, pairs []pair) {
		t.Helper()
		for _, p := range pairs {
			if !classOf(p.field, p.valid).has(c) {
				t.Errorf("%s: %s=%q not counted as %s", name, p.field, p.valid, c)
			}
			if classOf(p.field, p.invalid).has(c) {
				t.Errorf("%s: %s=%q counted as %s; only the validator tells it from %q", name, p.field, p.invalid, c, p.valid)
			}
		}
	}
	bumpLast := func(s string) string {
		d := s[len(s)-1]
		return s[:len(s)-1] + string('0'+(d-'0'+1)%10)
	}
	group4 := func(s string, sep string) string {
		var parts []string
		for i := 0; i < len(s); i += 4 {
			parts = append(parts, s[i:min(i+4, len(s))])
		}
		return strings.Join(parts, sep)
	}

	// Luhn (and the issuer table) under card fields, bare, grouped, in text.
	var cards []pair
	for _, pfx := range []struct {
		p string
		n int
	}{{"4", 16}, {"51", 16}, {"2221", 16}, {"37", 15}, {"6011", 16}, {"3530", 16}, {"62", 17}, {"4", 13}} {
		for k := 0; k < 4; k++ {
			body := pfx.p + randDigits(r, pfx.n-1-len(pfx.p))
			num := body + string(refLuhnCheck(body))
			cards = append(cards,
				pair{"card_number", num, bumpLast(num)},
				pair{"payment.card.number", group4(num, " "), group4(bumpLast(num), " ")},
				pair{"cc", group4(num, "-"), group4(bumpLast(num), "-")},
				pair{"", "paid with card " + group4(num, " ") + " yesterday", "paid with card " + group4(bumpLast(num), " ") + " yesterday"},
			)
		}
	}
	check("luhn", cCard, cards)
	// The issuer table: Luhn-valid numbers no network issues.
	for _, body := range []string{"123456789012345", "9123456789012", "7000000000123456"} {
		num := body + string(refLuhnCheck(body))
		if classOf("card_number", num).has(cCard) {
			t.Errorf("card brand: %s (Luhn-valid, no issuer) counted as a card", num)
		}
	}

	// mod-97 under IBAN fields, grouped, in text.
	var ibans []pair
	for _, cc := range []string{"DE", "GB", "FR", "ES", "IT", "NL", "PL", "CH"} {
		b := make([]byte, ibanLen[cc]-4)
		for i := range b {
			b[i] = byte('0' + r.IntN(10))
		}
		if cc == "GB" || cc == "NL" {
			copy(b, "ABCD")
		}
		iban := refIBAN(cc, string(b))
		bad := iban[:2] + fmt.Sprintf("%02d", (int(iban[2]-'0')*10+int(iban[3]-'0')+1)%97) + iban[4:]
		ibans = append(ibans,
			pair{"iban", iban, bad},
			pair{"bank.account", group4(iban, " "), group4(bad, " ")},
			pair{"", "Bitte überweisen Sie auf " + group4(iban, " ") + " bis Freitag", "Bitte überweisen Sie auf " + group4(bad, " ") + " bis Freitag"},
		)
	}
	check("mod-97", cBank, ibans)

	// JWT structure under a neutral field and in an Authorization value.
	payload := b64u(`{"sub":"user-77","iat":1700000000}`)
	sig := b64u("signature-bytes-0123456789")
	jwtPairs := []pair{
		{"data", b64u(`{"alg":"HS256","typ":"JWT"}`) + "." + payload + "." + sig, b64u(`{"typ":"JWT","kid":"x"}`) + "." + payload + "." + sig},
		{"data", b64u(`{"alg":"none"}`) + "." + payload + ".", b64u(`{"alg":"none"}`) + "." + payload + "." + sig},
		{"data", b64u(`{"alg":"RS256"}`) + "." + payload + "." + sig, b64u(`{"alg":"RS256"}`) + "." + payload + "." + sig + ".eyJ4In0"},
		{"", "DEBUG auth " + b64u(`{"alg":"HS512"}`) + "." + payload + "." + sig + " ok", "DEBUG auth " + b64u(`{"alg":"HS 512"}`) + "." + payload + "." + sig + " ok"},
	}
	check("jwt", cAuthToken, jwtPairs)

	check("email", cEmail, []pair{
		{"email", "jane.doe@example.com", "jane.doe@example.c0m"},
		{"email", "jane.doe@example.com", "jane..doe@example.com"},
		{"contact", "o.brien@mail.example.ie", "o.brien@mail.example.i"},
		{"", "write to jane.doe@example.com today", "write to jane.doe@-example.com today"},
	})
	check("ip", cIP, []pair{
		{"client_ip", "203.0.113.7", "203.0.113.256"},
		{"client_ip", "2001:db8::1", "2001:db8:::1"},
		{"peer", "192.168.1.20:51234", "192.168.1.20.5:51234"},
		{"", "connection from 198.51.100.23 refused", "connection from 198.51.100.300 refused"},
	})
	check("mac", cMAC, []pair{
		{"mac", "a4:5e:60:c2:11:9f", "00:00:00:00:00:00"},
		{"bssid", "A4-5E-60-C2-11-9F", "FF-FF-FF-FF-FF-FF"},
		{"hw.mac", "a45e.60c2.119f", "a45e.60c2.119g"},
	})
	bcrypt := "$2b$12$KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS"
	check("hash shape", cPasswordHash, []pair{
		{"credential", bcrypt, "$2b$42$" + bcrypt[7:]},
		{"credential", "$6$saltsalt$" + strings.Repeat("A", 86), "$6$saltsalt$" + strings.Repeat("A", 85)},
		{"password", "$1$saltsalt$" + strings.Repeat("c", 22), "$1$saltsalt$" + strings.Repeat("c", 21)},
	})
	check("ssn", cNationalID, []pair{
		{"", "SSN on file: 536-22-8714", "SSN on file: 666-22-8714"},
		{"", "ssn 412-68-0093 verified", "ssn 412-00-0093 verified"},
		{"note", "ssn 536-22-8714", "ssn 900-22-8714"},
	})
	check("dni/nino", cNationalID, []pair{
		{"id_number", "12345678Z", "12345678L"},
		{"id_number", "73928461K", "73928461A"},
		{"id_number", "AB123456C", "AB123456E"},
		{"id_number", "CE 12 34 56 A", "QE 12 34 56 A"},
	})
	check("phone metadata", cPhone, []pair{
		{"mobile", "+44 20 7946 0958", "+44 20 7946 09"},
		{"phone", "+1 415 555 2671", "+1 015 555 2671"},
		{"", "call +49 151 23456789 now", "call +49 051 23456789 now"},
	})
	check("cloud keys", cAPIKey, []pair{
		{"value", "AKIAZ3MHTQWX7D5RNPLE", "AKIAZ3MHTQWX7D5RNPL"},
		{"value", "ghp_R2d2C3poL8kW4mN6pQ9sT1vX3zB5dF7hJ0lA", "ghp_R2d2C3poL8kW4mN6pQ9sT1vX3zB5dF7hJ0l"},
		{"value", "glpat-xY7zA9bC1dE3fG5hJ7kL", "glpat-xY7zA9bC1dE3fG5hJ7"},
		{"value", "AIzaSyB3x9K2mQ7vL5nR8tW4yZ1cD6fH0jP2sU4", "AIzaSyB3x9K2mQ7vL5nR8tW4yZ1cD6fH0jP2sU"},
		{"blob", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1x9K\n-----END RSA PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0B\n-----END PUBLIC KEY-----"},
		{"value", "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFy==", "DefaultEndpointsProtocol=https;Account=acme;AccountKey=Zm9vYmFy=="},
	})
	check("opaque token", cAuthToken, []pair{
		{"session_token", "a8f5f167f44f4964e6c998dee827110c", "abcdefghijklmnop"},
		{"refresh_token", "Yz8Qp3LkV0sR7tW2xN5mJ9bH", "Yz8Qp3LkV0sR7tW"},
		{"session_token", "0123456789abcdef0123", "0123456789abcdef012!"},
	})
	check("date", cDOB, []pair{
		{"dob", "1984-12-02", "1984-13-02"},
		{"birthday", "02.03.1984", "02.03.1884"},
		{"date_of_birth", "2025-12-31", "2026-01-02"},
	})
	check("coordinates", cGeo, []pair{
		{"location", "48.8566,2.3522", "48.8566,192.3522"},
		{"gps", "POINT(-122.4194 37.7749)", "POINT(-122.4194 97.7749)"},
	})
}
