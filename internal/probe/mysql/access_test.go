package mysql

import (
	"context"
	"database/sql"
	"testing"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Between two probes a second client runs N statements over TCP and stays
// connected: the access delta counts those N statements and its
// connection, lists its address, and counts none of leakwatch's own;
// two probes in a row show no foreign access.
func TestForeignAccess(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)

	f2, d := probetest.ObserveDelta(t, New(), s.Addr, s.Port, probetest.Observe(t, New(), s.Addr, s.Port))
	if !d.Measurable || *d.ForeignQueries != 0 || *d.ForeignConnections != 0 || len(d.Clients) != 0 {
		t.Fatalf("leakwatch's own probe counted as foreign: %s %+v", d.Summary(), d.Counters)
	}
	if a := lifecycle.ParseAccess(f2); a.OwnConnections != 1 || !a.ClientsMeasured {
		t.Errorf("own connection not recognised in the processlist: %+v", a)
	}

	cfg := mysqldrv.NewConfig()
	cfg.Net, cfg.Addr, cfg.User = "tcp", probe.Target{Addr: s.Addr, Port: s.Port}.HostPort(), "root"
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 25
	for i := range n {
		var email string
		if err := c.QueryRowContext(ctx, "SELECT email FROM shop.users WHERE id = ?", i%25+1).Scan(&email); err != nil {
			t.Fatal(err)
		}
	}
	_, d = probetest.ObserveDelta(t, New(), s.Addr, s.Port, f2)
	if !d.Seen() || *d.ForeignQueries < n || *d.ForeignQueries > n+2 || *d.ForeignConnections != 1 {
		t.Errorf("foreign queries %d connections %d, want %d(+2 at most) and 1", *d.ForeignQueries, *d.ForeignConnections, n)
	}
	if len(d.Clients) != 1 || d.Clients[0].Connections != 1 || len(d.NewClients) != 1 {
		t.Errorf("clients %+v new %v, want the test's one connection", d.Clients, d.NewClients)
	}
	unchanged()
}
