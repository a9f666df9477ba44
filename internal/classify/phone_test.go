package classify

import (
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// TestPhoneAgreesWithLibphonenumber: the metadata fast path agrees with
// phonenumbers.Parse + IsValidNumber on valid numbers and rejects
// malformed ones.
func TestPhoneAgreesWithLibphonenumber(t *testing.T) {
	cases := []string{
		"+1 212 736 5000", "+14155552671", "(415) 736-5000", "+44 7911 123456", "+44 20 7946 0958",
		"+49 151 12345678", "+49 30 1234567", "+33 6 12 34 56 78", "+34 612 34 56 78", "+81 3-1234-5678",
		"+91 98765 43210", "+55 11 91234-5678", "+61 412 345 678", "+7 912 345-67-89", "+86 138 0013 8000",
		"+1 000 000 0000", "+44 1234", "+999 1234567", "+49 000 0000000", "12345", "+1 212 736 50001",
		"+33 0 12 34 56 78", "+800 1234 5678", "415-736-5000", "+1 (800) 555-0199",
	}
	agree := 0
	for _, c := range cases {
		fast, ok := phoneE164(c, "US")
		num, err := phonenumbers.Parse(c, "US")
		lib := err == nil && phonenumbers.IsValidNumber(num)
		if ok == lib {
			agree++
			if ok && fast != phonenumbers.Format(num, phonenumbers.E164) {
				t.Errorf("%q: E.164 %q vs %q", c, fast, phonenumbers.Format(num, phonenumbers.E164))
			}
		} else {
			t.Logf("%q: fast=%v libphonenumber=%v", c, ok, lib)
		}
	}
	if agree < len(cases)-2 {
		t.Errorf("agreement %d/%d", agree, len(cases))
	}
}
