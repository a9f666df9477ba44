package classify

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Planted values of every class Scrub masks in names.
var plantedNameValues = []struct{ class, value string }{
	{"email", "jane.doe@example.com"},
	{"auth_token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N6XgL0n3I9PlFUP0THsR8U"},
	{"api_key", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"},
	{"api_key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"},
	{"api_key", "AKIAZ3MSJV4WWNKWW5FG"},
	{"password_hash", "$2b$12$KIXQJQvC5v1n3a0G6u7kRe0Tn0Ihx0l0Y7m4p1TzJb3q6b9y8c2lW"},
	{"phone", "+4915112345678"},
	{"payment_card", "4539 1488 0343 6467"},
	{"bank_account", "DE89 3704 0044 0532 0130 00"},
	{"mac_address", "00:1a:2b:3c:4d:5e"},
	{"password", "password=Hunter2Secret"},
}

// TestScrubTextMasksPlantedValues: a value in any position of a name —
// alone, after a key prefix, inside a path, between words, split by an
// invisible character — never comes out raw.
func TestScrubTextMasksPlantedValues(t *testing.T) {
	for _, p := range plantedNameValues {
		raw := p.value
		if p.class == "password" {
			raw = "Hunter2Secret"
		}
		for _, shape := range []string{"%s", "user:%s", "a/b/%s/c", "idx %s logs", "k=%s&x=1", "%s\u202e"} {
			name := strings.Replace(shape, "%s", p.value, 1)
			for _, got := range []string{ScrubText(name), ScrubFieldName(name)} {
				if strings.Contains(got, raw) {
					t.Errorf("%s in %q: scrubbed to %q, raw value kept", p.class, name, got)
				}
				if strings.ContainsRune(got, '\u202e') {
					t.Errorf("%q: bidi control kept in %q", name, got)
				}
			}
		}
	}
	// An invisible character inside the value does not hide it.
	if got := ScrubText("ja\u200bne.doe@exa\u202emple.com"); strings.Contains(got, "ne.doe@") || strings.Contains(got, "example") {
		t.Errorf("split e-mail kept: %q", got)
	}
}

// TestScrubTextKeepsOrdinaryNames: names without values stay readable;
// IP addresses are kept (see the package rule).
func TestScrubTextKeepsOrdinaryNames(t *testing.T) {
	for _, name := range []string{"customers", "logs-2024.01.15", "logs-10.0.0.1", ".kibana_task_manager_7.17.0_001",
		"opensearch", "2.19.6", "7.0.15", "user_name", "address.city", "café-bestellungen", "NOAUTH Authentication required."} {
		if got := ScrubText(name); got != name {
			t.Errorf("ScrubText(%q) = %q", name, got)
		}
	}
	for name, want := range map[string]string{
		"sessions.8f3a9c2e4b1d7f6a0c5e9b2d4f8a1c3e.user": "sessions.{id}.user",
		"items.0.price": "items.{n}.price",
		"email":         "email",
	} {
		if got := ScrubFieldName(name); got != want {
			t.Errorf("ScrubFieldName(%q) = %q, want %q", name, got, want)
		}
	}
	if got := ScrubText(strings.Repeat("a", 1<<20)); len(got) > maxScrubLen+8 {
		t.Errorf("a 1 MiB name scrubbed to %d bytes", len(got))
	}
}

// TestScrubFinding: every target string of a finding is scrubbed, the
// input finding is not changed, and classification (which runs first)
// still saw the original field names.
func TestScrubFinding(t *testing.T) {
	const email, token = "jane.doe@example.com", "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
	e, err := New(Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	fields := []finding.Field{{Name: "contacts." + email, Type: "keyword"}, {Name: "contacts.john@example.org", Type: "keyword"},
		{Name: "email", Type: "keyword"}, {Name: "tokens." + token, Type: "text\u202e"}}
	out := e.Classify(Input{Schema: fields, Records: finding.Int64(10)})
	if len(out.Classes) == 0 || out.Classes[0].Class != ClassEmail {
		t.Fatalf("classification on the original schema: %+v", out.Classes)
	}
	f := &finding.Finding{
		Target: finding.Target{Host: "127.0.0.9", Port: 9200}, Service: "elasticsearch",
		Product: "opensearch", Version: "2.19.6 " + token, Error: "auth failed for " + email,
		Status: finding.StatusExposed, Auth: finding.AuthNone, Flags: []string{"note:" + email},
		Evidence: map[string]any{
			"cluster_name":     "prod",
			email:              map[string]int64{"hits": 3, token: 4},
			"users":            []string{email, "bob"},
			"j***@e******.com": "collides with the masked key",
		},
		Datasets: []finding.Dataset{{Name: "backup-" + email, Kind: "index", Records: finding.Int64(10), Fields: fields,
			Flags: []string{"x\u202e"}, Classes: out.Classes}},
	}
	before := f.Datasets[0].Fields[0].Name
	Scrub(f)
	f.Finalize()
	if fields[0].Name != before || !strings.Contains(fields[3].Name, token) {
		t.Error("Scrub changed the caller's field slice")
	}
	var all strings.Builder
	all.WriteString(f.Product + f.Version + f.Error + strings.Join(f.Flags, ",") + f.Datasets[0].Name + strings.Join(f.Datasets[0].Flags, ","))
	for _, fl := range f.Datasets[0].Fields {
		all.WriteString(fl.Name + " " + fl.Type + "\n")
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			all.WriteString(x + "\n")
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				all.WriteString(k + "\n")
				walk(e)
			}
		}
	}
	walk(f.Evidence)
	for _, c := range f.Datasets[0].Classes {
		all.WriteString(strings.Join(c.Fields, ",") + strings.Join(c.Examples, ","))
	}
	s := all.String()
	for _, raw := range []string{email, "john@example.org", token, "\u202e"} {
		if strings.Contains(s, raw) {
			t.Errorf("%q survived Scrub:\n%s", raw, s)
		}
	}
	if len(f.Evidence) != 4 || f.Evidence["cluster_name"] != "prod" {
		t.Errorf("evidence keys lost or changed: %v", f.Evidence)
	}
	if !strings.Contains(s, `text\u202e`) {
		t.Errorf("bidi control not shown as an escape:\n%s", s)
	}
}

// TestEstimateSaturates: estimates stay ordered and bounded for any
// record count a store reports. On the old code a count near 2^63 gave an
// estimate of math.MinInt64 (float→int64 overflow) and low > high, and a
// negative count gave negative estimates.
func TestEstimateSaturates(t *testing.T) {
	counts := []int64{math.MinInt64, -1, 0, 1, 7, 1_000_003, finding.MaxCount, finding.MaxCount + 1, math.MaxInt64 - 1, math.MaxInt64}
	for _, records := range counts {
		for _, km := range [][2]int{{0, 200}, {1, 200}, {199, 200}, {200, 200}, {3, 7}, {250, 200}, {-4, 200}, {5, 0}} {
			cc := finding.ClassCount{Sampled: km[1], Matched: km[0]}
			agg := &classAgg{freq: map[uint64]int32{1: 1, 2: 2, 3: 1}, values: 4}
			estimate(&cc, finding.Int64(records), agg)
			if !finding.ValidCount(records) || km[1] <= 0 {
				if cc.EstimatedRecords != nil || cc.DistinctSubjects != nil {
					t.Errorf("records %d, %v: estimate from an invalid count", records, km)
				}
				continue
			}
			est, lo, hi := *cc.EstimatedRecords, *cc.EstimateLow, *cc.EstimateHigh
			if !(0 <= lo && lo <= est && est <= hi && hi <= records) {
				t.Errorf("records %d, %v: low %d est %d high %d", records, km, lo, est, hi)
			}
			if cc.DistinctSubjects != nil && !finding.ValidCount(*cc.DistinctSubjects) {
				t.Errorf("records %d, %v: distinct %d", records, km, *cc.DistinctSubjects)
			}
		}
	}
}

// FuzzScrubText: any name a server sends, with a value planted in it as a
// word of its own, comes out with the value masked, without control or
// bidi runes, as valid UTF-8 and bounded in size — as a name and as a
// field path.
func FuzzScrubText(f *testing.F) {
	const planted = "planted.person@example.org"
	f.Fuzz(func(t *testing.T, prefix, suffix string) {
		name := prefix + " " + planted + " " + suffix
		for _, got := range []string{ScrubText(name), ScrubFieldName(name), ScrubText(prefix), ScrubFieldName(suffix)} {
			if strings.Contains(got, planted) {
				t.Fatalf("planted value kept: %q → %q", name, got)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("invalid UTF-8 from %q", name)
			}
			for _, r := range got {
				if finding.Unsafe(r) {
					t.Fatalf("%U kept in %q", r, got)
				}
			}
			if len(got) > 8*maxScrubLen {
				t.Fatalf("%d bytes from a %d-byte name", len(got), len(name))
			}
		}
	})
}

// TestScrubNameMasksTokenRuns: a dataset name or key that holds an opaque
// secret-shaped run is masked; the names people give datasets are kept.
func TestScrubNameMasksTokenRuns(t *testing.T) {
	for _, tc := range []struct{ in, raw string }{
		{"tok_live_9f8e7d6c5b4a39281706f5e4", "9f8e7d6c5b4a39281706f5e4"},
		{"sess-3b1f0c7e9a2d4f6b8c0e1a3d", "3b1f0c7e9a2d4f6b8c0e1a3d"},
		{"backup.AKz81mQpL0x7VnR2tY5wE3", "AKz81mQpL0x7VnR2tY5wE3"},
		{"a1b2c3d4e5f6a7b8c9d0e1f2", "a1b2c3d4e5f6a7b8c9d0e1f2"},
	} {
		got := ScrubName(tc.in)
		if strings.Contains(got, tc.raw) || !strings.Contains(got, "[token, ") {
			t.Errorf("ScrubName(%q) = %q: secret-shaped run kept", tc.in, got)
		}
	}
	for _, keep := range []string{
		"customers", "logs-2026.12.06-000001", "orders_v2", ".kibana_task_manager_7.10.2_001",
		"filebeat-7.10.2-2026.12.06", "averyveryverylongindexnamewithoutdigits", "12345678901234567890123",
		"user_sessions_2024", "",
	} {
		if got := ScrubName(keep); got != keep {
			t.Errorf("ScrubName(%q) = %q, want it kept", keep, got)
		}
	}
}

// TestScrubMasksTokenDatasetNamesAndEvidenceKeys: Scrub applies the name
// rule to dataset names and to evidence keys (per-index statistics are
// keyed by index name).
func TestScrubMasksTokenDatasetNamesAndEvidenceKeys(t *testing.T) {
	const raw = "9f8e7d6c5b4a39281706f5e4"
	f := &finding.Finding{
		Datasets: []finding.Dataset{{Name: "tok_live_" + raw, Kind: "index"}},
		Evidence: map[string]any{"search_stats": map[string]any{"tok_live_" + raw: map[string]any{"query_total": 1}}},
	}
	Scrub(f)
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), raw) {
		t.Fatalf("raw token-shaped name written: %s", out)
	}
}

// TestScrubMasksCardNumbersInNames: a card number in a bare name (no field
// name says "card") is masked when it passes Luhn, plain or grouped; other
// digit runs stay.
func TestScrubMasksCardNumbersInNames(t *testing.T) {
	for _, tc := range []struct{ in, raw string }{
		{"4111111111111111", "4111111111111111"},
		{"invoices/4111111111111111.pdf", "4111111111111111"},
		{"card 4111-1111-1111-1111 blocked", "4111-1111-1111-1111"},
		{"cc_5500 0000 0000 0004", "5500 0000 0000 0004"},
		{"378282246310005", "378282246310005"},
	} {
		got := ScrubName(tc.in)
		if strings.Contains(got, tc.raw) || !strings.Contains(got, "[card]") {
			t.Errorf("ScrubName(%q) = %q: card number kept", tc.in, got)
		}
	}
	for _, keep := range []string{
		"4111111111111112",        // fails Luhn
		"logs-20261206-000001",    // dates and counters
		"events-1733472000",       // an epoch
		"12345678901234567890123", // too long for a card
		"id4111111111111111",      // part of a longer word
		"v2.19.6", "2026.12.06",
	} {
		if got := ScrubName(keep); got != keep && !strings.Contains(got, "[token") {
			t.Errorf("ScrubName(%q) = %q, want it kept", keep, got)
		}
	}
}
