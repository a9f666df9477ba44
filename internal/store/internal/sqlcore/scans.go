package sqlcore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/leakwatch/leakwatch/internal/store"
)

const scanCols = `s.id, s.scope, s.status, s.started_at, s.finished_at, s.cursor, s.cursor_at, s.error,
	(SELECT COUNT(*) FROM observations o WHERE o.scan_id = s.id)`

func scanRun(sc interface{ Scan(...any) error }) (store.ScanRun, error) {
	var (
		r                         store.ScanRun
		status                    string
		started, finished, cursor timeCol
	)
	err := sc.Scan(&r.ID, &r.Scope, &status, &started, &finished, &r.Cursor, &cursor, &r.Error, &r.Observations)
	r.Status, r.StartedAt, r.FinishedAt, r.CursorAt = store.ScanStatus(status), started.T, finished.T, cursor.T
	return r, err
}

// newScanID is time-ordered and unique: 20261128T150000.123456Z-1a2b3c4d.
func (db *DB) newScanID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return db.now().Format("20060102T150405.000000Z") + "-" + hex.EncodeToString(b[:])
}

// BeginScan implements store.Store.
func (db *DB) BeginScan(ctx context.Context, scope string) (store.ScanRun, error) {
	r := store.ScanRun{ID: db.newScanID(), Scope: scope, Status: store.ScanRunning, StartedAt: db.now()}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO scan_runs (id, scope, status, started_at) VALUES (?, ?, ?, ?)`),
			r.ID, r.Scope, string(r.Status), db.t(r.StartedAt))
		if err != nil {
			return db.errf("begin scan: %w", err)
		}
		return nil
	})
	return r, err
}

// SaveScanCursor implements store.Store.
func (db *DB) SaveScanCursor(ctx context.Context, scanID, cursor string) error {
	return db.updateScan(ctx, scanID, `cursor = ?, cursor_at = ?`, cursor, db.t(db.now()))
}

// FinishScan implements store.Store.
func (db *DB) FinishScan(ctx context.Context, scanID string, status store.ScanStatus, errText string) error {
	switch status {
	case store.ScanFinished, store.ScanFailed, store.ScanAbandoned:
	default:
		return db.errf("finish scan %s: bad status %q", scanID, status)
	}
	return db.updateScan(ctx, scanID, `status = ?, finished_at = ?, error = ?`, string(status), db.t(db.now()), truncate(errText))
}

// updateScan changes a running scan; ErrNotFound if there is none.
func (db *DB) updateScan(ctx context.Context, scanID, set string, args ...any) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		args = append(args, scanID, string(store.ScanRunning))
		res, err := tx.ExecContext(ctx, db.q(`UPDATE scan_runs SET `+set+` WHERE id = ? AND status = ?`), args...)
		if err != nil {
			return db.errf("update scan %s: %w", scanID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return store.ErrNotFound
		}
		return nil
	})
}

// UnfinishedScan implements store.Store.
func (db *DB) UnfinishedScan(ctx context.Context, scope string) (store.ScanRun, error) {
	runs, err := db.ListScans(ctx, store.ScanFilter{Scope: scope, Status: store.ScanRunning, Limit: 1})
	if err != nil {
		return store.ScanRun{}, err
	}
	if len(runs) == 0 {
		return store.ScanRun{}, store.ErrNotFound
	}
	return runs[0], nil
}

// GetScan implements store.Store.
func (db *DB) GetScan(ctx context.Context, scanID string) (store.ScanRun, error) {
	r, err := scanRun(db.read.QueryRowContext(ctx, db.q(`SELECT `+scanCols+` FROM scan_runs s WHERE s.id = ?`), scanID))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.ErrNotFound
	}
	if err != nil {
		return r, db.errf("read scan %s: %w", scanID, err)
	}
	return r, nil
}

// ListScans implements store.Store.
func (db *DB) ListScans(ctx context.Context, f store.ScanFilter) ([]store.ScanRun, error) {
	var (
		where []string
		args  []any
	)
	if f.Scope != "" {
		where = append(where, "s.scope = ?")
		args = append(args, f.Scope)
	}
	if f.Status != "" {
		where = append(where, "s.status = ?")
		args = append(args, string(f.Status))
	}
	query := `SELECT ` + scanCols + ` FROM scan_runs s`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY s.started_at DESC, s.id DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, db.errf("list scans: %w", err)
	}
	defer rows.Close()
	var out []store.ScanRun
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, db.errf("list scans: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("list scans: %w", err)
	}
	return out, nil
}
