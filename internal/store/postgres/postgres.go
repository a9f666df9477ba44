// Package postgres is the history store on PostgreSQL (for several serve
// instances or workers sharing history), through pgx/v5's database/sql
// driver. The schema and behaviour are those of every store.Store (see
// store/storetest); what differs:
//   - timestamps are TIMESTAMPTZ, JSON columns JSONB, ids identity columns;
//   - migrations take a transaction-scoped advisory lock, so several
//     processes starting at once migrate once;
//   - RecordObservation's service upsert locks the service row, so
//     concurrent recordings of one finding apply the lifecycle in turn;
//   - alert claimers use FOR UPDATE SKIP LOCKED and never wait on each
//     other.
package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/internal/sqlcore"
)

// Store is a PostgreSQL-backed store.Store.
type Store struct {
	*sqlcore.DB
}

var _ store.Store = (*Store)(nil)

// migrationLock is the advisory lock key of migrations ("leakwatc").
const migrationLock = 0x6c65616b77617463

// Open connects to dsn (a postgres:// URL or key=value string), checks
// the connection and migrates the schema.
func Open(ctx context.Context, dsn string, opts store.Options) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(4)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres store: connect: %w", err)
	}
	s := &Store{DB: sqlcore.New(dialect{}, db, nil, opts)}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// dialect is PostgreSQL's side of sqlcore.
type dialect struct{}

func (dialect) Name() string            { return "postgres" }
func (dialect) Rebind(q string) string  { return sqlcore.RebindDollar(q) }
func (dialect) ClaimSkipLocked() string { return " FOR UPDATE SKIP LOCKED" }
func (dialect) Time(t time.Time) any    { return t }

func (dialect) Types() map[string]string {
	return map[string]string{
		"TS": "TIMESTAMPTZ", "ID": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT": "BIGINT",
		"JSON": "JSONB", "BOOL": "BOOLEAN", "FALSE": "false",
	}
}

// ReadTx: one snapshot for the finding and its timeline.
func (dialect) ReadTx() *sql.TxOptions {
	return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
}

// LockMigrations takes a transaction-scoped advisory lock.
func (dialect) LockMigrations(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrationLock))
	return err
}
