package clickhouse

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestForeignAccess on a real clickhouse-server 18.16: two probes in a
// row show no foreign queries (leakwatch's own are all counted), and
// between two probes a second client's N queries show as exactly N
// foreign queries (N select queries).
func TestForeignAccess(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)

	f2, d := probetest.ObserveDelta(t, New(), s.Addr, s.HTTPPort, probetest.Observe(t, New(), s.Addr, s.HTTPPort))
	if !d.Measurable || d.ForeignQueries == nil || *d.ForeignQueries != 0 || d.Counters["select_queries"].Foreign != 0 {
		t.Fatalf("leakwatch's own probe counted as foreign: %s %+v", d.Summary(), d.Counters)
	}
	if d.Counters[probe.CounterQueries].OwnExceeded {
		t.Errorf("own queries over-counted: %+v", d.Counters)
	}

	const n = 25
	for i := range n {
		s.Query(t, fmt.Sprintf("SELECT count() + %d FROM shop.users", i))
	}
	_, d = probetest.ObserveDelta(t, New(), s.Addr, s.HTTPPort, f2)
	if !d.Seen() || *d.ForeignQueries != n || d.Counters["select_queries"].Foreign != n {
		t.Errorf("foreign queries %d (select %d), want %d", *d.ForeignQueries, d.Counters["select_queries"].Foreign, n)
	}
	unchanged()
}

// TestForeignAccessQueryLog: where system.query_log is on, the evidence
// also counts the logged queries that are not leakwatch's (its own carry
// a query_id of its own) and names their client address: two probes in a
// row show 0 such queries; N queries of a second client in between show
// as N, with its address a client.
func TestForeignAccessQueryLog(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{QueryLog: true})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	time.Sleep(500 * time.Millisecond) // the seed's queries flushed to the log

	f1 := probetest.Observe(t, New(), s.Addr, s.HTTPPort)
	time.Sleep(500 * time.Millisecond) // f1's own queries flushed: they must not count
	f2, d := probetest.ObserveDelta(t, New(), s.Addr, s.HTTPPort, f1)
	if lg, ok := d.Counters["logged_queries_others"]; !ok || lg.Foreign != 0 || *d.ForeignQueries != 0 {
		t.Fatalf("leakwatch's own queries counted as others': %+v", d.Counters)
	}
	if a := lifecycle.ParseAccess(f2); !a.ClientsMeasured || !strings.Contains(a.Method, "query_log") {
		t.Errorf("evidence %+v", a)
	}

	const n = 25
	for i := range n {
		s.Query(t, fmt.Sprintf("SELECT count() + %d FROM shop.users", i))
	}
	time.Sleep(500 * time.Millisecond)
	_, d = probetest.ObserveDelta(t, New(), s.Addr, s.HTTPPort, f2)
	if lg := d.Counters["logged_queries_others"]; lg.Foreign != n || *d.ForeignQueries != n {
		t.Errorf("logged foreign %d, events foreign %d, want %d", lg.Foreign, *d.ForeignQueries, n)
	}
	if len(d.Clients) == 0 {
		t.Errorf("no client address for the second client: %+v", d)
	}
	unchanged()
}
