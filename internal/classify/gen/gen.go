// Package gen generates seeded, labelled, breach-shaped records for the
// classifier's accuracy suite and benchmarks: user tables, camera/device
// documents like the 2019 breach, token stores, WiFi scans, payments,
// addresses, free-text logs, configuration secrets and records with no
// personal data at all. Every document comes with the classes it holds
// (ground truth) and the raw sensitive values inserted, so tests can check
// that no raw value ever reaches an output.
package gen

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Doc is one generated document.
type Doc struct {
	// Kind names the shape (users, cameras, tokens, ...).
	Kind string
	// JSON is the document.
	JSON []byte
	// Classes are the classes the document holds (sorted).
	Classes []string
	// Raw are sensitive values placed in the document.
	Raw []string
}

// Generator produces documents deterministically from a seed.
type Generator struct {
	r     *rand.Rand
	style int
	doc   map[string]any
	cls   map[string]bool
	raw   []string
	now   time.Time
}

// New returns a generator for a seed.
func New(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// Kinds lists the document shapes.
var Kinds = []string{"users", "cameras", "tokens", "wifi", "payments", "addresses", "logs", "secrets", "products", "metrics", "profiles_intl"}

// Next returns the next document of a random kind.
func (g *Generator) Next() Doc {
	return g.Kind(Kinds[g.r.IntN(len(Kinds))])
}

// Kind returns a document of the named kind.
func (g *Generator) Kind(kind string) Doc {
	g.doc = map[string]any{}
	g.cls = map[string]bool{}
	g.raw = g.raw[:0]
	g.style = g.r.IntN(4)
	switch kind {
	case "users":
		g.users()
	case "cameras":
		g.cameras()
	case "tokens":
		g.tokens()
	case "wifi":
		g.wifi()
	case "payments":
		g.payments()
	case "addresses":
		g.addresses()
	case "logs":
		g.logs()
	case "secrets":
		g.secrets()
	case "products":
		g.products()
	case "metrics":
		g.metrics()
	case "profiles_intl":
		g.intl()
	default:
		panic("gen: unknown kind " + kind)
	}
	b, err := json.Marshal(g.doc)
	if err != nil {
		panic(err)
	}
	var cls []string
	for c := range g.cls {
		cls = append(cls, c)
	}
	sort.Strings(cls)
	return Doc{Kind: kind, JSON: b, Classes: cls, Raw: append([]string(nil), g.raw...)}
}

// WriteCorpus writes newline-delimited documents until at least size bytes
// were written and returns the number of documents.
func (g *Generator) WriteCorpus(w io.Writer, size int64) (int, error) {
	var n int64
	docs := 0
	for n < size {
		d := g.Next()
		m, err := w.Write(append(d.JSON, '\n'))
		if err != nil {
			return docs, err
		}
		n += int64(m)
		docs++
	}
	return docs, nil
}

// key renders a field name in the document's naming style.
func (g *Generator) key(words ...string) string {
	switch g.style {
	case 1: // camelCase
		var b strings.Builder
		for i, w := range words {
			if i == 0 {
				b.WriteString(w)
			} else {
				b.WriteString(strings.ToUpper(w[:1]) + w[1:])
			}
		}
		return b.String()
	case 2:
		return strings.Join(words, "-")
	case 3: // PascalCase
		var b strings.Builder
		for _, w := range words {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
		return b.String()
	}
	return strings.Join(words, "_")
}

func (g *Generator) set(m map[string]any, k string, v any, class string) {
	m[k] = v
	if class != "" {
		g.cls[class] = true
		if s, ok := v.(string); ok {
			g.raw = append(g.raw, s)
		}
	}
}

func (g *Generator) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *Generator) chance(p float64) bool     { return g.r.Float64() < p }

// ---- document shapes ----

func (g *Generator) users() {
	d := g.doc
	first, last := g.firstName(), g.lastName()
	d[g.key("user", "id")] = g.r.IntN(9_000_000) + 1000
	g.set(d, g.key("username"), g.username(first, last), "username")
	g.set(d, g.key("email"), g.email(first, last), "email")
	d[g.key("email", "verified")] = g.chance(0.5)
	if g.chance(0.5) {
		g.set(d, g.key("first", "name"), first, "person_name")
		g.set(d, g.key("last", "name"), last, "person_name")
	} else {
		g.set(d, g.key("full", "name"), first+" "+last, "person_name")
	}
	g.set(d, g.key("password", "hash"), g.passwordHash(), "password_hash")
	if g.chance(0.6) {
		g.set(d, g.key("phone"), g.phone(), "phone")
	}
	if g.chance(0.6) {
		g.set(d, g.key("date", "of", "birth"), g.dob(), "date_of_birth")
	}
	if g.chance(0.7) {
		g.set(d, g.key("last", "login", "ip"), g.ip(), "ip_address")
	}
	d[g.key("created", "at")] = g.timestamp()
	d[g.key("status")] = g.pick([]string{"active", "suspended", "pending"})
	d[g.key("login", "count")] = g.r.IntN(500)
	if g.chance(0.2) {
		g.set(d, g.key("password"), g.password(), "password")
	}
}

func (g *Generator) cameras() {
	d := g.doc
	first, last := g.firstName(), g.lastName()
	cust := map[string]any{}
	g.set(cust, g.key("name"), first+" "+last, "person_name")
	g.set(cust, g.key("email"), g.email(first, last), "email")
	g.set(cust, g.key("username"), g.username(first, last), "username")
	d[g.key("customer")] = cust
	cam := map[string]any{}
	model := g.deviceModel()
	g.set(cam, g.key("name"), model, "device_model")
	if g.chance(0.5) {
		g.set(cam, g.key("model"), g.pick([]string{"NC-200", "WYZEC3", "VMC4040P", "DCS-8000LH", "C200", "E1 Zoom"}), "device_model")
	}
	g.set(cam, g.key("serial", "number"), g.serial(), "device_id")
	g.set(cam, g.key("mac"), g.mac(), "mac_address")
	cam[g.key("firmware", "version")] = fmt.Sprintf("%d.%d.%d.%d", g.r.IntN(5)+1, g.r.IntN(10), g.r.IntN(20), g.r.IntN(300))
	d[g.key("camera")] = cam
	wifi := map[string]any{}
	g.set(wifi, g.key("ssid"), g.ssid(last), "wifi_ssid")
	wifi[g.key("signal")] = -g.r.IntN(60) - 30
	d[g.key("wifi")] = wifi
	d[g.key("connected", "at")] = g.timestamp()
	if g.chance(0.5) {
		g.set(d, g.key("login", "token"), g.jwt(), "auth_token")
	} else {
		g.set(d, g.key("login", "token"), g.opaque(40), "auth_token")
	}
	if g.chance(0.5) {
		g.set(d, g.key("camera", "token"), g.opaque(32), "auth_token")
	}
	d[g.key("event", "id")] = g.uuid()
}

func (g *Generator) tokens() {
	d := g.doc
	d[g.key("token", "id")] = g.uuid() // a uuid id, not a token
	d[g.key("user", "id")] = g.r.IntN(1_000_000)
	g.set(d, g.key("access", "token"), g.jwt(), "auth_token")
	g.set(d, g.key("refresh", "token"), g.opaque(48), "auth_token")
	d[g.key("token", "type")] = "bearer"
	d[g.key("expires", "at")] = g.timestamp()
	d[g.key("scope")] = "read write"
	d[g.key("client", "name")] = g.pick([]string{"ios-app", "android-app", "web"})
	if g.chance(0.5) {
		g.set(d, g.key("session", "id"), g.uuid(), "auth_token")
	}
	if g.chance(0.3) {
		g.set(d, g.key("device", "id"), g.uuid(), "device_id")
	}
}

func (g *Generator) wifi() {
	d := g.doc
	g.set(d, g.key("ssid"), g.ssid(g.lastName()), "wifi_ssid")
	g.set(d, g.key("bssid"), g.mac(), "mac_address")
	d[g.key("security")] = g.pick([]string{"WPA2-PSK", "WPA3-SAE", "OPEN"})
	d[g.key("channel")] = g.r.IntN(165) + 1
	d[g.key("frequency")] = g.pick([]string{"2.4GHz", "5GHz"})
	loc := map[string]any{}
	loc["lat"] = g.lat()
	loc["lon"] = g.lon()
	g.cls["geo_location"] = true
	d[g.key("location")] = loc
	if g.chance(0.3) {
		g.set(d, g.key("wifi", "password"), g.password(), "password")
	}
	d[g.key("seen", "at")] = g.timestamp()
}

func (g *Generator) payments() {
	d := g.doc
	d[g.key("order", "id")] = strconv.FormatInt(g.r.Int64N(9e15)+1e15, 10)
	d[g.key("amount")] = float64(g.r.IntN(100000)) / 100
	d[g.key("currency")] = g.pick([]string{"EUR", "USD", "GBP"})
	first, last := g.firstName(), g.lastName()
	g.set(d, g.key("cardholder", "name"), strings.ToUpper(first+" "+last), "person_name")
	g.set(d, g.key("card", "number"), g.card(), "payment_card")
	d[g.key("card", "expiry")] = fmt.Sprintf("%02d/%02d", g.r.IntN(12)+1, 27+g.r.IntN(5))
	if g.chance(0.5) {
		g.set(d, g.key("iban"), g.iban(), "bank_account")
	}
	if g.chance(0.5) {
		g.set(d, g.key("billing", "address"), g.street(), "postal_address")
	}
	d[g.key("created", "at")] = g.timestamp()
}

func (g *Generator) addresses() {
	d := g.doc
	first, last := g.firstName(), g.lastName()
	if g.chance(0.5) {
		g.set(d, g.key("name"), first+" "+last, "person_name") // a bare top-level name
	} else {
		g.set(d, g.key("resident"), map[string]any{g.key("name"): first + " " + last}, "")
		g.cls["person_name"] = true
		g.raw = append(g.raw, first+" "+last)
	}
	addr := map[string]any{}
	g.set(addr, g.key("street"), g.street(), "postal_address")
	g.set(addr, g.key("city"), g.pick([]string{"Springfield", "Berlin", "Lyon", "Madrid", "Leeds"}), "postal_address")
	g.set(addr, g.key("zip"), fmt.Sprintf("%05d", g.r.IntN(99999)), "postal_address")
	addr[g.key("country")] = g.pick([]string{"US", "DE", "FR", "ES", "GB"})
	d[g.key("address")] = addr
	if g.chance(0.5) {
		g.set(d, g.key("ssn"), g.ssn(), "national_id")
	}
	if g.chance(0.5) {
		loc := fmt.Sprintf("%.5f,%.5f", g.lat(), g.lon())
		g.set(d, g.key("geo", "location"), loc, "geo_location")
	}
}

func (g *Generator) logs() {
	d := g.doc
	d[g.key("timestamp")] = g.timestamp()
	d[g.key("level")] = g.pick([]string{"INFO", "WARN", "ERROR"})
	d[g.key("service")] = g.pick([]string{"auth", "api-gateway", "billing"})
	d[g.key("request", "id")] = g.uuid()
	first, last := g.firstName(), g.lastName()
	switch g.r.IntN(5) {
	case 0:
		e, ip := g.email(first, last), g.ip()
		g.cls["email"], g.cls["ip_address"] = true, true
		g.raw = append(g.raw, e, ip)
		d[g.key("message")] = fmt.Sprintf("login succeeded for %s from %s", e, ip)
	case 1:
		e := g.email(first, last)
		g.cls["email"] = true
		g.raw = append(g.raw, e)
		d[g.key("message")] = fmt.Sprintf("Password reset requested by <%s>; mail queued.", e)
	case 2:
		p := g.phoneE164Spaced()
		g.cls["phone"] = true
		g.raw = append(g.raw, p)
		d[g.key("message")] = fmt.Sprintf("SMS verification sent to %s", p)
	case 3:
		d[g.key("message")] = fmt.Sprintf("job %d finished in %d ms, %d rows, version 4.2.%d", g.r.IntN(9999), g.r.IntN(9999), g.r.IntN(99999), g.r.IntN(99))
	case 4:
		tok := g.jwt()
		g.cls["auth_token"] = true
		g.raw = append(g.raw, tok)
		d[g.key("message")] = "upstream call Authorization: Bearer " + tok + " status=200"
	}
}

func (g *Generator) secrets() {
	d := g.doc
	d[g.key("service")] = g.pick([]string{"billing", "uploader", "crm"})
	d[g.key("environment")] = g.pick([]string{"prod", "staging"})
	switch g.r.IntN(6) {
	case 0:
		g.set(d, g.key("aws", "access", "key", "id"), "AKIA"+g.alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16), "api_key")
		g.set(d, g.key("aws", "secret", "access", "key"), g.alphabet(b64chars, 40), "api_key")
	case 1:
		g.set(d, g.key("stripe", "key"), "sk_live_"+g.alphabet(alnum, 24), "api_key")
	case 2:
		g.set(d, g.key("github", "token"), "ghp_"+g.alphabet(alnum, 36), "api_key")
	case 3:
		g.set(d, g.key("private", "key"), "-----BEGIN RSA PRIVATE KEY-----\nMIIEow"+g.alphabet(b64chars, 64)+"\n-----END RSA PRIVATE KEY-----", "api_key")
	case 4:
		g.set(d, g.key("api", "key"), g.alphabet(alnum, 32), "api_key")
	case 5:
		g.set(d, g.key("slack", "webhook", "token"), "xoxb-"+g.digits(11)+"-"+g.digits(12)+"-"+g.alphabet(alnum, 24), "api_key")
	}
	if g.chance(0.4) {
		g.set(d, g.key("db", "password"), g.password(), "password")
	}
	d[g.key("rotated", "at")] = g.timestamp()
}

func (g *Generator) products() {
	d := g.doc
	d[g.key("sku")] = "SKU-" + g.digits(8)
	d[g.key("name")] = g.pick([]string{"Steel Water Bottle", "Desk Lamp", "USB-C Cable 2m", "Garden Hose", "Notebook A5"})
	d[g.key("price")] = float64(g.r.IntN(10000)) / 100
	d[g.key("description")] = g.pick([]string{"Durable and light.", "Ships in 2 days. Version 2 of our best seller.", "Made from recycled materials"})
	d[g.key("version")] = fmt.Sprintf("%d.%d.%d.%d", g.r.IntN(9)+1, g.r.IntN(9), g.r.IntN(9), g.r.IntN(99))
	d[g.key("commit")] = g.alphabet("0123456789abcdef", 40)
	d[g.key("ean")] = g.digits(13)
	d[g.key("category")] = g.pick([]string{"home", "garden", "office"})
	d[g.key("updated", "at")] = g.timestamp()
	d[g.key("id")] = g.uuid()
}

func (g *Generator) metrics() {
	d := g.doc
	d[g.key("host")] = g.pick([]string{"web-01", "web-02", "db-01"})
	d[g.key("cpu")] = g.r.Float64() * 100
	d[g.key("mem", "bytes")] = g.r.Int64N(1 << 34)
	d[g.key("timestamp")] = g.timestamp()
	d[g.key("trace", "id")] = g.alphabet("0123456789abcdef", 32)
	d[g.key("span", "id")] = g.alphabet("0123456789abcdef", 16)
	d[g.key("duration", "ms")] = g.r.IntN(5000)
	d[g.key("status", "code")] = g.pick([]string{"200", "404", "500"})
	d[g.key("event", "count")] = strconv.Itoa(g.r.IntN(1e6))
}

// intl uses non-English field names.
func (g *Generator) intl() {
	d := g.doc
	first, last := g.firstName(), g.lastName()
	switch g.r.IntN(3) {
	case 0: // Spanish
		g.set(d, "nombre", first, "person_name")
		g.set(d, "apellido", last, "person_name")
		g.set(d, "correo", g.email(first, last), "email")
		g.set(d, "contrasena", g.password(), "password")
		g.set(d, "telefono", g.phone(), "phone")
		g.set(d, "fecha_nacimiento", g.dob(), "date_of_birth")
	case 1: // German
		g.set(d, "vorname", first, "person_name")
		g.set(d, "nachname", last, "person_name")
		g.set(d, "passwort", g.password(), "password")
		g.set(d, "geburtsdatum", g.dob(), "date_of_birth")
		g.set(d, "benutzername", g.username(first, last), "username")
		g.set(d, "strasse", g.street(), "postal_address")
	case 2: // French
		g.set(d, "prenom", first, "person_name")
		g.set(d, "courriel", g.email(first, last), "email")
		g.set(d, "mot_de_passe", g.password(), "password")
		g.set(d, "date_de_naissance", g.dob(), "date_of_birth")
		g.set(d, "adresse_mac", g.mac(), "mac_address")
	}
	d["cree_le"] = g.timestamp()
}

// ---- value generators ----

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	bcryptA  = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

func (g *Generator) alphabet(a string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = a[g.r.IntN(len(a))]
	}
	return string(b)
}

func (g *Generator) digits(n int) string { return g.alphabet("0123456789", n) }

var firstNamesGen = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"Sofia", "Lukas", "Camille", "Hugo", "Giulia", "Matteo", "Anouk", "Sven", "Aoife", "Priya",
	"Kwame", "Yuki", "Fatima", "Ivan", "Olga", "Zephyrine", "Thaddeus", "Marisol", "Eztli", "Bronwyn",
	"Idris", "Saoirse", "Anneliese", "Cosimo", "Leocadia", "Ottoline", "Ximena", "Zuriel", "Peregrine", "Wilhelmina",
}

// The first 25 given names are common ones (in the classifier's list of
// given names); the last 15 are rare and in no list, so a bare "name"
// field holding them tests the classifier honestly.

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez", "Lopez",
	"Müller", "Schmidt", "Dubois", "Moreau", "Rossi", "Russo", "de Vries", "Jansen", "O'Brien", "Kowalski",
	"Nakamura", "Okafor", "Haddad", "Ivanova", "Andersson", "García-López", "Nguyen", "Kim", "Patel", "Fitzgerald",
}

func (g *Generator) firstName() string { return g.pick(firstNamesGen) }
func (g *Generator) lastName() string  { return g.pick(lastNames) }

func asciiLower(s string) string {
	r := strings.NewReplacer("ü", "ue", "é", "e", "í", "i", "ó", "o", "'", "", " ", "", "-", "")
	return strings.ToLower(r.Replace(s))
}

func (g *Generator) username(first, last string) string {
	f, l := asciiLower(first), asciiLower(last)
	switch g.r.IntN(4) {
	case 0:
		return f[:1] + l + strconv.Itoa(g.r.IntN(100))
	case 1:
		return f + "_" + l
	case 2:
		return f + "." + l + strconv.Itoa(g.r.IntN(10))
	}
	return g.pick([]string{"coolcat", "sk8r", "nightowl", "pixel", "gamer"}) + strconv.Itoa(g.r.IntN(10000))
}

var domains = []string{"gmail.com", "yahoo.com", "outlook.com", "example.org", "web.de", "orange.fr", "corp.example.co.uk", "mail.example.net"}

func (g *Generator) email(first, last string) string {
	f, l := asciiLower(first), asciiLower(last)
	local := f + "." + l
	switch g.r.IntN(3) {
	case 1:
		local = f[:1] + l + strconv.Itoa(g.r.IntN(1000))
	case 2:
		local = f + "+" + g.pick([]string{"shop", "news", "cam"})
	}
	e := local + "@" + g.pick(domains)
	if g.chance(0.1) {
		e = strings.ToUpper(e[:1]) + e[1:]
	}
	return e
}

func (g *Generator) password() string {
	switch g.r.IntN(3) {
	case 0:
		return g.pick([]string{"Summer", "Winter", "Dragon", "Monkey", "Sunshine"}) + strconv.Itoa(g.r.IntN(3000)) + "!"
	case 1:
		return g.alphabet(alnum+"!@#$%", 8+g.r.IntN(10))
	}
	return strings.ToLower(g.lastName()) + strconv.Itoa(1950+g.r.IntN(70))
}

func (g *Generator) passwordHash() string {
	switch g.r.IntN(5) {
	case 0, 1:
		return "$2b$" + fmt.Sprintf("%02d", 10+g.r.IntN(4)) + "$" + g.alphabet(bcryptA, 53)
	case 2:
		return "$argon2id$v=19$m=65536,t=3,p=4$" + g.alphabet(b64chars[:62], 22) + "$" + g.alphabet(b64chars[:62], 43)
	case 3:
		return g.alphabet("0123456789abcdef", 64)
	}
	return "$6$" + g.alphabet(bcryptA, 16) + "$" + g.alphabet(bcryptA, 86)
}

// phone returns a number valid in its country's numbering plan (checked
// against libphonenumber's metadata), in one of several spellings.
func (g *Generator) phone() string {
	for {
		p := g.phoneCandidate()
		region := "US"
		if num, err := phonenumbers.Parse(p, region); err == nil && phonenumbers.IsValidNumber(num) {
			return p
		}
	}
}

func (g *Generator) phoneCandidate() string {
	switch g.r.IntN(5) {
	case 0:
		return "+1" + g.usNumber()
	case 1:
		n := g.usNumber()
		return "(" + n[:3] + ") " + n[3:6] + "-" + n[6:]
	case 2:
		return "+44 7" + g.alphabet("123456789", 1) + g.digits(2) + " " + g.digits(6)
	case 3:
		return "+49 15" + g.alphabet("12579", 1) + " " + g.digits(8)
	}
	return "+33 6 " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2) + " " + g.digits(2)
}

func (g *Generator) phoneE164Spaced() string {
	for {
		n := g.usNumber()
		p := "+1 " + n[:3] + " " + n[3:6] + " " + n[6:]
		if num, err := phonenumbers.Parse(p, "US"); err == nil && phonenumbers.IsValidNumber(num) {
			return p
		}
	}
}

// usNumber: a NANP number with a real area code and a valid exchange.
func (g *Generator) usNumber() string {
	area := g.pick([]string{"212", "415", "312", "617", "206", "303", "512", "404", "702", "818"})
	ex := strconv.Itoa(200 + g.r.IntN(700))
	if ex[1:] == "11" {
		ex = "234"
	}
	return area + ex + g.digits(4)
}

func (g *Generator) dob() string {
	y, m, day := 1940+g.r.IntN(65), g.r.IntN(12)+1, g.r.IntN(28)+1
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf("%04d-%02d-%02d", y, m, day)
	case 1:
		return fmt.Sprintf("%02d.%02d.%04d", day, m, y)
	case 2:
		return fmt.Sprintf("%02d/%02d/%04d", m, day, y)
	}
	return fmt.Sprintf("%04d-%02d-%02dT00:00:00Z", y, m, day)
}

func (g *Generator) timestamp() string {
	t := g.now.Add(-time.Duration(g.r.Int64N(int64(5 * 365 * 24 * time.Hour))))
	return t.Format(time.RFC3339)
}

func (g *Generator) ip() string {
	if g.chance(0.15) {
		return fmt.Sprintf("2001:db8:%x:%x::%x", g.r.IntN(65536), g.r.IntN(65536), g.r.IntN(65536))
	}
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(222), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *Generator) mac() string {
	b := make([]byte, 6)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	b[0] = b[0]&0xfc | 0x04
	switch g.r.IntN(3) {
	case 0:
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
	case 1:
		return fmt.Sprintf("%02X-%02X-%02X-%02X-%02X-%02X", b[0], b[1], b[2], b[3], b[4], b[5])
	}
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", b[0], b[1], b[2], b[3], b[4], b[5])
}

func (g *Generator) uuid() string {
	h := g.alphabet("0123456789abcdef", 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

func (g *Generator) serial() string {
	switch g.r.IntN(3) {
	case 0:
		return "SN" + g.digits(10)
	case 1:
		return g.alphabet("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", 16)
	}
	return g.uuid()
}

func (g *Generator) deviceModel() string {
	return g.pick([]string{"Nest Cam IQ", "Wyze Cam v3", "Arlo Pro 4", "Ring Stick Up Cam", "Eufy Indoor Cam 2K", "TP-Link Tapo C200", "Blink Mini", "Logitech Circle View", "D-Link DCS-8000LH", "Xiaomi Mi 360"})
}

func (g *Generator) ssid(last string) string {
	switch g.r.IntN(6) {
	case 0:
		return fmt.Sprintf("NETGEAR%02d-5G", g.r.IntN(100))
	case 1:
		return "FRITZ!Box 7590 " + g.alphabet("ABCDEFGHJKLMNPQRSTUVWXYZ", 2)
	case 2:
		return "Vodafone-" + g.alphabet("0123456789ABCDEF", 4)
	case 3:
		return last + " Family WiFi"
	case 4:
		return g.pick([]string{"HomeNet", "Pretty Fly for a WiFi", "TellMyWiFiLoveHer", "Skynet_Guest"})
	}
	return "Livebox-" + g.alphabet("0123456789ABCDEF", 4)
}

func (g *Generator) opaque(n int) string {
	if g.chance(0.3) {
		return g.alphabet("0123456789abcdef", n)
	}
	return g.alphabet(alnum+"-_", n)
}

func (g *Generator) jwt() string {
	alg := g.pick([]string{"HS256", "RS256", "ES256"})
	head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
	body := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%d","iat":%d,"scope":"camera"}`, g.r.IntN(1e7), 1.5e9+g.r.IntN(2e8))))
	return head + "." + body + "." + g.alphabet(alnum+"-_", 43)
}

func (g *Generator) card() string {
	var prefix string
	var n int
	switch g.r.IntN(4) {
	case 0:
		prefix, n = "4"+g.digits(5), 16
	case 1:
		prefix, n = strconv.Itoa(51+g.r.IntN(5))+g.digits(4), 16
	case 2:
		prefix, n = g.pick([]string{"34", "37"})+g.digits(4), 15
	default:
		prefix, n = "6011"+g.digits(2), 16
	}
	body := prefix + g.digits(n-len(prefix)-1)
	num := body + strconv.Itoa(luhnDigit(body))
	if g.chance(0.5) && n == 16 {
		return num[:4] + " " + num[4:8] + " " + num[8:12] + " " + num[12:]
	}
	return num
}

func luhnDigit(body string) int {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

func (g *Generator) iban() string {
	country, bban := "DE", g.digits(18)
	if g.chance(0.5) {
		country, bban = "GB", g.alphabet("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 4)+g.digits(14)
	}
	// check digits: 98 - mod97(bban + country + "00")
	rem := 0
	for _, c := range bban + country + "00" {
		if c >= 'A' && c <= 'Z' {
			rem = (rem*100 + int(c-'A') + 10) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return fmt.Sprintf("%s%02d%s", country, 98-rem, bban)
}

func (g *Generator) street() string {
	switch g.r.IntN(3) {
	case 0:
		return strconv.Itoa(1+g.r.IntN(9999)) + " " + g.pick([]string{"Main St", "Oak Avenue", "Elm Street", "Sunset Blvd"})
	case 1:
		return g.pick([]string{"Hauptstraße", "Bahnhofstr.", "Gartenweg"}) + " " + strconv.Itoa(1+g.r.IntN(200))
	}
	return strconv.Itoa(1+g.r.IntN(99)) + " rue " + g.pick([]string{"de la Paix", "Victor Hugo", "des Lilas"})
}

func (g *Generator) ssn() string {
	for {
		a, b, c := 1+g.r.IntN(898), 1+g.r.IntN(98), 1+g.r.IntN(9998)
		if a == 666 {
			continue
		}
		return fmt.Sprintf("%03d-%02d-%04d", a, b, c)
	}
}

func (g *Generator) lat() float64 { return float64(int((g.r.Float64()*140-70)*1e5)) / 1e5 }
func (g *Generator) lon() float64 { return float64(int((g.r.Float64()*340-170)*1e5)) / 1e5 }
