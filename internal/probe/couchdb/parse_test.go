package couchdb

import (
	"strings"
	"testing"
)

const (
	apacheWelcome = `{"couchdb":"Welcome","version":"3.3.3","git_sha":"40afbcfc7","uuid":"f0e5a1","features":["access-ready","partitioned"],"vendor":{"name":"The Apache Software Foundation"}}`
	pouchWelcome  = `{"express-pouchdb":"Welcome!","version":"4.2.0","pouchdb-adapters":["leveldb"],"vendor":{"name":"PouchDB authors","version":"4.2.0"},"uuid":"ca99c15d"}`
	couch3Info    = `{"instance_start_time":"0","db_name":"customers","purge_seq":"0-g1","update_seq":"13-g1","sizes":{"file":41200,"external":5321,"active":9000},"props":{},"doc_del_count":0,"doc_count":12,"disk_format_version":8,"compact_running":false,"cluster":{"q":2,"n":1,"w":1,"r":1}}`
	pouchInfo     = `{"doc_count":1,"update_seq":1,"backend_adapter":"LevelDOWN","db_name":"people","auto_compaction":false,"adapter":"leveldb","disk_size":4889}`
	allDocs       = `{"total_rows":3,"offset":0,"rows":[{"id":"_design/x","key":"_design/x","value":{"rev":"1-a"},"doc":{"_id":"_design/x","views":{}}},{"id":"c1","key":"c1","value":{"rev":"1-b"},"doc":{"_id":"c1","_rev":"1-b","email":"a@b.example","_attachments":{"f":{"digest":"md5-x","length":3}}}},{"id":"c2","key":"c2","value":{"rev":"1-c"},"doc":{"_id":"c2","_rev":"1-c","name":"Ann"}}]}`
)

func TestParse(t *testing.T) {
	w, ok := parseWelcome([]byte(apacheWelcome))
	if !ok || w.product != "couchdb" || w.version != "3.3.3" || w.vendor != "The Apache Software Foundation" {
		t.Errorf("apache welcome %+v %v", w, ok)
	}
	w, ok = parseWelcome([]byte(pouchWelcome))
	if !ok || w.product != "pouchdb-server" || w.version != "4.2.0" || w.uuid != "ca99c15d" {
		t.Errorf("pouch welcome %+v %v", w, ok)
	}
	for _, b := range []string{`{"couchdb":"Welcome"}`, `{"couchdb":"Hi","version":"3"}`, `{"version":"3","vendor":{"name":"x"}}`, `[]`, ``} {
		if _, ok := parseWelcome([]byte(b)); ok {
			t.Errorf("%s taken for a welcome", b)
		}
	}
	if v := serverVersion("CouchDB/3.3.3 (Erlang OTP/25)"); v != "3.3.3" {
		t.Errorf("server version %q", v)
	}
	if v := serverVersion("nginx/1.25"); v != "" {
		t.Errorf("nginx version %q", v)
	}
	if roles, ok := parseSession([]byte(`{"ok":true,"userCtx":{"name":null,"roles":["_admin"]}}`)); !ok || len(roles) != 1 || roles[0] != "_admin" {
		t.Errorf("session %v %v", roles, ok)
	}
	names, invalid, cut, err := parseAllDBs([]byte(`["_replicator","_users","customers","../_config","Bad"]`), 10)
	if err != nil || len(names) != 3 || invalid != 2 || cut {
		t.Errorf("all_dbs %v %d %v %v", names, invalid, cut, err)
	}
	names, _, cut, _ = parseAllDBs([]byte(`["a","b","c"]`), 2)
	if len(names) != 2 || !cut {
		t.Errorf("all_dbs past max: %v cut %v", names, cut)
	}
	names, _, cut, _ = parseAllDBs([]byte(`["a","b"]`), 2)
	if len(names) != 2 || cut {
		t.Errorf("all_dbs at max: %v cut %v", names, cut)
	}
	if _, _, cut, err := parseAllDBs([]byte(`["a","b","c`), 10); err != nil || !cut {
		t.Errorf("a cut listing: cut %v err %v", cut, err)
	}
	info, ok := parseDBInfo([]byte(couch3Info))
	if !ok || *info.records != 12 || *info.bytes != 5321 {
		t.Errorf("couch 3 info %+v", info)
	}
	info, ok = parseDBInfo([]byte(pouchInfo))
	if !ok || *info.records != 1 || *info.bytes != 4889 {
		t.Errorf("pouch info %+v", info)
	}
	info, ok = parseDBInfo([]byte(`{"doc_count":-4,"disk_size":99999999999999999999999}`))
	if !ok || info.records != nil || info.bytes != nil {
		t.Errorf("absurd info %+v", info)
	}
	recs, cut, err := parseRows([]byte(allDocs), 10)
	if err != nil || cut || len(recs) != 2 {
		t.Fatalf("rows %d cut %v err %v", len(recs), cut, err)
	}
	for _, v := range recs[0].Values {
		if strings.HasPrefix(v.Path, "_rev") || strings.HasPrefix(v.Path, "_attachments") {
			t.Errorf("bookkeeping kept: %s", v.Path)
		}
	}
	recs, cut, _ = parseRows([]byte(allDocs[:len(allDocs)-40]), 10)
	if !cut || len(recs) != 1 {
		t.Errorf("cut rows: %d cut %v", len(recs), cut)
	}
	if _, _, err := parseRows([]byte(`{"error":"unauthorized"}`), 10); err == nil {
		t.Error("an error taken for rows")
	}
}

// FuzzParse: no parser panics; a welcome always has a product and a
// version or vendor; listed names are valid and at most max; counts are
// never negative; rows give at most max records, none of a design document
// or holding revision bookkeeping.
func FuzzParse(f *testing.F) {
	for _, s := range []string{apacheWelcome, pouchWelcome, couch3Info, pouchInfo, allDocs, `["_users","a"]`,
		`{"ok":true,"userCtx":{"roles":["_admin"]}}`, `{"error":"unauthorized","reason":"x"}`, "\xff{"} {
		f.Add([]byte(s), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, max int) {
		max = max%50 + 1
		if max <= 0 {
			max += 50
		}
		if w, ok := parseWelcome(b); ok && (w.product == "" || (w.version == "" && w.vendor == "")) {
			t.Fatalf("welcome without signals: %+v", w)
		}
		if e, ok := parseError(b); ok && (e.Error == "" || len(e.Reason) > 200) {
			t.Fatalf("error %+v", e)
		}
		parseSession(b)
		if names, _, _, err := parseAllDBs(b, max); err == nil {
			if len(names) > max {
				t.Fatalf("%d names past max %d", len(names), max)
			}
			for _, n := range names {
				if !validName.MatchString(n) && !systemDBs[n] {
					t.Fatalf("invalid name %q listed", n)
				}
			}
		}
		if info, ok := parseDBInfo(b); ok {
			if (info.records != nil && *info.records < 0) || (info.bytes != nil && *info.bytes < 0) {
				t.Fatalf("negative count %+v", info)
			}
		}
		if recs, _, err := parseRows(b, max); err == nil {
			if len(recs) > max {
				t.Fatalf("%d records past max %d", len(recs), max)
			}
			for _, r := range recs {
				for _, v := range r.Values {
					if top, _, _ := strings.Cut(v.Path, "."); top == "_rev" || top == "_attachments" {
						t.Fatalf("bookkeeping path %q kept", v.Path)
					}
				}
			}
		}
	})
}
