package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func observe(t *testing.T, s *testenv.Postgres) *finding.Finding {
	t.Helper()
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	f := &finding.Finding{Target: finding.Target{Host: s.Addr.String(), Port: s.Port}, Service: "postgres",
		Status: res.Status, Evidence: res.Evidence, ObservedAt: time.Now().UTC()}
	f.Finalize()
	if a := lifecycle.ParseAccess(f); a == nil || !a.Measurable || a.Own[probe.CounterQueries] == 0 {
		t.Fatalf("access evidence %+v", f.Evidence[probe.EvidenceAccess])
	}
	return f
}

// Between two probes one client runs N statements over TCP and leaves,
// another connects and stays: the access delta counts at least the N
// statements (and at most a few more: the clients' session starts,
// background workers), both connections, the staying client's address,
// and none of leakwatch's own statements or sessions; two probes in a row
// show no foreign statements.
func TestForeignAccess(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "trust"})
	s.Seed(t)
	before := s.Digest(t)

	f1 := observe(t, s)
	f2 := observe(t, s)
	d := lifecycle.ForeignAccess(f1, f2, false)
	t.Logf("own only: %s %+v", d.Summary(), d.Counters)
	if !d.Measurable || *d.ForeignQueries != 0 || *d.ForeignConnections != 0 || len(d.Clients) != 0 {
		t.Fatalf("leakwatch's own probe counted as foreign: %s %+v", d.Summary(), d.Counters)
	}

	ctx := context.Background()
	dsn := fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres sslmode=disable", s.Addr, s.Port)
	const n = 25
	a, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		var x int
		if err := a.QueryRow(ctx, "SELECT count(*) + $1::int FROM pg_class", i).Scan(&x); err != nil {
			t.Fatal(err)
		}
	}
	a.Close(ctx)
	b, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(ctx)
	time.Sleep(300 * time.Millisecond) // the first client's backend ends

	f3 := observe(t, s)
	d = lifecycle.ForeignAccess(f2, f3, false)
	t.Logf("foreign: %s; counters %+v", d.Summary(), d.Counters)
	if !d.Seen() || *d.ForeignQueries < n || *d.ForeignQueries > n+5 {
		t.Errorf("foreign queries %d, want %d (+5 at most)", *d.ForeignQueries, n)
	}
	if *d.ForeignConnections < 1 || *d.ForeignConnections > 2 {
		t.Errorf("foreign connections %d, want 1 or 2 (the staying one may not be flushed yet)", *d.ForeignConnections)
	}
	if len(d.Clients) != 1 || d.Clients[0].Connections != 1 || len(d.NewClients) != 1 {
		t.Errorf("clients %+v new %v, want the staying client only", d.Clients, d.NewClients)
	}
	if after := s.Digest(t); after != before {
		t.Fatalf("dataset changed by probe:\n%s\n%s", before, after)
	}
}
