package chroma

import (
	"strings"
	"testing"
)

const (
	collections = `[{"id":"5baf7523-801d-46aa-9e80-05651ac297ba","name":"support_tickets","configuration_json":{"hnsw":{"space":"l2"}},"metadata":{"team":"cx"},"dimension":3,"tenant":"default_tenant","database":"default_database","log_position":0,"version":0},{"id":"x/../y","name":"bad"},{"id":"7883406c","name":"faq","dimension":-2}]`
	getAnswer   = `{"ids":["t1","t2","t3"],"embeddings":null,"documents":["Customer Ann Lee (ann.lee@mail.example) wrote","hello",null],"uris":null,"metadatas":[{"email":"ann.lee@mail.example","plan":"pro"},{"n":1},null],"include":["documents","metadatas"]}`
)

func TestParse(t *testing.T) {
	if !parseHeartbeat([]byte(`{"nanosecond heartbeat":1796550678241902613}`)) || parseHeartbeat([]byte(`{"heartbeat":1}`)) {
		t.Error("heartbeat")
	}
	if v, ok := parseVersion([]byte(`"1.0.0"`)); !ok || v != "1.0.0" {
		t.Errorf("version %q", v)
	}
	for _, b := range []string{`"hello"`, `1`, `""`, `"` + strings.Repeat("1.", 30) + `"`} {
		if _, ok := parseVersion([]byte(b)); ok {
			t.Errorf("%s taken for a version", b)
		}
	}
	if id, ok := parseIdentity([]byte(`{"user_id":"","tenant":"default_tenant","databases":["default_database"]}`)); !ok || id.Tenant != "default_tenant" {
		t.Errorf("identity %+v", id)
	}
	if e, ok := parseError([]byte(`{"error":"AuthError","message":"Forbidden"}`)); !ok || e.Error != "AuthError" {
		t.Errorf("error %+v", e)
	}
	dbs, cut, err := parseDatabases([]byte(`[{"id":"0","name":"default_database","tenant":"default_tenant"},{"name":"research"},{"name":"third"}]`), 2)
	if err != nil || len(dbs) != 2 || !cut {
		t.Errorf("databases %v cut %v err %v", dbs, cut, err)
	}
	cs, cut, err := parseCollections([]byte(collections), 10)
	if err != nil || cut || len(cs) != 2 || cs[0].Name != "support_tickets" || *cs[0].Dimension != 3 || cs[1].Dimension != nil {
		t.Errorf("collections %+v cut %v err %v", cs, cut, err)
	}
	if n, ok := parseCount([]byte("42\n")); !ok || n != 42 {
		t.Errorf("count %d", n)
	}
	for _, b := range []string{"-1", "1e3", "99999999999999999999", `"3"`} {
		if _, ok := parseCount([]byte(b)); ok {
			t.Errorf("%s taken for a count", b)
		}
	}
	recs, err := parseGet([]byte(getAnswer), 10)
	if err != nil || len(recs) != 3 {
		t.Fatalf("get: %d records, %v", len(recs), err)
	}
	paths := map[string]bool{}
	for _, v := range recs[0].Values {
		paths[v.Path] = true
	}
	if !paths["id"] || !paths["document"] || !paths["metadata.email"] || !paths["metadata.plan"] {
		t.Errorf("record paths %v", paths)
	}
	if recs, _ := parseGet([]byte(getAnswer), 1); len(recs) != 1 {
		t.Errorf("%d records past max 1", len(recs))
	}
	if _, err := parseGet([]byte(`{"error":"x"}`), 5); err == nil {
		t.Error("an error taken for a get")
	}
	f := fields(cs[0], recs)
	if len(f) != 5 || f[0].Type != "float32[3]" || f[2].Name != "metadata.email" {
		t.Errorf("fields %v", f)
	}
}

// FuzzParse: no parser panics; lists stay within max; collections have
// ids that are one path segment; counts are never negative; a get gives
// at most max records, one per id, and never an embedding.
func FuzzParse(f *testing.F) {
	for _, s := range []string{collections, getAnswer, `{"nanosecond heartbeat":1}`, `"1.0.0"`, `[{"name":"a"}]`, `42`,
		`{"user_id":"","tenant":"t","databases":["*"]}`, `{"error":"AuthError","message":"Forbidden"}`, `{"ids":["a"],"embeddings":[[1,2]]}`} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max = max%50 + 1
		if max <= 0 {
			max += 50
		}
		parseHeartbeat(b)
		if v, ok := parseVersion(b); ok && (len(v) > maxVersion || v == "") {
			t.Fatalf("version %q", v)
		}
		if e, ok := parseError(b); ok && (len(e.Error) > 100 || len(e.Message) > 200) {
			t.Fatalf("error too long")
		}
		parseIdentity(b)
		if dbs, _, err := parseDatabases(b, max); err == nil && len(dbs) > max {
			t.Fatalf("%d databases past max %d", len(dbs), max)
		}
		if cs, _, err := parseCollections(b, max); err == nil {
			if len(cs) > max {
				t.Fatalf("%d collections past max %d", len(cs), max)
			}
			for _, c := range cs {
				if c.ID == "" || strings.ContainsAny(c.ID, "/?#%") || (c.Dimension != nil && *c.Dimension < 0) {
					t.Fatalf("collection %+v", c)
				}
			}
		}
		if n, ok := parseCount(b); ok && n < 0 {
			t.Fatalf("count %d", n)
		}
		if recs, err := parseGet(b, max); err == nil {
			if len(recs) > max {
				t.Fatalf("%d records past max %d", len(recs), max)
			}
			for _, r := range recs {
				for _, v := range r.Values {
					if v.Path != "id" && v.Path != "document" && !strings.HasPrefix(v.Path, "metadata") {
						t.Fatalf("path %q", v.Path)
					}
				}
			}
		}
	})
}
