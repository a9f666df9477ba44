package cluster

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestWorkerRefusesForeignScope: work items come over NATS, which anyone
// with access can write. A worker given its configured scopes refuses an
// item whose scope is none of them — other targets, or a port its scope
// does not list — without contacting anything (a listening loopback
// address counts every connection), and runs an item of its own scope
// (real nats-server).
func TestWorkerRefusesForeignScope(t *testing.T) {
	js := testenv.StartNATSJetStream(t).JetStream(t)
	w := testWorker(t, js, Names{Prefix: "LWSCOPE"}, "w1", "dc-a")
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", netip.AddrPortFrom(addr, 0).String())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	own := monitor.ScopeSpec{Targets: []string{testenv.Subnet24(t).CIDR()}, Ports: []int{6379}}
	w.o.Scopes = []monitor.ScopeSpec{own}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ep := []scope.Endpoint{{Addr: addr, Port: port}}
	for _, spec := range []monitor.ScopeSpec{
		{Targets: []string{addr.String() + "/32"}, Ports: []int{port}}, // other targets
		{Targets: own.Targets, Ports: []int{6379, port}},               // a port the scope lacks
		{Targets: own.Targets, Excludes: []string{"127.0.0.1/32"}, Ports: own.Ports},
	} {
		_, err := w.runItem(ctx, Item{ID: "run/0/dc-a", RunID: "run", Scope: "lab", Site: "dc-a", Spec: spec, Endpoints: ep})
		if err == nil || !strings.Contains(err.Error(), "none of this worker's configured scopes") {
			t.Errorf("item of scope %+v: %v, want refused", spec, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("%d connections to an endpoint outside the worker's scopes", n)
	}
	// Its own scope (an endpoint of it, nothing listening there) runs.
	res, err := w.runItem(ctx, Item{ID: "run/64/dc-a", RunID: "run", Scope: "lab", Site: "dc-a", Spec: own,
		Endpoints: []scope.Endpoint{{Addr: netip.MustParsePrefix(own.Targets[0]).Addr().Next(), Port: 6379}}})
	if err != nil || res.Swept != 1 {
		t.Errorf("item of the worker's scope: swept %d, %v", res.Swept, err)
	}
}
