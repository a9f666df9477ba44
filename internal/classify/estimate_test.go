package classify

import (
	"fmt"
	"math"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n   int
		lo, hi float64
	}{
		{50, 100, 0.4038, 0.5962},
		{0, 200, 0, 0.0188},
		{200, 200, 0.9812, 1},
		{1, 10, 0.0179, 0.4042},
	} {
		lo, hi := wilson(c.k, c.n, 1.959964)
		if math.Abs(lo-c.lo) > 0.0005 || math.Abs(hi-c.hi) > 0.0005 {
			t.Errorf("wilson(%d,%d) = %.4f..%.4f, want %.4f..%.4f", c.k, c.n, lo, hi, c.lo, c.hi)
		}
	}
}

func emailRecords(values []string) []Record {
	var recs []Record
	for _, v := range values {
		recs = append(recs, FromRow([]string{"email", "note"}, []string{v, "x"}))
	}
	return recs
}

func classOf(out Output, name string) *finding.ClassCount {
	for i := range out.Classes {
		if out.Classes[i].Class == name {
			return &out.Classes[i]
		}
	}
	return nil
}

func TestEstimates(t *testing.T) {
	e := testEngine(t)
	// 200 sampled, 150 with a distinct email, of 2.4M records.
	var vals []string
	for i := 0; i < 200; i++ {
		if i < 150 {
			vals = append(vals, fmt.Sprintf("user%d@example.org", i))
		} else {
			vals = append(vals, "")
		}
	}
	out := e.Classify(Input{Sample: emailRecords(vals), Records: finding.Int64(2_400_000)})
	c := classOf(out, "email")
	if c == nil || c.Matched != 150 || c.Sampled != 200 || *c.EstimatedRecords != 1_800_000 {
		t.Fatalf("email: %+v", c)
	}
	if *c.EstimateLow > 1_800_000 || *c.EstimateHigh < 1_800_000 || *c.EstimateLow < 1_600_000 || *c.EstimateHigh > 1_950_000 {
		t.Fatalf("interval %d..%d", *c.EstimateLow, *c.EstimateHigh)
	}
	// All distinct: the subjects estimate equals the records estimate.
	if c.DistinctSubjects == nil || *c.DistinctSubjects != 1_800_000 {
		t.Fatalf("distinct all-distinct: %v", c.DistinctSubjects)
	}
	// An event log: 200 events from 40 users, each seen 5 times → Chao1.
	vals = vals[:0]
	for i := 0; i < 200; i++ {
		vals = append(vals, fmt.Sprintf("user%d@example.org", i%40))
	}
	out = e.Classify(Input{Sample: emailRecords(vals), Records: finding.Int64(2_400_000)})
	c = classOf(out, "email")
	if c.DistinctSubjects == nil || *c.DistinctSubjects != 40 {
		t.Fatalf("distinct with repeats (no singletons) = %v, want 40", c.DistinctSubjects)
	}
	// Mostly singletons with a few doubletons: Chao1 d + f1(f1-1)/(2(f2+1)).
	vals = vals[:0]
	for i := 0; i < 190; i++ {
		vals = append(vals, fmt.Sprintf("s%d@example.org", i))
	}
	for i := 0; i < 5; i++ {
		vals = append(vals, fmt.Sprintf("d%d@example.org", i), fmt.Sprintf("d%d@example.org", i))
	}
	out = e.Classify(Input{Sample: emailRecords(vals), Records: finding.Int64(1_000_000)})
	c = classOf(out, "email")
	want := int64(math.Round(195 + 190.0*189/(2*6)))
	if *c.DistinctSubjects != want {
		t.Fatalf("chao1 = %d, want %d", *c.DistinctSubjects, want)
	}
	// Unknown size: no extrapolation.
	out = e.Classify(Input{Sample: emailRecords(vals)})
	c = classOf(out, "email")
	if c.EstimatedRecords != nil || c.DistinctSubjects != nil || c.Matched != 200 {
		t.Fatalf("unknown size: %+v", c)
	}
}

func TestSchemaOnly(t *testing.T) {
	e := testEngine(t)
	schema := []finding.Field{
		{Name: "user.email", Type: "keyword"},
		{Name: "pin.location", Type: "geo_point"},
		{Name: "client", Type: "ip"},
		{Name: "email_verified", Type: "boolean"},
		{Name: "birth_date", Type: "date"},
		{Name: "created_at", Type: "date"},
		{Name: "wifi_ssid", Type: "text"},
		{Name: "accessToken", Type: "keyword"},
		{Name: "name", Type: "text"},
	}
	out := e.Classify(Input{Schema: schema, Records: finding.Int64(1000)})
	got := map[string]finding.ClassCount{}
	for _, c := range out.Classes {
		got[c.Class] = c
	}
	for _, want := range []string{"email", "geo_location", "ip_address", "date_of_birth", "wifi_ssid", "auth_token"} {
		c, ok := got[want]
		if !ok {
			t.Errorf("schema class %s missing", want)
			continue
		}
		if c.Source != "schema" || c.Matched != 0 || c.EstimatedRecords != nil || c.Sampled != 0 || c.Examples == nil {
			t.Errorf("%s: %+v", want, c)
		}
	}
	if _, ok := got["person_name"]; ok {
		t.Errorf("a bare name field is no schema evidence of person_name")
	}
	if len(got) != 6 {
		t.Errorf("classes %v", out.Classes)
	}
	// With a sample: email matched by values, the rest stays schema.
	out = e.Classify(Input{Schema: schema, Records: finding.Int64(1000), Sample: []Record{
		{Values: []Value{{"user.email", "a.b@example.com"}, {"wifi_ssid", ""}}},
		{Values: []Value{{"user.email", "c.d@example.com"}}},
	}})
	for _, c := range out.Classes {
		switch c.Class {
		case "email":
			if c.Source != "values" || c.Matched != 2 || c.Sampled != 2 || *c.EstimatedRecords != 1000 {
				t.Errorf("email: %+v", c)
			}
		default:
			if c.Source != "schema" || c.Sampled != 2 || c.Matched != 0 {
				t.Errorf("%s: %+v", c.Class, c)
			}
		}
	}
}

func TestRowsRedisAndText(t *testing.T) {
	e := testEngine(t)
	out := e.Classify(Input{Sample: []Record{
		FromRow([]string{"id", "login", "pwd_hash", "tel"}, []string{"1", "jdoe", "$2y$10$abcdefghijklmnopqrstuuJ0J8qYkF6c1nQqVb2mD4oQ9z5uS7w6e", "+44 20 7946 0958"}),
		{Values: []Value{{"_key", "session:9f2c1d"}, {"value", "eyJhbGciOiJIUzI1NiJ9.eyJ1IjoxfQ.c2lnbmF0dXJl"}}},
		FromText("chat:42", "ping me at lena.schmidt@web.de, card 4539 1488 0343 6467"),
	}})
	want := map[string]bool{"username": true, "password_hash": true, "phone": true, "auth_token": true, "email": true, "payment_card": true}
	for _, c := range out.Classes {
		if !want[c.Class] {
			t.Errorf("unexpected %s %+v", c.Class, c)
		}
		delete(want, c.Class)
	}
	if len(want) > 0 {
		t.Errorf("missing %v", want)
	}
}

func TestSafePaths(t *testing.T) {
	for in, want := range map[string]string{
		"user.email":                 "user.email",
		"session:4f1c2d3e4f5a6b7c":   "session:{id}",
		"user:jane@example.com:cart": "user:{email}:cart",
		"orders.12345.card":          "orders.{n}.card",
	} {
		if got := safePath(in); got != want {
			t.Errorf("safePath(%q) = %q, want %q", in, got, want)
		}
	}
}
