package classify

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/classify/gen"
	"github.com/leakwatch/leakwatch/internal/finding"
)

var jsonSeeds = []string{
	`{"user":{"email":"jane.doe@example.com","name":"Jane Doe"},"tags":["a","b"],"n":1.5e3,"ok":true,"x":null}`,
	`[1,2,{"a":"\u00e9\ud83d\ude00\n"}]`,
	`"top"`, `42`, `{"a":{"b":{"c":[[[{"d":"deep"}]]]}}}`, `{"bad":"\ud800x"}`, `{"k":"v"} x`, `{`, `{"a":}`,
	`{"a":-0.0e-1,"b":0,"c":[],"d":{}}`, `{"s":"tab\there"}`, `{"":""}`, "{\"a\":\"\xff\xfe\"}",
}

// FuzzFromJSONBytes: the hand-written flattener accepts exactly what
// encoding/json accepts and yields the same leaves.
func FuzzFromJSONBytes(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	g := gen.New(1)
	for i := 0; i < 20; i++ {
		f.Add(g.Next().JSON)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := FromJSONBytes(b)
		if (err == nil) != json.Valid(b) {
			t.Fatalf("validity differs: ours %v, encoding/json valid=%v", err, json.Valid(b))
		}
		var doc any
		if err != nil || json.Unmarshal(b, &doc) != nil || !utf8.Valid(b) || strings.Contains(string(b), `\u`) {
			return
		}
		ref := FromJSON(doc)
		if len(ref.Values) >= maxLeaves || len(rec.Values) >= maxLeaves || hasDupKeys(b) {
			return
		}
		if a, r := leaves(rec), leaves(ref); strings.Join(a, "\n") != strings.Join(r, "\n") {
			t.Fatalf("leaves differ:\nours %q\nref  %q", a, r)
		}
	})
}

func hasDupKeys(b []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(b)))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool
	}
	var st []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				st = append(st, &frame{obj: true, keys: map[string]bool{}, key: true})
				continue
			case '[':
				st = append(st, &frame{})
				continue
			default:
				st = st[:len(st)-1]
			}
		case string:
			if len(st) > 0 && st[len(st)-1].obj && st[len(st)-1].key {
				if st[len(st)-1].keys[v] {
					return true
				}
				st[len(st)-1].keys[v] = true
				st[len(st)-1].key = false
				continue
			}
		}
		if len(st) > 0 && st[len(st)-1].obj {
			st[len(st)-1].key = true
		}
	}
}

// leaves renders a record as sorted "path=value" with numbers normalised.
func leaves(r Record) []string {
	var out []string
	for _, v := range r.Values {
		t := v.Text
		if f, err := strconv.ParseFloat(t, 64); err == nil && !math.IsInf(f, 0) && t != "" && (t[0] == '-' || t[0] >= '0' && t[0] <= '9') {
			t = strconv.FormatFloat(f, 'g', -1, 64)
		}
		out = append(out, v.Path+"="+t)
	}
	sort.Strings(out)
	return out
}

// FuzzClassifyRecord: classification never panics, and no output reveals
// more of a sampled value than a mask allows.
func FuzzClassifyRecord(f *testing.F) {
	f.Add("email", "jane.doe@example.com", "note", "call +1 212 736 5000 or pay 4539 1488 0343 6467")
	f.Add("access_token", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln", "password", "hunter2hunter2")
	f.Add("camera.mac", "a4:5e:60:12:34:56", "ssid", "Martinez Family WiFi")
	f.Add("aws", "AKIAZ4DXQ7MPL2RSVW3T", "pwd_hash", "$2b$12$KIXQJ8z3bC1rYr4h0lK0UeFh1yq0y7hQ6o3bP9uF6Qw8bqN7Yk1eS")
	f.Add("iban", "DE89 3704 0044 0532 0130 00", "phone", "07911 123456")
	f.Add("dob", "1984-03-02", "geo", "48.8566,2.3522")
	f.Add("user.name", "Ana Souza", "private_key", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----")
	e := testEngine(f)
	f.Fuzz(func(t *testing.T, p1, v1, p2, v2 string) {
		rec := Record{Values: []Value{{p1, v1}, {p2, v2}, {"message", v1 + " " + v2}}}
		out := e.Classify(Input{Sample: []Record{rec, rec}, Records: finding.Int64(10), Schema: []finding.Field{{Name: p1, Type: "keyword"}}})
		checkNoRaw(t, out, []string{v1, v2})
	})
}

// checkNoRaw fails when an example or hash of the output contains a raw
// value (≥8 bytes) or a run of it longer than a mask may show (a third of
// the value, at least 11 bytes: a provider prefix or a MAC vendor half).
func checkNoRaw(t testing.TB, out Output, raws []string) {
	t.Helper()
	for _, cc := range out.Classes {
		texts := append(append([]string{}, cc.Examples...), cc.Hashes...)
		for _, x := range texts {
			for _, raw := range raws {
				for _, v := range strings.Fields(raw) {
					if len(v) < 8 || len(v) > 512 {
						continue
					}
					l := max(11, len(v)/3) + 1
					if l > len(v) {
						l = len(v)
					}
					for i := 0; i+l <= len(v); i++ {
						if strings.Contains(x, v[i:i+l]) {
							t.Fatalf("class %s example/hash %q reveals %q of raw %q", cc.Class, x, v[i:i+l], v)
						}
					}
				}
			}
		}
	}
}
