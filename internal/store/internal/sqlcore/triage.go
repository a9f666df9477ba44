package sqlcore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/store"
)

// migrationAcks is schema version 2: acknowledgements of findings.
var migrationAcks = []string{
	`CREATE TABLE acknowledgements (
		id         {{ID}},
		finding_id TEXT NOT NULL REFERENCES findings(id),
		at         {{TS}} NOT NULL,
		by_name    TEXT NOT NULL DEFAULT '',
		assignee   TEXT NOT NULL DEFAULT '',
		note       TEXT NOT NULL DEFAULT ''
	)`,
	`CREATE INDEX acknowledgements_finding ON acknowledgements(finding_id, id)`,
	// FindingFilter.UpdatedSince: the dashboard's incremental reads.
	`CREATE INDEX findings_updated ON findings(updated_at)`,
}

// cut bounds free text to n bytes of valid UTF-8, never splitting a rune.
func cut(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Acknowledge implements store.Store.
func (db *DB) Acknowledge(ctx context.Context, a store.Acknowledgement) (store.Acknowledgement, error) {
	a.At = db.now()
	a.By, a.Assignee, a.Note = cut(a.By, store.MaxNameBytes), cut(a.Assignee, store.MaxNameBytes), cut(a.Note, store.MaxNoteBytes)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.q(`SELECT COUNT(*) FROM findings WHERE id = ?`), a.FindingID).Scan(&n); err != nil {
			return db.errf("acknowledge: %w", err)
		}
		if n == 0 {
			return store.ErrNotFound
		}
		err := tx.QueryRowContext(ctx, db.q(`INSERT INTO acknowledgements (finding_id, at, by_name, assignee, note)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), a.FindingID, db.t(a.At), a.By, a.Assignee, a.Note).Scan(&a.ID)
		if err != nil {
			return db.errf("acknowledge: %w", err)
		}
		return nil
	})
	return a, err
}

// ListAcknowledgements implements store.Store.
func (db *DB) ListAcknowledgements(ctx context.Context, f store.AckFilter) ([]store.Acknowledgement, error) {
	query, args := `SELECT id, finding_id, at, by_name, assignee, note FROM acknowledgements`, []any{}
	if f.FindingID != "" {
		query += ` WHERE finding_id = ?`
		args = append(args, f.FindingID)
	}
	query += ` ORDER BY id DESC`
	if f.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, db.errf("list acknowledgements: %w", err)
	}
	defer rows.Close()
	var out []store.Acknowledgement
	for rows.Next() {
		var (
			a  store.Acknowledgement
			at timeCol
		)
		if err := rows.Scan(&a.ID, &a.FindingID, &at, &a.By, &a.Assignee, &a.Note); err != nil {
			return nil, db.errf("list acknowledgements: %w", err)
		}
		a.At = at.T
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("list acknowledgements: %w", err)
	}
	return out, nil
}

// ListEvents implements store.Store.
func (db *DB) ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error) {
	clause, args := `WHERE id > ?`, []any{f.AfterID}
	if f.FindingID != "" {
		clause += ` AND finding_id = ?`
		args = append(args, f.FindingID)
	}
	clause += ` ORDER BY id`
	if f.Limit > 0 {
		clause += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	return db.selectEvents(ctx, db.read, clause, args...)
}

// LastEventID implements store.Store.
func (db *DB) LastEventID(ctx context.Context) (int64, error) {
	var id sql.NullInt64
	err := db.read.QueryRowContext(ctx, `SELECT MAX(id) FROM events`).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, db.errf("last event: %w", err)
	}
	return id.Int64, nil
}
