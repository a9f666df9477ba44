package classify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testKey = []byte("leakwatch-test-key-0123456789abcdef")

func TestCanaryMintAndMatch(t *testing.T) {
	dir := t.TempDir()
	regPath := filepath.Join(dir, "canaries.json")
	reg, err := LoadRegistry(regPath)
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, kind := range CanaryKinds {
		c, err := reg.Add(testKey, kind, "prod-"+kind, "", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		values[kind] = c.Value
		t.Logf("%-10s %s", kind, c.Value)
	}
	if _, err := reg.Add(testKey, CanaryEmail, "prod-email", "", time.Now()); err == nil {
		t.Fatal("duplicate label accepted")
	}
	if err := reg.Save(regPath); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(regPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("registry mode: %v %v", fi.Mode(), err)
	}
	b, _ := os.ReadFile(regPath)
	for _, v := range values {
		if strings.Contains(string(b), v) {
			t.Fatalf("registry stores the value %q", v)
		}
	}
	reg2, err := LoadRegistry(regPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range reg2.List(testKey) {
		if c.Value != values[c.Kind] {
			t.Fatalf("list re-derives %q, minted %q", c.Value, values[c.Kind])
		}
	}
	e, err := New(Options{Key: testKey, Canaries: reg2.Canaries})
	if err != nil {
		t.Fatal(err)
	}
	// Deterministic and recognised from key alone, in fields and in text.
	for kind, v := range values {
		again, _ := MintCanary(testKey, kind, "prod-"+kind)
		if again != v {
			t.Fatalf("mint not deterministic: %q vs %q", again, v)
		}
		for _, rec := range []Record{
			FromRow([]string{"id", "value"}, []string{"17", v}),
			FromText("log", "login by "+v+" from 10.0.0.1 failed"),
		} {
			out := e.Classify(Input{Sample: []Record{rec}})
			if len(out.Canaries) != 1 || out.Canaries[0] != "prod-"+kind {
				t.Fatalf("%s canary %q in %v: got %v", kind, v, rec, out.Canaries)
			}
		}
	}
	// Unregistered label: still detected, named by tag.
	e2, _ := New(Options{Key: testKey})
	out := e2.Classify(Input{Sample: []Record{FromText("k", values[CanaryEmail])}})
	if len(out.Canaries) != 1 || !strings.HasPrefix(out.Canaries[0], "unregistered:") {
		t.Fatalf("unregistered canary: %v", out.Canaries)
	}
	// Another key: nothing.
	e3, _ := New(Options{Key: []byte("some-other-installation-key!!")})
	out = e3.Classify(Input{Sample: []Record{FromText("k", values[CanaryEmail]), FromText("t", values[CanaryAuthToken])}})
	if len(out.Canaries) != 0 {
		t.Fatalf("other key recognised canaries: %v", out.Canaries)
	}
	// A mutated canary is not one.
	v := values[CanaryUsername]
	mut := v[:len(v)-1] + string("abcdefghij"[(strings.IndexByte("abcdefghij", v[len(v)-1])+1)%10])
	out = e.Classify(Input{Sample: []Record{FromText("k", mut)}})
	if len(out.Canaries) != 0 {
		t.Fatalf("mutated canary %q matched", mut)
	}
	// Canary emails are classified as ordinary emails too.
	out = e.Classify(Input{Sample: []Record{FromRow([]string{"email"}, []string{values[CanaryEmail]})}})
	if len(out.Classes) != 1 || out.Classes[0].Class != "email" {
		t.Fatalf("canary email classes: %+v", out.Classes)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "key")
	k1, err := LoadOrCreateKey(p)
	if err != nil || len(k1) != 32 {
		t.Fatalf("create: %v %d", err, len(k1))
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key mode %v", fi.Mode())
	}
	k2, err := LoadOrCreateKey(p)
	if err != nil || string(k1) != string(k2) {
		t.Fatalf("reload: %v", err)
	}
	os.WriteFile(p, []byte("nothex"), 0o600)
	if _, err := LoadOrCreateKey(p); err == nil {
		t.Fatal("bad key accepted")
	}
	if _, err := New(Options{Key: []byte("short")}); err == nil {
		t.Fatal("short key accepted")
	}
}

func TestMACIsHMAC(t *testing.T) {
	for _, key := range [][]byte{testKey, []byte(strings.Repeat("k", 100))} {
		e, err := New(Options{Key: key})
		if err != nil {
			t.Fatal(err)
		}
		got := e.mac(nil, "v1:", "jane@example.com")
		want := hmacSum(key, "v1:jane@example.com")
		if string(got) != string(want) {
			t.Fatalf("mac != HMAC-SHA256 for key len %d", len(key))
		}
	}
}
