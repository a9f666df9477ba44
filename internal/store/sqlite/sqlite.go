// Package sqlite is the embedded history store: one SQLite file, opened
// with the pure-Go modernc.org/sqlite driver (no cgo).
//
// Settings, and why:
//   - journal_mode=WAL: readers (API, CLI) never block the writer, and a
//     commit is one append to the WAL.
//   - synchronous=FULL: each commit fsyncs the WAL. NORMAL would already
//     survive kill -9 (the WAL is in the OS page cache), but could lose the
//     last commits on power loss or a kernel crash — and with them an
//     acknowledged alert delivery (re-sent) or a committed observation.
//     leakwatch writes a few transactions per endpoint check, so an fsync
//     per commit is cheap next to the probing; durability wins.
//   - busy_timeout=10s: several processes (serve, the CLI) may share the
//     file; writers wait instead of failing with SQLITE_BUSY.
//   - foreign_keys=ON: orphaned events or alerts are impossible.
//   - writes go through one connection with BEGIN IMMEDIATE, so a write
//     transaction takes the write lock up front (no deadlocking lock
//     upgrades); reads use a separate small pool.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/internal/sqlcore"
)

// Store is a SQLite-backed store.Store.
type Store struct {
	*sqlcore.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the database file
// at path and migrates it to the newest schema.
func Open(ctx context.Context, path string, opts store.Options) (*Store, error) {
	if path == "" {
		return nil, fmt.Errorf("sqlite store: empty path")
	}
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite store: path %q must not contain ? or #", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("sqlite store: %w", err)
		}
	}
	if err := createPrivate(path, opts.Logger); err != nil {
		return nil, err
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetConnMaxIdleTime(0)
	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(4)
	read.SetConnMaxIdleTime(time.Minute)
	s := &Store{DB: sqlcore.New(dialect{}, write, read, opts)}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createPrivate creates the database file readable by its owner only
// (0600, like the key file): the history names every exposed store, where it
// is and what it holds. SQLite gives the -wal and -shm files the database
// file's mode. An existing file that group or others can read is left as it
// is, with a warning.
func createPrivate(path string, logger *slog.Logger) error {
	if path == ":memory:" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return fmt.Errorf("sqlite store: %w", err)
	}
	store.WarnIfLoose(logger, "history database", path, fi.Mode())
	return nil
}

// dsn builds the driver's connection string.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	if writer {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// dialect is SQLite's side of sqlcore.
type dialect struct{}

func (dialect) Name() string            { return "sqlite" }
func (dialect) Rebind(q string) string  { return q }
func (dialect) ClaimSkipLocked() string { return "" }

// ReadTx: a deferred transaction in WAL mode reads one snapshot.
func (dialect) ReadTx() *sql.TxOptions { return nil }

func (dialect) Types() map[string]string {
	return map[string]string{
		"TS": "TEXT", "ID": "INTEGER PRIMARY KEY", "BIGINT": "INTEGER",
		"JSON": "TEXT", "BOOL": "INTEGER", "FALSE": "0",
	}
}

// Time stores fixed-width UTC text, so text order is time order.
func (dialect) Time(t time.Time) any { return t.UTC().Format(sqlcore.SQLiteTimeFormat) }

// LockMigrations: the write transaction (BEGIN IMMEDIATE) already holds
// the database's write lock.
func (dialect) LockMigrations(context.Context, *sql.Tx) error { return nil }
