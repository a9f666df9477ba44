package clickhouse

import (
	"fmt"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func observe(t *testing.T, s *testenv.ClickHouse) *finding.Finding {
	t.Helper()
	res, err := probetest.Run(t, New(), s.Addr, s.HTTPPort)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	f := &finding.Finding{Target: finding.Target{Host: s.Addr.String(), Port: s.HTTPPort}, Service: "clickhouse",
		Status: res.Status, Evidence: res.Evidence, ObservedAt: time.Now().UTC()}
	f.Finalize()
	if a := lifecycle.ParseAccess(f); a == nil || !a.Measurable || a.Own[probe.CounterQueries] == 0 {
		t.Fatalf("access evidence %+v", f.Evidence[probe.EvidenceAccess])
	}
	return f
}

// TestForeignAccess on a real clickhouse-server 18.16: two probes in a
// row show no foreign queries (leakwatch's own are all counted), and
// between two probes a second client's N queries show as exactly N
// foreign queries (N select queries).
func TestForeignAccess(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{})
	s.Seed(t)
	before := s.Digest(t)

	f1 := observe(t, s)
	f2 := observe(t, s)
	d := lifecycle.ForeignAccess(f1, f2, false)
	t.Logf("own only: %s %+v", d.Summary(), d.Counters)
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
	f3 := observe(t, s)
	d = lifecycle.ForeignAccess(f2, f3, false)
	t.Logf("foreign: %s; counters %+v", d.Summary(), d.Counters)
	if !d.Seen() || *d.ForeignQueries != n || d.Counters["select_queries"].Foreign != n {
		t.Errorf("foreign queries %d (select %d), want %d", *d.ForeignQueries, d.Counters["select_queries"].Foreign, n)
	}
	if after := s.Digest(t); after != before {
		t.Fatalf("dataset changed by probe:\n%s\n%s", before, after)
	}
}
