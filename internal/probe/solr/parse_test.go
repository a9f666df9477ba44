package solr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The testdata files are answers of a real Solr 9.10.1 node (paths and JVM
// details shortened).

func TestParseSystem(t *testing.T) {
	si, err := parseSystem(read(t, "system.json"))
	if err != nil || si.Lucene.SolrSpec != "9.10.1" || si.Mode != "std" || si.Lucene.LuceneSpec != "9.12.3" || si.Security.Authentication != "" {
		t.Fatalf("%+v %v", si, err)
	}
	si, err = parseSystem([]byte(`{"responseHeader":{"status":0},"lucene":{"solr-spec-version":"9.10.1"},"security":{"authenticationPlugin":"org.apache.solr.security.BasicAuthPlugin","authorizationPlugin":"org.apache.solr.security.RuleBasedAuthorizationPlugin"}}`))
	if err != nil || si.Security.Authentication != "BasicAuthPlugin" || si.Security.Authorization != "RuleBasedAuthorizationPlugin" {
		t.Errorf("security: %+v %v", si.Security, err)
	}
	for _, body := range []string{
		`{"version":{"number":"8.0.0"}}`, // Elasticsearch
		`{"responseHeader":{"status":0},"lucene":{}}`,
		`{"lucene":{"solr-spec-version":"9.1"}}`,
		`<html>`, ``,
	} {
		if _, err := parseSystem([]byte(body)); err == nil {
			t.Errorf("%q taken for Solr", body)
		}
	}
}

func TestParseCoreStatus(t *testing.T) {
	body := read(t, "cores-status.json")
	cores, failures, cut, err := parseCoreStatus(body)
	if err != nil || cut || failures != 0 || len(cores) != 2 {
		t.Fatalf("%+v %d %v %v", cores, failures, cut, err)
	}
	if cores[0].Name != "customers" || *cores[0].Records != 2 || *cores[0].Bytes <= 0 || cores[1].Name != "archive" || *cores[1].Records != 0 {
		t.Errorf("cores %+v", cores)
	}
	// Cut inside the second core: the first (in body order: archive) is kept.
	at := strings.Index(string(body), `"customers"`) + 20
	cores, _, cut, err = parseCoreStatus(body[:at])
	if err != nil || !cut || len(cores) != 1 || cores[0].Name != "archive" {
		t.Errorf("cut body: %+v %v %v", cores, cut, err)
	}
	// Hostile numbers are unknown, not trusted.
	cores, failures, _, err = parseCoreStatus([]byte(`{"initFailures":{"x":"boom"},"status":{"a":{"name":"a","index":{"numDocs":-5,"sizeInBytes":1e400}},"b":{"index":{"numDocs":"7"}},"c":3}}`))
	if err != nil || failures != 1 || len(cores) != 2 || cores[0].Name != "b" || *cores[0].Records != 7 || cores[1].Records != nil || cores[1].Bytes != nil {
		t.Errorf("hostile: %+v %d %v", cores, failures, err)
	}
	for _, body := range []string{`[]`, `{"status":[]}`, `{"responseHeader":{}}`, `nope`} {
		if _, _, _, err := parseCoreStatus([]byte(body)); err == nil {
			t.Errorf("%q: no error", body)
		}
	}
}

func TestParseLukeFields(t *testing.T) {
	fields, err := parseLukeFields(read(t, "luke.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range fields {
		got[f.Name] = f.Type
	}
	want := map[string]string{"_version_": "plong", "email": "string", "id": "string", "login_token": "string", "tags": "strings", "user_name_s": "string", "wifi_ssid": "string"}
	if len(got) != len(want) {
		t.Errorf("fields %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s: %q, want %q", k, got[k], v)
		}
	}
}

func TestParseDocs(t *testing.T) {
	body := read(t, "select.json")
	recs, cut, err := parseDocs(body)
	if err != nil || cut || len(recs) != 2 {
		t.Fatalf("%d %v %v", len(recs), cut, err)
	}
	at := strings.Index(string(body), `"id":"2"`)
	recs, cut, err = parseDocs(body[:at])
	if err != nil || !cut || len(recs) != 1 {
		t.Errorf("cut: %d %v %v", len(recs), cut, err)
	}
	if _, _, err := parseDocs([]byte(`{"error":{"msg":"undefined field"}}`)); err == nil {
		t.Error("error answer parsed as documents")
	}
}

func TestIsKeyAnswer(t *testing.T) {
	if !isKeyAnswer(read(t, "key.json")) || isKeyAnswer([]byte(`{"key":"x"}`)) || isKeyAnswer([]byte(`{"responseHeader":{},"key":""}`)) {
		t.Error("key answer misjudged")
	}
}

// FuzzParse feeds every parser of Solr answers the same bytes: none may
// panic, and what they return must be bounded and sane.
func FuzzParse(f *testing.F) {
	for _, n := range []string{"system.json", "cores-status.json", "luke.json", "select.json", "key.json"} {
		f.Add(read(f, n))
	}
	f.Add([]byte(`{"status":{"a":{"index":{"numDocs":1}}`))
	f.Add([]byte(`{"response":{"docs":[{"a":[1,{"b":null}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseSystem(b)
		cores, _, _, err := parseCoreStatus(b)
		if err != nil && len(cores) != 0 {
			t.Errorf("cores with an error")
		}
		for _, c := range cores {
			if c.Name == "" || (c.Records != nil && *c.Records < 0) || (c.Bytes != nil && *c.Bytes < 0) {
				t.Errorf("bad core %+v", c)
			}
		}
		fields, _ := parseLukeFields(b)
		if len(fields) > maxFields {
			t.Errorf("%d fields", len(fields))
		}
		_, _, _ = parseDocs(b)
		_ = isKeyAnswer(b)
	})
}
