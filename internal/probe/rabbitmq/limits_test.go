package rabbitmq

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

// TestQueuesPastCapStayExposed: a queue page larger than the response cap
// used to fail parsing and leave an open broker "unknown" (issue 8 item 6).
func TestQueuesPastCapStayExposed(t *testing.T) {
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/overview":
			fmt.Fprint(w, `{"management_version":"3.10.8","rabbitmq_version":"3.10.8","cluster_name":"c"}`)
		case "/api/queues":
			bw := bufio.NewWriter(w)
			bw.WriteString(`{"filtered_count":500,"item_count":500,"items":[`)
			for i := range 500 {
				if i > 0 {
					bw.WriteString(",")
				}
				fmt.Fprintf(bw, `{"name":"q-%d-%s","vhost":"/","messages":%d,"message_bytes":10}`, i, strings.Repeat("n", 200), i)
			}
			bw.WriteString(`],"page":1,"page_count":3,"page_size":500,"total_count":1500}`)
			bw.Flush()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	b := probetest.Budget()
	b.MaxResponseBytes = 32 << 10
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
	if n := len(res.Datasets); n < 50 || n >= 500 {
		t.Errorf("%d queues kept, want those before the cut", n)
	}
}
