package jupyter

import (
	"io"
	"net/http"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedFileFlagged is issue 8 item 10: a sampleable file larger
// than the per-file read limit was skipped without a word. The dataset
// holding it must say record-too-large.
func TestOversizedFileFlagged(t *testing.T) {
	s := testenv.StartJupyter(t, testenv.JupyterOptions{})
	probetest.OversizedFile(t, s.Dir, "zz-huge-export.csv", maxFileSize)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, nil)
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}

// TestManySubdirsFlagged: a tree with more subdirectories than are listed
// must flag the result datasets-truncated, not only note it in evidence.
func TestManySubdirsFlagged(t *testing.T) {
	s := testenv.StartJupyter(t, testenv.JupyterOptions{})
	probetest.ManySubdirs(t, s.Dir, maxSubdirs+5)
	probetest.Exposed(t, New(), s.Addr, s.Port, nil, probe.FlagDatasetsTruncated)
}

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"version": "2.14.0"}`)
			return
		}
		<-r.Context().Done() // nothing past identification answers
	}))
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Product != "jupyter-server" || prov.Version != "2.14.0" || prov.Status == finding.StatusExposed {
		t.Errorf("provisional %+v", prov)
	}
}
