package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// labels name the classes of the finding contract in words.
var labels = map[string]string{
	"email": "e-mail addresses", "person_name": "names of persons", "username": "user names",
	"password": "passwords (plain text)", "password_hash": "password hashes",
	"auth_token": "login, session or device tokens", "api_key": "API keys and private keys",
	"wifi_ssid": "Wi-Fi network names", "device_id": "device identifiers", "device_model": "device models",
	"mac_address": "MAC addresses", "ip_address": "IP addresses", "phone": "phone numbers",
	"postal_address": "postal addresses", "geo_location": "geolocation", "date_of_birth": "dates of birth",
	"payment_card": "payment card numbers", "bank_account": "bank account numbers (IBAN)",
	"national_id": "national identification numbers",
}

// Label is a class in words.
func Label(class string) string {
	if l, ok := labels[class]; ok {
		return l
	}
	return class
}

// Sensitive classes raise the risk to the people concerned on their own.
func Sensitive(class string) bool {
	switch class {
	case "password", "password_hash", "auth_token", "api_key", "payment_card", "bank_account", "national_id", "geo_location":
		return true
	}
	return false
}

// consequenceRules derive likely consequences from the classes present: a
// rule applies when every class it lists is present.
var consequenceRules = []struct {
	classes []string
	text    string
}{
	{[]string{"auth_token"}, "account and device takeover: valid login, session or device tokens let anyone act as the user (or reach their device) without a password, until the tokens are revoked"},
	{[]string{"password"}, "account takeover on this service and, through password reuse, on others (credential stuffing)"},
	{[]string{"password_hash"}, "offline cracking of the hashes, then account takeover and credential stuffing"},
	{[]string{"api_key"}, "access to the systems or cloud accounts the keys open, and further breaches from there"},
	{[]string{"email", "person_name"}, "targeted phishing (names and e-mail addresses together make convincing messages)"},
	{[]string{"email"}, "spam and phishing to the addresses"},
	{[]string{"username", "email"}, "credential-stuffing and password-reset attacks against the accounts"},
	{[]string{"phone"}, "SMS phishing, scam calls and SIM-swap attempts"},
	{[]string{"payment_card"}, "card fraud"},
	{[]string{"bank_account"}, "direct-debit fraud and targeted invoice fraud"},
	{[]string{"national_id"}, "identity theft"},
	{[]string{"date_of_birth", "person_name"}, "identity theft and answers to security questions"},
	{[]string{"postal_address"}, "physical risk (stalking, burglary) and postal fraud"},
	{[]string{"geo_location"}, "tracking of movements and physical risk"},
	{[]string{"wifi_ssid"}, "locating people's homes (Wi-Fi names are mapped publicly) and attacks on their home networks"},
	{[]string{"device_id"}, "tracking of devices and their owners across services"},
	{[]string{"mac_address"}, "tracking of devices and their owners"},
	{[]string{"device_model"}, "targeted exploitation of known weaknesses of the device models"},
	{[]string{"ip_address"}, "approximate location and targeted network attacks"},
}

// Consequences lists the likely consequences for the classes present.
func Consequences(classes []string) []Consequence {
	var out []Consequence
	for _, r := range consequenceRules {
		ok := true
		for _, c := range r.classes {
			if !slices.Contains(classes, c) {
				ok = false
			}
		}
		if ok {
			out = append(out, Consequence{Classes: slices.Clone(r.classes), Consequence: r.text})
		}
	}
	return out
}

// subjectCategories suggests categories of data subjects.
func subjectCategories(cs []Category) []string {
	has := func(xs ...string) bool {
		return slices.ContainsFunc(cs, func(c Category) bool { return slices.Contains(xs, c.Class) })
	}
	var out []string
	if has("email", "username", "password", "password_hash", "auth_token", "person_name") {
		out = append(out, "holders of user accounts of the service the data belongs to (customers, users or staff — the controller must say which)")
	}
	if has("device_id", "device_model", "mac_address", "wifi_ssid") {
		out = append(out, "owners or users of the devices registered in the data")
	}
	if has("payment_card", "bank_account") {
		out = append(out, "paying customers (payment data)")
	}
	if has("api_key") && !has("email", "username", "person_name") {
		out = append(out, "none directly: the keys are the organisation's own secrets, but what they open may hold personal data")
	}
	if len(out) == 0 {
		out = append(out, "not determined: no class of personal data was recognised in the samples")
	}
	return out
}

// targetName is how the report names a target: host:port, or a file's
// path with every unsafe rune (terminal escapes, bidi controls) written as
// a visible escape.
func targetName(t finding.Target) string { return finding.VisibleText(t.Name()) }

// nature writes Art. 33(3)(a) in sentences.
func nature(r *Report) []string {
	f := r.Finding
	what := f.Service
	if f.Product != "" && f.Product != f.Service {
		what += " (" + f.Product
		if f.Version != "" {
			what += " " + f.Version
		}
		what += ")"
	}
	auth := "without any authentication"
	if f.Auth == "default-credentials" {
		auth = "with a well-known default password"
	}
	s := []string{fmt.Sprintf("Confidentiality breach: the %s data store at %s answered %s, so anyone who could reach that address could read its data.", what, f.Target.Addr(), auth)}
	if f.Target.IsFile() {
		s[0] = fmt.Sprintf("Personal data in a file: %s holds the data below; anyone who can read that file, or a copy of it, can read them.", targetName(f.Target))
	}
	w := r.Window
	if !w.FirstSeenOpen.IsZero() {
		t := fmt.Sprintf("leakwatch first saw it open at %s and last saw it open at %s", ts(w.FirstSeenOpen), ts(w.LastSeenOpen))
		if w.Open {
			t += "; it was still open at the last check (" + ts(w.LastCheck) + ")."
		} else if !w.ClosedAt.IsZero() {
			t += "; it was seen closed from " + ts(w.ClosedAt) + "."
		} else {
			t += "."
		}
		s = append(s, t)
	}
	if len(r.Categories) > 0 {
		var ls []string
		for _, c := range r.Categories {
			ls = append(ls, c.Label)
		}
		s = append(s, fmt.Sprintf("It held %s records in %d datasets, about %s of them with personal data (%s).",
			lifecycle.Count(r.Numbers.Records), len(r.Datasets), lifecycle.Count(r.Numbers.PersonalRecords), strings.Join(ls, ", ")))
	}
	for _, in := range r.Incidents {
		switch in.Kind {
		case lifecycle.EventDestroyed:
			s = append(s, "Availability and integrity breach: data was destroyed while the store was open ("+in.Incident.Summary(in.Kind)+", seen "+ts(in.At)+").")
		case lifecycle.EventExtortion:
			s = append(s, "Extortion: a ransom note appeared in the store ("+in.Incident.Summary(in.Kind)+", seen "+ts(in.At)+"); the data must be presumed copied by the attacker.")
		case lifecycle.EventCanary:
			s = append(s, "A canary planted in production data was found in this store ("+in.Incident.Summary(in.Kind)+"): it holds a copy of that production data.")
		}
	}
	if r.Access.ForeignQueries != nil && *r.Access.ForeignQueries > 0 {
		s = append(s, fmt.Sprintf("The store's own counters show %s requests by clients other than leakwatch while it was open.", lifecycle.Count(*r.Access.ForeignQueries)))
	}
	return s
}

// cannotKnow states the limits.
func cannotKnow(r *Report) []string {
	out := []string{
		"Whether anyone copied the data, and who: leakwatch reads metadata and a small sample; it sees no network traffic and no logs of the store.",
		"Exposure before leakwatch first saw the store open (" + ts(r.Window.FirstSeenOpen) + "): the store may have been open long before; its own logs or deployment history can say since when.",
		"Exposure between two checks: a store can close and reopen between checks; the window is bounded by the checks listed in section 2.",
		"The exact number of people: the counts are estimates from a bounded sample (see the methods); the same person may appear in several datasets or several times in one.",
		"Classes of data the sample did not show: rare fields may be missing from a bounded sample, and free text can hold anything.",
	}
	if !r.Access.Measured {
		out = append(out, "Use by others: access was not measured for this store ("+r.Access.Why+").")
	}
	if r.Window.Open {
		out = append(out, "The end of the exposure: the store was still open at the last check.")
	}
	return out
}

// ts formats a time in UTC.
func ts(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}
