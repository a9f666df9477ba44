package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

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
	unchanged := probetest.Unchanged(t, s.Digest)

	f2, d := probetest.ObserveDelta(t, New(), s.Addr, s.Port, probetest.Observe(t, New(), s.Addr, s.Port))
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

	_, d = probetest.ObserveDelta(t, New(), s.Addr, s.Port, f2)
	if !d.Seen() || *d.ForeignQueries < n || *d.ForeignQueries > n+5 {
		t.Errorf("foreign queries %d, want %d (+5 at most)", *d.ForeignQueries, n)
	}
	if *d.ForeignConnections < 1 || *d.ForeignConnections > 2 {
		t.Errorf("foreign connections %d, want 1 or 2 (the staying one may not be flushed yet)", *d.ForeignConnections)
	}
	if len(d.Clients) != 1 || d.Clients[0].Connections != 1 || len(d.NewClients) != 1 {
		t.Errorf("clients %+v new %v, want the staying client only", d.Clients, d.NewClients)
	}
	unchanged()
}
