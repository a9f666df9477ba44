package redis

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// observe probes the server and returns its finding as the store keeps it
// (evidence as plain JSON data).
func observe(t *testing.T, s *testenv.Redis) *finding.Finding {
	t.Helper()
	f := probetest.Observe(t, New(), s.Addr, s.Port)
	if a := lifecycle.ParseAccess(f); a.Counters[probe.CounterQueries] == 0 {
		t.Fatalf("access evidence %+v", f.Evidence[probe.EvidenceAccess])
	}
	return f
}

// Between two probes a second client runs N commands on its own
// connection: the access delta counts exactly those N commands and that
// connection, lists the client's address, and counts none of leakwatch's
// own commands or connections; two probes with nothing between them show
// no foreign access at all.
func TestForeignAccess(t *testing.T) {
	t.Parallel()
	s := testenv.StartRedis(t, testenv.RedisOptions{Config: []string{"protected-mode no"}})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)

	f1 := observe(t, s)
	f2 := observe(t, s)
	d := lifecycle.ForeignAccess(f1, f2, false)
	if !d.Measurable || *d.ForeignQueries != 0 || *d.ForeignConnections != 0 || len(d.Clients) != 0 || d.Seen() {
		t.Fatalf("leakwatch's own probe counted as foreign: %s %+v", d.Summary(), d.Counters)
	}
	if a := lifecycle.ParseAccess(f2); a.OwnConnections == 0 {
		t.Errorf("own connection not recognised in CLIENT LIST: %+v", a)
	}

	const n = 25
	c, err := net.Dial("tcp", net.JoinHostPort(s.Addr.String(), fmt.Sprint(s.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rd := bufio.NewReader(c)
	for i := range n {
		key := "user:1001"
		if i%2 == 1 {
			key = "session:8c1f"
		}
		fmt.Fprintf(c, "*2\r\n$4\r\nTYPE\r\n$%d\r\n%s\r\n", len(key), key)
		if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "+") {
			t.Fatalf("reply %q %v", line, err)
		}
	}
	f3 := observe(t, s)
	d = lifecycle.ForeignAccess(f2, f3, false)
	t.Logf("foreign: %s; counters %+v", d.Summary(), d.Counters)
	if !d.Seen() || *d.ForeignQueries != n || *d.ForeignConnections != 1 {
		t.Errorf("foreign queries %d connections %d, want %d and 1", *d.ForeignQueries, *d.ForeignConnections, n)
	}
	other := c.LocalAddr().(*net.TCPAddr).AddrPort().Addr().String()
	if len(d.Clients) != 1 || d.Clients[0].Addr != other || d.Clients[0].Connections != 1 || len(d.NewClients) != 1 {
		t.Errorf("clients %+v new %v, want only %s", d.Clients, d.NewClients, other)
	}
	unchanged()
}
