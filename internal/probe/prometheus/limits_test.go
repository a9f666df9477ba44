package prometheus

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// hugeFleet answers like a Prometheus whose target list is larger than the
// response cap and whose config holds one block larger than the sample
// byte budget.
func hugeFleet(targets, configBytes int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			fmt.Fprint(w, `{"status":"success","data":{"version":"2.42.0","revision":"r"}}`)
		case "/api/v1/targets":
			bw := bufio.NewWriter(w)
			probetest.WriteList(bw, `{"status":"success","data":{"activeTargets":[`, targets, func(w io.Writer, i int) {
				fmt.Fprintf(w, `{"scrapePool":"node","scrapeUrl":"http://127.0.0.1:%d/metrics","labels":{"instance":"host-%d"}}`, 1000+i%60000, i)
			}, `],"droppedTargets":[]}}`)
			bw.Flush()
		case "/api/v1/status/config":
			fmt.Fprintf(w, `{"status":"success","data":{"yaml":"scrape_configs:\n- job_name: x\n  basic_auth:\n    username: u\n    password: %s\n"}}`, strings.Repeat("p", configBytes))
		case "/api/v1/status/tsdb":
			fmt.Fprint(w, `{"status":"success","data":{"headStats":{"numSeries":5}}}`)
		case "/api/v1/status/flags":
			fmt.Fprint(w, `{"status":"success","data":{}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// TestTargetsPastCapKept: a target list past the response cap used to be
// dropped as an error; the targets read before the cut are kept, flagged.
// A config record larger than the sample budget is flagged, not dropped
// silently (issue 8 items 6 and 10).
func TestTargetsPastCapKept(t *testing.T) {
	s := probetest.ServeHTTP(t, hugeFleet(5000, 4096))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxResponseBytes = 64 << 10
		b.SampleBytes = 1024
	}, probe.FlagDatasetsTruncated)
	var targets, config *probe.Dataset
	for i := range res.Datasets {
		switch res.Datasets[i].Name {
		case "targets":
			targets = &res.Datasets[i]
		case "config":
			config = &res.Datasets[i]
		}
	}
	if targets == nil || targets.Records == nil || *targets.Records < 100 || *targets.Records >= 5000 {
		t.Fatalf("targets dataset %+v, want the targets read before the cut", targets)
	}
	if config == nil || !slices.Contains(config.Flags, probe.FlagRecordTooLarge) {
		t.Errorf("config dataset %+v, want flag %s", config, probe.FlagRecordTooLarge)
	}
}

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
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Product != "prometheus" || prov.Version != "2.53.0" || prov.Status == finding.StatusExposed {
		t.Errorf("provisional %+v", prov)
	}
}
