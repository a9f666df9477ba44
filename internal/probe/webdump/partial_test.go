package webdump

import (
	"io"
	"net/http"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, `<html><head><title>Index of /</title></head><body><a href="backup.sql">backup.sql</a> <a href="users.csv">users.csv</a></body></html>`)
			return
		}
		<-r.Context().Done() // nothing past identification answers
	}))
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Status != finding.StatusExposed || len(prov.Datasets) != 1 || prov.Datasets[0].Name != "/" {
		t.Errorf("provisional %+v", prov)
	}
}
