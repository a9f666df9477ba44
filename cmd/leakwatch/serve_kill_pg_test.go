package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestServeKill9Postgres is TestServeKill9 with the history on PostgreSQL:
// serve is killed 20 times, half of the kills while it holds a write
// transaction — confirmed from the server side by pg_stat_activity showing
// the history database's connection "idle in transaction" at the moment
// of the kill — and the history must come out with nothing lost,
// duplicated or half-applied.
func TestServeKill9Postgres(t *testing.T) {
	if testing.Short() {
		t.Skip("kill -9 loop takes ~40s")
	}
	t.Parallel()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{Durable: true})
	db := pg.NewDatabase(t)
	dir := t.TempDir()
	url := pg.URL(db)
	be := killBackend{
		name: "postgres", yaml: fmt.Sprintf("{postgres: %q}", url), spec: url,
		driver: "pgx", dsn: url,
		openTx: func(t *testing.T) string {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := pg.Local(ctx, "postgres")
			if err != nil {
				t.Errorf("pg_stat_activity: %v", err)
				return ""
			}
			defer c.Close(ctx)
			var n int
			var q string
			err = c.QueryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(query), '') FROM pg_stat_activity
				WHERE datname = $1 AND state = 'idle in transaction'`, db).Scan(&n, &q)
			if err != nil {
				t.Errorf("pg_stat_activity: %v", err)
				return ""
			}
			if n == 0 {
				return ""
			}
			return fmt.Sprintf("%d backend(s) idle in transaction, last statement %.60q", n, q)
		},
	}
	runServeKill9(t, dir, be)
}
