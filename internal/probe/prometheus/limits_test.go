package prometheus

import (
	"bufio"
	"fmt"
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
			bw.WriteString(`{"status":"success","data":{"activeTargets":[`)
			for i := range targets {
				if i > 0 {
					bw.WriteString(",")
				}
				fmt.Fprintf(bw, `{"scrapePool":"node","scrapeUrl":"http://127.0.0.1:%d/metrics","labels":{"instance":"host-%d"}}`, 1000+i%60000, i)
			}
			bw.WriteString(`],"droppedTargets":[]}}`)
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
	b := probetest.Budget()
	b.MaxResponseBytes = 64 << 10
	b.SampleBytes = 1024
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed {
		t.Fatalf("status %s (error %q), want exposed", res.Status, res.Error)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("flags %v lack %s", res.Flags, probe.FlagDatasetsTruncated)
	}
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
