package classify

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// classifyOne classifies one JSON document as a dataset of one record.
func classifyOne(t *testing.T, e *RuleClassifier, doc string) map[string]finding.ClassCount {
	t.Helper()
	rec, err := FromJSONBytes([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	out := e.Classify(Input{Sample: []Record{rec}, Records: finding.Int64(1)})
	got := map[string]finding.ClassCount{}
	for _, c := range out.Classes {
		got[c.Class] = c
	}
	return got
}

// TestExamplePerDetector: the masked example each value detector leaves in
// a finding (the provider prefix it may show, or none, and the label).
func TestExamplePerDetector(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct {
		doc, class, example string
	}{
		{`{"value":"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1x9K\n-----END RSA PRIVATE KEY-----"}`, "api_key", "…[private key, 82 chars]"},
		{`{"value":"AKIAZ3MHTQWX7D5RNPLE"}`, "api_key", "AKIA…[aws key]"},
		{`{"value":"ghp_R2d2C3poL8kW4mN6pQ9sT1vX3zB5dF7hJ0lA"}`, "api_key", "ghp_…[github token]"},
		{`{"value":"sk_live_51Hx2YzKq8LmN3pRtS5uVwX7yZ9aB1cD3eF5gH7"}`, "api_key", "sk_live_…[stripe live key]"},
		{`{"value":"xoxb-2048163902-4096327805-Ab3Cd5Ef7Gh9Ij1Kl3Mn5Op7"}`, "api_key", "xoxb-…[slack token]"},
		{`{"value":"DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=Zm9vYmFy=="}`, "api_key", "…[azure storage key, 69 chars]"},
		{`{"value":"https://hooks.slack.com/services/T0001/B0002/XXXXXXXXXXXXXXXXXXXXXXXX"}`, "api_key", "…[slack webhook, 69 chars]"},
		{`{"value":"ya29.a0AfH6SMBx3y9K2mQ7vL5nR8tW4yZ1cD6fH0jP2sU4"}`, "auth_token", "ya29.…[google oauth]"},
		{`{"credential":"$2b$12$KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS"}`, "password_hash", "$2b$12$…[bcrypt]"},
		{`{"data":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.aGVsbG8"}`, "auth_token", "eyJh…[JWT HS256]"},
	} {
		got := classifyOne(t, e, tc.doc)
		c, ok := got[tc.class]
		if !ok || len(c.Examples) == 0 || c.Examples[0] != tc.example {
			t.Errorf("%s: %s example %q, want %q", tc.doc, tc.class, c.Examples, tc.example)
		}
	}
}

// TestValidatorContext: where a validator's answer depends on the field
// or the neighbourhood of the value.
func TestValidatorContext(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct {
		doc     string
		class   string
		present bool
	}{
		// Authorization values: a JWT, an opaque token, or (under a token
		// field) any base64 credential of at least 8 characters.
		{`{"authorization":"Bearer Ab3dEf7h"}`, "auth_token", true},
		{`{"authorization":"Bearer Ab3dEf7"}`, "auth_token", false},
		{`{"note":"Bearer Ab3dEf7h"}`, "auth_token", false},
		{`{"note":"Bearer a8f5f167f44f4964e6c998dee827110c"}`, "auth_token", true},
		// IPv6 needs no IP field; an IPv6-shaped value with a non-hex
		// letter is not one.
		{`{"peer":"2001:db8::1"}`, "ip_address", true},
		{`{"peer":"2001:db8::1:ffff:a"}`, "ip_address", true},
		{`{"peer":"2001:dz8::1"}`, "ip_address", false},
		{`{"peer":"::"}`, "ip_address", false},
		{`{"peer":"0.0.0.0"}`, "ip_address", false},
		// Bank fields take digit-only account numbers of 6–18 digits, and
		// nothing else without the IBAN check; IP and MAC fields never
		// take bare digits.
		{`{"account_number":"000123456789"}`, "bank_account", true},
		{`{"account_number":"123456"}`, "bank_account", true},
		{`{"account_number":"12345"}`, "bank_account", false},
		{`{"account_number":"123456789012345678"}`, "bank_account", true},
		{`{"account_number":"1234567890123456789"}`, "bank_account", false},
		{`{"iban":"not-a-number"}`, "bank_account", false},
		{`{"iban":"GB29NWBK6016133192681"}`, "bank_account", false},
		{`{"client_ip":"12345678"}`, "ip_address", false},
		{`{"mac":"12345678"}`, "mac_address", false},
		// An SSN-shaped value under a phone field is a phone, not an SSN.
		{`{"phone":"536-22-8714"}`, "national_id", false},
		{`{"note":"536-22-8714 ssn"}`, "national_id", true},
		// Phone fields read national numbers of common regions; other
		// fields only +CC numbers.
		{`{"phone":"020 7946 0958"}`, "phone", true},
		{`{"phone":"020 79"}`, "phone", false},
		{`{"phone":"4915123456789"}`, "phone", true},
		// Under a neutral name a national number written in groups is a
		// phone when it is valid with its trunk prefix (issue 12); a bare
		// run of digits is not.
		{`{"note":"020 7946 0958"}`, "phone", true},
		{`{"note":"02079460958"}`, "phone", false},
		// A Luhn-valid card number, bare, is a card under a neutral name
		// and not under a name that says it is something else (an id, a
		// time, a phone, a device, a bank account, a national id).
		{`{"value":"4539148803436467"}`, "payment_card", true},
		{`{"order":"4539148803436467"}`, "payment_card", false},
		{`{"created":"4539148803436467"}`, "payment_card", false},
		{`{"phone":"4539148803436467"}`, "payment_card", false},
		{`{"imei":"4539148803436467"}`, "payment_card", false},
		{`{"kontonummer":"4539148803436467"}`, "payment_card", false},
		{`{"ssn":"4539148803436467"}`, "payment_card", false},
		// Cards in text are found without the word "card", grouped by
		// spaces or dashes.
		{`{"message":"paid 4539 1488 0343 6467 yesterday"}`, "payment_card", true},
		{`{"message":"paid 4539-1488-0343-6467 yesterday"}`, "payment_card", true},
		// Coordinates under a latitude field have an integer part.
		{`{"lat":"0.5"}`, "geo_location", true},
		{`{"lat":".5"}`, "geo_location", false},
		// Placeholders are no value: runs of x, X or *, up to 12.
		{`{"password":"xxxxxxxx"}`, "password", false},
		{`{"password":"XXXXXXXX"}`, "password", false},
		{`{"password":"********"}`, "password", false},
		{`{"password":"xxxxxxxxxxxx"}`, "password", false},
		{`{"password":"xxxxxxxxxxxxx"}`, "password", true},
		{`{"password":"xxxxxxxy"}`, "password", true},
		{`{"password":"axxxxxxx"}`, "password", true},
		{`{"password":"xXxXxXxX"}`, "password", true},
		{`{"password":"*x*x*x*x"}`, "password", true},
	} {
		got := classifyOne(t, e, tc.doc)
		if _, ok := got[tc.class]; ok != tc.present {
			t.Errorf("%s: %s present = %v, want %v (classes %v)", tc.doc, tc.class, ok, tc.present, keys(got))
		}
	}
}

// TestIPConfidence: an address under an IP-named field is surer than one
// under any other name.
func TestIPConfidence(t *testing.T) {
	e := testEngine(t)
	for doc, want := range map[string]float64{
		`{"client_ip":"203.0.113.7"}`: 0.95,
		`{"peer":"203.0.113.7"}`:      0.8,
	} {
		c := classifyOne(t, e, doc)["ip_address"]
		if c.Confidence != want {
			t.Errorf("%s: confidence %v, want %v", doc, c.Confidence, want)
		}
	}
}

func keys(m map[string]finding.ClassCount) string {
	s := ""
	for k := range m {
		s += k + " "
	}
	return fmt.Sprint("[", s, "]")
}

// TestFlattenBounds: the flatteners' nesting limits, at their edges, and a
// document cut inside a number.
func TestFlattenBounds(t *testing.T) {
	nest := func(k int) []byte {
		return []byte(strings.Repeat("[", k) + "1" + strings.Repeat("]", k))
	}
	if _, err := FromJSONBytes(nest(10_000)); err != nil {
		t.Errorf("10,000 levels: %v", err)
	}
	if _, err := FromJSONBytes(nest(10_001)); err == nil || !strings.Contains(err.Error(), "nesting too deep") {
		t.Errorf("10,001 levels: %v, want nesting too deep", err)
	}
	for _, doc := range []string{`{"a":-`, `{"a":`, `[-`} {
		if _, err := FromJSONBytes([]byte(doc)); err == nil {
			t.Errorf("FromJSONBytes(%s) accepted a cut document", doc)
		}
	}
	deep := func(levels int) any {
		var v any = "leaf"
		for i := 0; i < levels; i++ {
			v = map[string]any{"k": v}
		}
		return v
	}
	if r := FromJSON(deep(maxDepth)); len(r.Values) != 1 {
		t.Errorf("a leaf under %d objects: %d values, want 1", maxDepth, len(r.Values))
	}
	if r := FromJSON(deep(maxDepth + 1)); len(r.Values) != 0 {
		t.Errorf("a leaf under %d objects: %d values, want 0", maxDepth+1, len(r.Values))
	}
}
