package couchdb

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// fakeCouch is a CouchDB look-alike for behaviour no real server shows:
// dbs listed databases (and gen more generated ones), each document of doc
// text, hostile names; it records the paths asked for.
type fakeCouch struct {
	dbs  []string
	gen  int
	doc  string
	mu   sync.Mutex
	seen []string
}

func (f *fakeCouch) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.seen = append(f.seen, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	w.Header().Set("Server", "CouchDB/3.3.3 (Erlang OTP/25)")
	p := r.URL.EscapedPath()
	switch {
	case p == "/":
		fmt.Fprint(w, `{"couchdb":"Welcome","version":"3.3.3","vendor":{"name":"The Apache Software Foundation"}}`)
	case p == "/_session":
		fmt.Fprint(w, `{"ok":true,"userCtx":{"name":null,"roles":[]}}`)
	case p == "/_all_dbs":
		bw := bufio.NewWriter(w)
		bw.WriteString("[")
		for i, d := range f.dbs {
			if i > 0 {
				bw.WriteString(",")
			}
			fmt.Fprintf(bw, "%q", d)
		}
		for i := range f.gen {
			if i > 0 || len(f.dbs) > 0 {
				bw.WriteString(",")
			}
			fmt.Fprintf(bw, `"gen-%06d"`, i)
		}
		bw.WriteString("]")
		bw.Flush()
	case strings.HasSuffix(p, "/_all_docs"):
		fmt.Fprintf(w, `{"total_rows":2,"offset":0,"rows":[{"id":"a","doc":%s},{"id":"b","doc":%s}]}`, f.doc, f.doc)
	default:
		fmt.Fprint(w, `{"db_name":"x","doc_count":2,"sizes":{"external":100}}`)
	}
}

func (f *fakeCouch) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

// TestListingPastCap: more databases than MaxListed stay exposed, listed
// up to the cap and flagged datasets-truncated; a document larger than the
// sample budget is flagged record-too-large.
func TestListingPastCap(t *testing.T) {
	f := &fakeCouch{gen: 3000, doc: fmt.Sprintf(`{"note":%q}`, strings.Repeat("x", 4096))}
	s := probetest.ServeHTTP(t, f)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxListed = 5
		b.MaxDatasets = 2
		b.SampleBytes = 1024
	}, probe.FlagDatasetsTruncated)
	if len(res.Datasets) != 5 {
		t.Errorf("%d datasets, want 5", len(res.Datasets))
	}
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}

// TestHostileNames: names that are no CouchDB database names (paths out of
// the database space, server endpoints) are never requested.
func TestHostileNames(t *testing.T) {
	f := &fakeCouch{dbs: []string{"../_config", "_config", "a/../../_node", "%2e%2e", "Upper", "ok"}, doc: `{"email":"a@b.example"}`}
	s := probetest.ServeHTTP(t, f)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, nil)
	if names := probetest.DatasetNames(res); len(names) != 1 || names[0] != "ok" {
		t.Errorf("datasets %v", names)
	}
	for _, p := range f.paths() {
		if !strings.HasPrefix(p, "GET ") || strings.Contains(p, "_config") || strings.Contains(p, "/../") || strings.Contains(p, "/_node") {
			t.Errorf("asked for %q", p)
		}
	}
	if res.Evidence["databases_invalid_names"] != 5 {
		t.Errorf("evidence %v", res.Evidence)
	}
}

// TestRootRefused: a CouchDB whose whole API demands a login (/ answers
// 401 with its Server header and error body) is protected, version from
// the header, and nothing more is asked.
func TestRootRefused(t *testing.T) {
	var mu sync.Mutex
	n := 0
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		w.Header().Set("Server", "CouchDB/3.4.2 (Erlang OTP/26)")
		w.Header().Set("WWW-Authenticate", `Basic realm="server"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"unauthorized","reason":"Authentication required."}`)
	}))
	res := probetest.Protected(t, New(), s.Addr, s.Port)
	if res.Product != "couchdb" || res.Version != "3.4.2" || res.Status != finding.StatusProtected {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 1 {
		t.Errorf("%d requests after a refused /", n)
	}
}

// TestStallAfterIdentification: a server that stalls once it is known to
// be open still leaves the exposed result provisionally reported.
func TestStallAfterIdentification(t *testing.T) {
	f := &fakeCouch{dbs: []string{"ok"}, doc: `{"email":"a@b.example"}`}
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/_all_docs") {
			<-r.Context().Done() // never answers the sample
			return
		}
		f.ServeHTTP(w, r)
	}))
	prov, _, _ := probetest.ProbeCut(t, New(), s.Addr, s.Port)
	if prov.Status != finding.StatusExposed || len(prov.Datasets) != 1 {
		t.Errorf("provisional %s with %d datasets", prov.Status, len(prov.Datasets))
	}
}
