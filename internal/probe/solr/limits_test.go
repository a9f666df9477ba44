package solr

import (
	"net/http"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// TestStallAfterIdentification: a node that stalls once it is known to be
// open (its cores listed) still leaves the exposed result provisionally
// reported, with the listed core.
func TestStallAfterIdentification(t *testing.T) {
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/solr/admin/info/system":
			w.Write([]byte(`{"responseHeader":{"status":0},"mode":"std","lucene":{"solr-spec-version":"9.10.1"}}`))
		case r.URL.Path == "/solr/admin/cores":
			w.Write([]byte(`{"responseHeader":{"status":0},"status":{"users":{"name":"users","index":{"numDocs":5,"sizeInBytes":900}}}}`))
		case strings.HasPrefix(r.URL.Path, "/solr/users/"):
			<-r.Context().Done() // never answers fields or sample
		}
	}))
	prov, _, _ := probetest.ProbeCut(t, New(), s.Addr, s.Port)
	if prov.Status != finding.StatusExposed || prov.Version != "9.10.1" || len(prov.Datasets) != 1 {
		t.Errorf("provisional %s %q with %d datasets", prov.Status, prov.Version, len(prov.Datasets))
	}
}
