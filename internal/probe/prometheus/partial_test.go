package prometheus

import (
	"context"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/v1/status/buildinfo" && r.Method == http.MethodGet {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"status":"success","data":{"version":"2.53.0","revision":"abc"}}`)
			return
		}
		<-r.Context().Done() // nothing past identification answers
	}))
	prov, _, _ := probeCut(t, srv.Addr, srv.Port)
	if prov.Product != "prometheus" || prov.Version != "2.53.0" || prov.Status == finding.StatusExposed {
		t.Errorf("provisional %+v", prov)
	}
}

// probeCut probes addr:port with a short deadline and returns what the
// engine would report: the result, or the provisional one when the probe
// failed.
func probeCut(t *testing.T, addr netip.Addr, port int) (prov *probe.Result, res *probe.Result, err error) {
	t.Helper()
	env := probetest.Env(addr, port)
	env.Budget.IOTimeout = 700 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	began := time.Now()
	res, err = New().Probe(ctx, env)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("probe took %v", d)
	}
	prov = env.ProvisionalResult()
	if prov == nil {
		t.Fatalf("no provisional result after identification: res %+v err %v", res, err)
	}
	if res != nil && res != prov {
		t.Errorf("the returned result is not the provisional one")
	}
	return prov, res, err
}
