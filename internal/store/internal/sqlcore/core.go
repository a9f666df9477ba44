// Package sqlcore implements store.Store once over database/sql; the sqlite
// and postgres backends give it a Dialect (placeholders, column types,
// timestamps, migration lock, alert-claim statement) and their pools.
package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
)

// Dialect is what differs between SQL backends.
type Dialect interface {
	// Name is "sqlite" or "postgres" (error messages).
	Name() string
	// Rebind turns the core's ? placeholders into the backend's.
	Rebind(query string) string
	// Types maps the schema macros (TS, ID, BIGINT, JSON, BOOL, FALSE).
	Types() map[string]string
	// Time converts a UTC, microsecond-truncated time to a column value.
	Time(t time.Time) any
	// LockMigrations serialises migrations across processes, inside tx.
	LockMigrations(ctx context.Context, tx *sql.Tx) error
	// ReadTx are the options of GetFinding's read transaction, which must
	// see one snapshot.
	ReadTx() *sql.TxOptions
	// ClaimSkipLocked is appended to the claim sub-select (" FOR UPDATE
	// SKIP LOCKED" on PostgreSQL; "" where the write lock already
	// serialises claimers).
	ClaimSkipLocked() string
}

// DB implements store.Store.
type DB struct {
	write  *sql.DB // write transactions
	read   *sql.DB // queries (may be write)
	d      Dialect
	opts   store.Options
	closed atomic.Bool
	owned  []*sql.DB
}

var _ store.Store = (*DB)(nil)

// New wraps the pools; Close closes them. It does not migrate.
func New(d Dialect, write, read *sql.DB, opts store.Options) *DB {
	if read == nil {
		read = write
	}
	owned := []*sql.DB{write}
	if read != write {
		owned = append(owned, read)
	}
	return &DB{write: write, read: read, d: d, opts: opts.WithDefaults(), owned: owned}
}

// Close closes the pools.
func (db *DB) Close() error {
	if db.closed.Swap(true) {
		return nil
	}
	var errs []error
	for _, p := range db.owned {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// q rebinds a query for the dialect.
func (db *DB) q(query string) string { return db.d.Rebind(query) }

// t converts a time for a column (zero → NULL).
func (db *DB) t(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.d.Time(norm(t))
}

// norm is the store's time precision: UTC microseconds (PostgreSQL's).
func norm(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (db *DB) now() time.Time { return norm(db.opts.Now()) }

func (db *DB) errf(format string, args ...any) error {
	return fmt.Errorf(db.d.Name()+" store: "+format, args...)
}

// begin starts a write transaction.
func (db *DB) begin(ctx context.Context) (*sql.Tx, error) {
	if db.closed.Load() {
		return nil, store.ErrClosed
	}
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.errf("begin: %w", err)
	}
	return tx, nil
}

// inTx runs fn in a write transaction and commits it.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	var after func()
	if h := store.CommitHook; h != nil {
		after = h()
	}
	if err := tx.Commit(); err != nil {
		return db.errf("commit: %w", err)
	}
	if after != nil {
		after()
	}
	return nil
}

// Migrate applies the missing migrations, one transaction each.
func (db *DB) Migrate(ctx context.Context) error {
	types := db.d.Types()
	newest := Migrations[len(Migrations)-1].Version
	for _, m := range Migrations {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			if err := db.d.LockMigrations(ctx, tx); err != nil {
				return db.errf("lock migrations: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
				return db.errf("create schema_migrations: %w", err)
			}
			var have int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
				return db.errf("schema version: %w", err)
			}
			if have > newest {
				return db.errf("database schema version %d is newer than this leakwatch knows (%d): upgrade leakwatch", have, newest)
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.Version).Scan(&n); err != nil {
				return db.errf("schema version: %w", err)
			}
			if n > 0 {
				return nil
			}
			for _, s := range m.SQL {
				if _, err := tx.ExecContext(ctx, expand(s, types)); err != nil {
					return db.errf("migration %d (%s): %w", m.Version, m.Name, err)
				}
			}
			_, err := tx.ExecContext(ctx, db.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.Version, m.Name, time.Now().UTC().Format(time.RFC3339))
			if err != nil {
				return db.errf("record migration %d: %w", m.Version, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion is the newest applied migration (0 before any).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, db.errf("schema version: %w", err)
	}
	return v, nil
}

// RebindDollar turns ? into $1, $2, ... (PostgreSQL). The core never puts
// a ? inside a string literal.
func RebindDollar(q string) string {
	var b strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// timeCol scans a nullable timestamp stored as time (PostgreSQL) or text
// (SQLite).
type timeCol struct{ T time.Time }

func (c *timeCol) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		c.T = time.Time{}
	case time.Time:
		c.T = norm(x)
	case string:
		return c.parse(x)
	case []byte:
		return c.parse(string(x))
	default:
		return fmt.Errorf("timestamp: unexpected %T", v)
	}
	return nil
}

func (c *timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("timestamp %q: %w", s, err)
	}
	c.T = norm(t)
	return nil
}

// SQLiteTimeFormat is how the SQLite dialect stores times: fixed width,
// so that text order is time order.
const SQLiteTimeFormat = "2006-01-02T15:04:05.000000Z"

// Pools exposes the connection pools (backend tests check settings).
func (db *DB) Pools() (write, read *sql.DB) { return db.write, db.read }
