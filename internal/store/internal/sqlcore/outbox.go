package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
)

const alertCols = `o.id, o.event_id, o.route, o.dedup_key, o.scope, o.created_at, o.attempts, o.next_attempt,
	o.lease_until, o.claimed_by, o.last_error, o.delivered_at, o.gave_up_at, e.payload`

func scanAlert(sc interface{ Scan(...any) error }) (store.Alert, error) {
	var (
		a                                   store.Alert
		created, next, lease, deliv, gaveUp timeCol
		raw                                 string
	)
	err := sc.Scan(&a.ID, &a.EventID, &a.Route, &a.DedupKey, &a.Scope, &created, &a.Attempts, &next,
		&lease, &a.ClaimedBy, &a.LastError, &deliv, &gaveUp, &raw)
	if err != nil {
		return a, err
	}
	a.CreatedAt, a.NextAttempt, a.LeaseUntil, a.DeliveredAt = created.T, next.T, lease.T, deliv.T
	switch {
	case !deliv.T.IsZero():
		a.State = store.AlertDelivered
	case !gaveUp.T.IsZero():
		a.State = store.AlertGaveUp
	default:
		a.State = store.AlertPending
	}
	return a, json.Unmarshal([]byte(raw), &a.Event)
}

func (db *DB) scanAlerts(rows *sql.Rows, err error) ([]store.Alert, error) {
	if err != nil {
		return nil, db.errf("read alerts: %w", err)
	}
	defer rows.Close()
	var out []store.Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, db.errf("read alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("read alerts: %w", err)
	}
	return out, nil
}

// ClaimAlerts implements store.Store: one write transaction marks the due
// alerts leased (PostgreSQL skips rows other claimers hold; SQLite's write
// lock serialises claimers) and reads them back.
func (db *DB) ClaimAlerts(ctx context.Context, c store.Claim) ([]store.Alert, error) {
	if c.Worker == "" {
		return nil, db.errf("claim alerts: empty worker")
	}
	if c.Limit <= 0 {
		c.Limit = 10
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	now := db.now()
	var out []store.Alert
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		sub := `SELECT id FROM outbox WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt <= ?
			AND (lease_until IS NULL OR lease_until <= ?)`
		args := []any{db.t(now.Add(c.Lease)), c.Worker, db.t(now), db.t(now)}
		if len(c.Routes) > 0 {
			sub += ` AND route IN (` + marks(len(c.Routes)) + `)`
			for _, r := range c.Routes {
				args = append(args, r)
			}
		}
		sub += ` ORDER BY next_attempt, id LIMIT ?` + db.d.ClaimSkipLocked()
		args = append(args, c.Limit)
		rows, err := tx.QueryContext(ctx, db.q(`UPDATE outbox SET lease_until = ?, claimed_by = ?, attempts = attempts + 1
			WHERE id IN (`+sub+`) RETURNING id`), args...)
		if err != nil {
			return db.errf("claim alerts: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return db.errf("claim alerts: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return db.errf("claim alerts: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		out, err = db.scanAlerts(tx.QueryContext(ctx, db.q(`SELECT `+alertCols+` FROM outbox o JOIN events e ON e.id = o.event_id
			WHERE o.id IN (`+marks(len(ids))+`) ORDER BY o.next_attempt, o.id`), ids...))
		return err
	})
	return out, err
}

// settle updates an alert held by worker; ErrLeaseLost if it is not.
func (db *DB) settle(ctx context.Context, id int64, worker, set string, args ...any) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		args = append(args, id, worker)
		res, err := tx.ExecContext(ctx, db.q(`UPDATE outbox SET `+set+`
			WHERE id = ? AND claimed_by = ? AND lease_until IS NOT NULL AND delivered_at IS NULL AND gave_up_at IS NULL`), args...)
		if err != nil {
			return db.errf("update alert %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		var one int
		err = tx.QueryRowContext(ctx, db.q(`SELECT 1 FROM outbox WHERE id = ?`), id).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return db.errf("read alert %d: %w", id, err)
		}
		return store.ErrLeaseLost
	})
}

// AckAlert implements store.Store.
func (db *DB) AckAlert(ctx context.Context, id int64, worker string) error {
	return db.settle(ctx, id, worker, `delivered_at = ?, lease_until = NULL, last_error = ''`, db.t(db.now()))
}

// RetryAlert implements store.Store.
func (db *DB) RetryAlert(ctx context.Context, id int64, worker, lastError string, next time.Time) error {
	return db.settle(ctx, id, worker, `next_attempt = ?, last_error = ?, lease_until = NULL`, db.t(next), truncate(lastError))
}

// GiveUpAlert implements store.Store.
func (db *DB) GiveUpAlert(ctx context.Context, id int64, worker, lastError string) error {
	return db.settle(ctx, id, worker, `gave_up_at = ?, last_error = ?, lease_until = NULL`, db.t(db.now()), truncate(lastError))
}

// truncate keeps stored error texts bounded.
func truncate(s string) string {
	if len(s) > 2000 {
		s = s[:2000]
	}
	return strings.ToValidUTF8(s, "?")
}

// ListAlerts implements store.Store.
func (db *DB) ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.Alert, error) {
	var (
		where []string
		args  []any
	)
	switch f.State {
	case "":
	case store.AlertPending:
		where = append(where, "o.delivered_at IS NULL AND o.gave_up_at IS NULL")
	case store.AlertDelivered:
		where = append(where, "o.delivered_at IS NOT NULL")
	case store.AlertGaveUp:
		where = append(where, "o.gave_up_at IS NOT NULL")
	default:
		return nil, db.errf("unknown alert state %q", f.State)
	}
	if f.Route != "" {
		where = append(where, "o.route = ?")
		args = append(args, f.Route)
	}
	if f.FindingID != "" {
		where = append(where, "e.finding_id = ?")
		args = append(args, f.FindingID)
	}
	query := `SELECT ` + alertCols + ` FROM outbox o JOIN events e ON e.id = o.event_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY o.id DESC"
	if f.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return db.scanAlerts(db.read.QueryContext(ctx, db.q(query), args...))
}

// OutboxStats implements store.Store.
func (db *DB) OutboxStats(ctx context.Context) (store.OutboxStats, error) {
	var (
		s      store.OutboxStats
		oldest timeCol
	)
	err := db.read.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN delivered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		MIN(CASE WHEN delivered_at IS NULL AND gave_up_at IS NULL THEN created_at END)
		FROM outbox`).Scan(&s.Pending, &s.Delivered, &s.GaveUp, &oldest)
	if err != nil {
		return s, db.errf("outbox stats: %w", err)
	}
	s.OldestPending = oldest.T
	return s, nil
}
