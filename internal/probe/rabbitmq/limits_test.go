package rabbitmq

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
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
			probetest.WriteList(bw, `{"filtered_count":500,"item_count":500,"items":[`, 500, func(w io.Writer, i int) {
				fmt.Fprintf(w, `{"name":"q-%d-%s","vhost":"/","messages":%d,"message_bytes":10}`, i, strings.Repeat("n", 200), i)
			}, `],"page":1,"page_count":3,"page_size":500,"total_count":1500}`)
			bw.Flush()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.MaxResponseBytes = 32 << 10 }, probe.FlagDatasetsTruncated)
	if n := len(res.Datasets); n < 50 || n >= 500 {
		t.Errorf("%d queues kept, want those before the cut", n)
	}
}

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	t.Run("management", func(t *testing.T) {
		srv := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/overview" {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"management_version":"3.12.0","rabbitmq_version":"3.12.0"}`)
				return
			}
			<-r.Context().Done() // the queue list never comes
		}))
		prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
		if prov.Product != "rabbitmq" || prov.Evidence["interface"] != "management-http" {
			t.Errorf("provisional %+v", prov)
		}
	})
	t.Run("amqp", func(t *testing.T) {
		srv := probetest.Stall(t, func(c net.Conn) {
			hdr := make([]byte, 8)
			if _, err := io.ReadFull(c, hdr); err != nil {
				return
			}
			c.Write(startFrame()) // then no answer to the login
		})
		prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
		if prov.Product != "rabbitmq" || prov.Evidence["interface"] != "amqp" {
			t.Errorf("provisional %+v", prov)
		}
		if prov.Status == finding.StatusExposed {
			t.Errorf("exposed without a login: %+v", prov)
		}
	})
}
