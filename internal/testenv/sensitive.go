package testenv

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Person is one seeded record of personal data and secrets. Every field
// is a raw value that no leakwatch output, store, log or alert may
// contain: SensitiveValues lists them by reflection, so a field added
// here is searched for by every test that seeds it.
type Person struct {
	Email        string
	FullName     string
	Phone        string
	SessionToken string // a JWT
	APIKey       string
	PasswordHash string
	WifiSSID     string
	MAC          string
	Card         string // Luhn-valid
}

// People generates n deterministic, distinctive people from seed.
func People(seed uint64, n int) []Person {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]Person, n)
	for i := range out {
		fn := firstNames[r.IntN(len(firstNames))]
		ln := lastNames[r.IntN(len(lastNames))]
		title := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
		payload := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s.%s%d","sid":"%s"}`, fn, ln, i, randHex(r, 12))))
		header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
		mac := hmac.New(sha256.New, []byte("people-fixture"))
		mac.Write([]byte(header + "." + payload))
		out[i] = Person{
			Email:        fmt.Sprintf("%s.%s.%d.%s@%s", fn, ln, i, randHex(r, 6), domains[r.IntN(len(domains))]),
			FullName:     fmt.Sprintf("%s %s-%s", title(fn), title(ln), title(lastNames[r.IntN(len(lastNames))])),
			Phone:        fmt.Sprintf("+44 20 79%02d %04d", r.IntN(100), r.IntN(10000)),
			SessionToken: header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)),
			APIKey:       "sk_live_" + randHex(r, 32),
			PasswordHash: "$2b$12$" + randHex(r, 54)[:53],
			WifiSSID:     fmt.Sprintf(ssidStyles[r.IntN(len(ssidStyles))], title(ln)+fmt.Sprint(r.IntN(1000))),
			MAC:          fmt.Sprintf("3C:22:FB:%02X:%02X:%02X", r.IntN(256), r.IntN(256), r.IntN(256)),
			Card:         luhnCard(r),
		}
	}
	return out
}

// luhnCard is a 16-digit Visa-shaped number with a valid check digit.
func luhnCard(r *rand.Rand) string {
	d := []int{4}
	for len(d) < 15 {
		d = append(d, r.IntN(10))
	}
	sum := 0
	for i := len(d) - 1; i >= 0; i-- {
		v := d[i]
		if (len(d)-1-i)%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	d = append(d, (10-sum%10)%10)
	var b strings.Builder
	for _, x := range d {
		b.WriteByte(byte('0' + x))
	}
	return b.String()
}

// SensitiveValues lists every string field of every record (of any
// struct type, e.g. Person or Customer): the raw values a test seeded.
func SensitiveValues[T any](recs []T) []string {
	var out []string
	for _, r := range recs {
		v := reflect.ValueOf(r)
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.Kind() == reflect.String && f.String() != "" {
				out = append(out, f.String())
			}
		}
	}
	return out
}

// SeedPeople writes people into Redis db0 in value positions (a hash per
// person) and in name positions: key names (session:<token>,
// contact:<email>), hash field names (apikeys: <key> → owner) and JSON
// object keys inside a string value ({"<email>": {...}}).
func (r *Redis) SeedPeople(tb testing.TB, people []Person) {
	tb.Helper()
	q := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
	var b strings.Builder
	for i, p := range people {
		fmt.Fprintf(&b, "HSET person:%d email %s name %s phone %s session_token %s api_key %s password_hash %s wifi_ssid %s mac %s card %s\n",
			i, q(p.Email), q(p.FullName), q(p.Phone), q(p.SessionToken), q(p.APIKey), q(p.PasswordHash), q(p.WifiSSID), q(p.MAC), q(p.Card))
		fmt.Fprintf(&b, "SET %s %s\n", q("session:"+p.SessionToken), q(p.Email))
		fmt.Fprintf(&b, "SET %s %s\n", q("contact:"+p.Email), q(fmt.Sprintf(`{%q:{"phone":%q,"ssid":%q}}`, p.Email, p.Phone, p.WifiSSID)))
		fmt.Fprintf(&b, "HSET apikeys %s %s\n", q(p.APIKey), q(p.FullName))
	}
	r.CLI(tb, b.String())
}

// SeedPeople writes people into database db: a table with a column per
// field (public.people), a table whose column is named after a person's
// email address (public.inbox), and a JSONB table whose object keys are
// email addresses and API keys (public.prefs). All are analyzed.
func (p *Postgres) SeedPeople(tb testing.TB, db string, people []Person) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := p.Local(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	exec := func(q string, args ...any) {
		tb.Helper()
		if _, err := c.Exec(ctx, q, args...); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
	exec(`CREATE TABLE people (email text, full_name text, phone text, session_token text, api_key text, password_hash text, wifi_ssid text, mac text, card text)`)
	exec(fmt.Sprintf(`CREATE TABLE inbox (%s text, received timestamptz)`, quoteIdent(people[0].Email)))
	exec(`CREATE TABLE prefs (doc jsonb)`)
	for _, x := range people {
		exec(`INSERT INTO people VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, x.Email, x.FullName, x.Phone, x.SessionToken, x.APIKey, x.PasswordHash, x.WifiSSID, x.MAC, x.Card)
		exec(`INSERT INTO inbox VALUES ($1, now())`, x.Email)
		exec(`INSERT INTO prefs VALUES (jsonb_build_object($1::text, jsonb_build_object('phone', $2::text), $3::text, $4::text))`, x.Email, x.Phone, x.APIKey, x.SessionToken)
	}
	exec(`ANALYZE people`)
	exec(`ANALYZE inbox`)
	exec(`ANALYZE prefs`)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
