package elasticsearch

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestParseRoot(t *testing.T) {
	os := `{"name":"n1","cluster_name":"c","cluster_uuid":"u1","version":{"distribution":"opensearch","number":"2.19.6"},"tagline":"The OpenSearch Project: https://opensearch.org/"}`
	ri, err := parseRoot([]byte(os))
	if err != nil || ri.product() != "opensearch" || ri.Version.Number != "2.19.6" {
		t.Fatalf("opensearch root: %+v %v", ri, err)
	}
	es := `{"name":"n","cluster_name":"c","cluster_uuid":"u","version":{"number":"7.10.2","build_flavor":"oss"},"tagline":"You Know, for Search"}`
	if ri, err := parseRoot([]byte(es)); err != nil || ri.product() != "elasticsearch" {
		t.Fatalf("es root: %+v %v", ri, err)
	}
	for _, bad := range []string{`{}`, `{"version":{"number":"1"}}`, `<html>`, `{"status":"ok","version":"1.0"}`} {
		if _, err := parseRoot([]byte(bad)); err == nil {
			t.Errorf("parseRoot(%s) accepted", bad)
		}
	}
}

func TestParseCatIndices(t *testing.T) {
	body := `[{"health":"green","status":"open","index":"small","docs.count":"5","store.size":"100"},
	{"health":"green","status":"open","index":"big","docs.count":"2400000","store.size":"734003200"},
	{"health":"green","status":"open","index":".kibana_1","docs.count":"3","store.size":"50"},
	{"health":null,"status":"close","index":"closed","docs.count":null,"store.size":null}]`
	got, _, err := parseCatIndices([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Name != "big" || *got[0].Records != 2400000 {
		t.Fatalf("not sorted by size: %+v", got[0])
	}
	for _, ii := range got {
		if ii.Name == ".kibana_1" && !ii.Hidden {
			t.Error(".kibana_1 not hidden")
		}
		if ii.Name == "closed" && (!ii.Closed || ii.Records != nil) {
			t.Errorf("closed index: %+v", ii)
		}
	}
}

func TestParseMapping(t *testing.T) {
	typeless := `{"customers":{"mappings":{"properties":{"email":{"type":"keyword"},"user":{"properties":{"name":{"type":"text"},"geo":{"type":"geo_point"}}}}}}}`
	f, err := parseMapping([]byte(typeless), "customers")
	if err != nil || len(f) != 3 || f[0].Name != "email" || f[1].Name != "user.geo" || f[1].Type != "geo_point" {
		t.Fatalf("typeless: %+v %v", f, err)
	}
	typed := `{"old":{"mappings":{"doc":{"properties":{"ssid":{"type":"keyword"}}}}}}`
	f, err = parseMapping([]byte(typed), "old")
	if err != nil || len(f) != 1 || f[0].Name != "ssid" {
		t.Fatalf("typed: %+v %v", f, err)
	}
}

func TestParseHitsTruncated(t *testing.T) {
	full := `{"hits":{"hits":[{"_source":{"a":"1"}},{"_source":{"a":"2"}},{"_source":{"a":"3"}}]}}`
	recs, err := parseHits([]byte(full))
	if err != nil || len(recs) != 3 {
		t.Fatalf("full: %d %v", len(recs), err)
	}
	cut := full[:strings.Index(full, `"3"`)]
	recs, err = parseHits([]byte(cut))
	if err != nil || len(recs) != 2 {
		t.Fatalf("truncated: %d %v", len(recs), err)
	}
}

func TestRansomNames(t *testing.T) {
	for _, n := range []string{"read_me", "README", "xyz-meow", "how_to_recover_your_data", "recover_your_data"} {
		if !isRansomNote(n) {
			t.Errorf("%s not flagged", n)
		}
	}
	for _, n := range []string{"customers", "products", "metrics-2019.12"} {
		if isRansomNote(n) {
			t.Errorf("%s flagged", n)
		}
	}
}

// FuzzParsers: index rows carry a name, no negative count and are sorted
// largest first; a body cut anywhere (the response cap) never yields an
// index or a document the whole body does not; mapped fields are sorted
// and typed; a node is recognised only with a version number.
func FuzzParsers(f *testing.F) {
	f.Add([]byte(`{"hits":{"hits":[{"_source":{"a":{"b":[1,2,"x"]}}}]}}`))
	f.Add([]byte(`[{"index":"a","docs.count":"1","store.size":"2"}]`))
	f.Add([]byte(`[{"index":".b","docs.count":"-1","store.size":"9"},{"index":"a","docs.count":"1","store.size":"2"},{"index":"c","docs.count":"x"}]`))
	f.Add([]byte(`{"a":{"mappings":{"properties":{"x":{"type":"keyword","properties":{"y":{"type":"text"}}}}}}}`))
	f.Add([]byte(`{"_all":{"total":{"search":{"query_total":1}}},"indices":{"a":{"total":{"search":{"fetch_total":2}}}}}`))
	f.Add([]byte(`{"error":{"type":"security_exception","reason":"missing authentication credentials"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if ri, err := parseRoot(b); err == nil && ri.Version.Number == "" {
			t.Fatal("root without a version accepted")
		}
		idx, _, err := parseCatIndices(b)
		if err == nil {
			for i, ii := range idx {
				if ii.Name == "" || ii.Hidden != strings.HasPrefix(ii.Name, ".") ||
					(ii.Records != nil && *ii.Records < 0) || (ii.Bytes != nil && *ii.Bytes < 0) {
					t.Fatalf("index row %+v", ii)
				}
				if i > 0 && sizeOf(idx[i-1]) < sizeOf(ii) {
					t.Fatalf("rows not sorted by size: %d before %d", sizeOf(idx[i-1]), sizeOf(ii))
				}
			}
		}
		half := b[:len(b)/2]
		if part, _, perr := parseCatIndices(half); perr == nil && err == nil {
			names := map[string]int{}
			for _, ii := range idx {
				names[ii.Name]++
			}
			for _, ii := range part {
				if names[ii.Name]--; names[ii.Name] < 0 {
					t.Fatalf("cut body lists %q, the whole body does not", ii.Name)
				}
			}
		}
		if fields, err := parseMapping(b, "a"); err == nil {
			for i, fl := range fields {
				if fl.Type == "" || (i > 0 && fields[i-1].Name > fl.Name) {
					t.Fatalf("fields %v", fields)
				}
			}
		}
		hits, herr := parseHits(b)
		if part, perr := parseHits(half); perr == nil && herr == nil && len(part) > len(hits) {
			t.Fatalf("cut body: %d documents, whole body %d", len(part), len(hits))
		}
		_, _ = parseSearchStats(b)
		if e := parseError(b); (e.Type != "" || e.Reason != "") && !json.Valid(b) {
			t.Fatalf("error %+v from invalid JSON", e)
		}
	})
}
