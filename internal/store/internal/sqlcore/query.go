package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const findingCols = `f.state, f.scope, f.updated_at,
	(SELECT COUNT(*) FROM observations o WHERE o.service_id = f.id)`

func scanFinding(sc interface{ Scan(...any) error }) (store.Finding, error) {
	var (
		f   store.Finding
		raw string
		upd timeCol
	)
	if err := sc.Scan(&raw, &f.Scope, &upd, &f.Observations); err != nil {
		return f, err
	}
	if err := json.Unmarshal([]byte(raw), &f.State); err != nil {
		return f, err
	}
	f.UpdatedAt = upd.T
	return f, nil
}

// finding reads one finding row.
func (db *DB) finding(ctx context.Context, q querier, id string) (store.Finding, error) {
	row := q.QueryRowContext(ctx, db.q(`SELECT `+findingCols+` FROM findings f WHERE f.id = ?`), id)
	f, err := scanFinding(row)
	if errors.Is(err, sql.ErrNoRows) {
		return f, store.ErrNotFound
	}
	if err != nil {
		return f, db.errf("read finding %s: %w", id, err)
	}
	return f, nil
}

// ListFindings implements store.Store.
func (db *DB) ListFindings(ctx context.Context, flt store.FindingFilter) ([]store.Finding, error) {
	var (
		where []string
		args  []any
	)
	statuses := flt.Statuses
	switch {
	case len(statuses) > 0:
	case flt.Status == store.FilterOpen:
		statuses = []lifecycle.Status{lifecycle.StatusOpen, lifecycle.StatusChanged, lifecycle.StatusReopened}
	case flt.Status == store.FilterClosed:
		statuses = []lifecycle.Status{lifecycle.StatusClosed}
	case flt.Status == store.FilterOutOfScope:
		statuses = []lifecycle.Status{lifecycle.StatusOutOfScope}
	case flt.Status != store.FilterAll:
		return nil, db.errf("unknown status filter %q", flt.Status)
	}
	if len(statuses) > 0 {
		where = append(where, "f.status IN ("+marks(len(statuses))+")")
		for _, s := range statuses {
			args = append(args, string(s))
		}
	}
	if flt.MinSeverity != "" {
		where = append(where, "f.severity_rank >= ?")
		args = append(args, flt.MinSeverity.Rank())
	}
	for col, v := range map[string]string{"f.scope": flt.Scope, "f.service": flt.Service, "f.host": flt.Host} {
		if v != "" {
			where = append(where, col+" = ?")
			args = append(args, v)
		}
	}
	if flt.IDPrefix != "" {
		where = append(where, "f.id LIKE ?")
		args = append(args, likePrefix(flt.IDPrefix))
	}
	if !flt.UpdatedSince.IsZero() {
		where = append(where, "f.updated_at >= ?")
		args = append(args, db.t(flt.UpdatedSince))
	}
	query := `SELECT ` + findingCols + ` FROM findings f`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += ` ORDER BY CASE WHEN f.status = 'closed' THEN 0 ELSE 1 END DESC, f.severity_rank DESC, f.last_seen DESC, f.id`
	if flt.Limit > 0 {
		query += " LIMIT ?"
		args = append(args, flt.Limit)
	}
	rows, err := db.read.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, db.errf("list findings: %w", err)
	}
	defer rows.Close()
	var out []store.Finding
	for rows.Next() {
		f, err := scanFinding(rows)
		if err != nil {
			return nil, db.errf("list findings: %w", err)
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("list findings: %w", err)
	}
	return out, nil
}

// likePrefix escapes LIKE wildcards (ids are hex, but be safe).
func likePrefix(p string) string {
	p = strings.NewReplacer("%", "", "_", "").Replace(p)
	return p + "%"
}

// marks is "?, ?, ?".
func marks(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// GetFinding implements store.Store. It reads in one transaction, so the
// finding and its timeline are consistent.
func (db *DB) GetFinding(ctx context.Context, id string, tq store.TimelineQuery) (*store.FindingDetail, error) {
	tx, err := db.read.BeginTx(ctx, db.d.ReadTx())
	if err != nil {
		return nil, db.errf("begin: %w", err)
	}
	defer tx.Rollback()
	f, err := db.finding(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	obs, err := db.observations(ctx, tx, id, tq)
	if err != nil {
		return nil, err
	}
	where, args := `WHERE finding_id = ?`, []any{id}
	if !tq.Since.IsZero() {
		where += ` AND at >= ?`
		args = append(args, db.t(tq.Since))
	}
	evs, err := db.events(ctx, tx, where, args...)
	if err != nil {
		return nil, err
	}
	return &store.FindingDetail{Finding: f, Timeline: merge(obs, evs)}, nil
}

// merge orders observations and events by time; an event follows its
// observation.
func merge(obs []store.Observation, evs []store.Event) []store.TimelineEntry {
	out := make([]store.TimelineEntry, 0, len(obs)+len(evs))
	for i := range obs {
		out = append(out, store.TimelineEntry{At: obs[i].At, Observation: &obs[i]})
	}
	for i := range evs {
		out = append(out, store.TimelineEntry{At: evs[i].At, Event: &evs[i]})
	}
	key := func(e store.TimelineEntry) (int64, int64) {
		if e.Observation != nil {
			return e.Observation.ID, 0
		}
		return e.Event.ObservationID, e.Event.ID
	}
	slices.SortStableFunc(out, func(a, b store.TimelineEntry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		ao, ae := key(a)
		bo, be := key(b)
		if ao != bo {
			return cmpInt(ao, bo)
		}
		return cmpInt(ae, be)
	})
	return out
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

const observationCols = `id, scan_id, service_id, scope, observed_at, recorded_at, outcome, reason, auth, severity,
	product, version, records, datasets, classes, flags`

func scanObservation(sc interface{ Scan(...any) error }, extra ...any) (store.Observation, error) {
	var (
		o                  store.Observation
		at, rec            timeCol
		outcome, auth, sev string
		classes, flags     string
	)
	dest := append([]any{&o.ID, &o.ScanID, &o.FindingID, &o.Scope, &at, &rec, &outcome, &o.Reason, &auth, &sev,
		&o.Product, &o.Version, &o.Records, &o.Datasets, &classes, &flags}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return o, err
	}
	o.At, o.RecordedAt = at.T, rec.T
	o.Outcome, o.Auth, o.Severity = lifecycle.Outcome(outcome), finding.Auth(auth), finding.Severity(sev)
	_ = json.Unmarshal([]byte(classes), &o.Classes)
	_ = json.Unmarshal([]byte(flags), &o.Flags)
	return o, nil
}

// observations reads a service's observations for a timeline.
func (db *DB) observations(ctx context.Context, q querier, id string, tq store.TimelineQuery) ([]store.Observation, error) {
	query, args := `SELECT `+observationCols+` FROM observations WHERE service_id = ?`, []any{id}
	if !tq.Since.IsZero() {
		query += ` AND observed_at >= ?`
		args = append(args, db.t(tq.Since))
	}
	query += ` ORDER BY observed_at DESC, id DESC`
	if tq.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, tq.Limit)
	}
	rows, err := q.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, db.errf("read observations: %w", err)
	}
	defer rows.Close()
	var out []store.Observation
	for rows.Next() {
		o, err := scanObservation(rows)
		if err != nil {
			return nil, db.errf("read observations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("read observations: %w", err)
	}
	slices.Reverse(out)
	return out, nil
}

// GetObservation implements store.Store.
func (db *DB) GetObservation(ctx context.Context, id int64) (*store.Observation, error) {
	var body sql.NullString
	row := db.read.QueryRowContext(ctx, db.q(`SELECT `+observationCols+`, finding FROM observations WHERE id = ?`), id)
	o, err := scanObservation(row, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, db.errf("read observation %d: %w", id, err)
	}
	if body.Valid {
		o.Finding = new(finding.Finding)
		if err := json.Unmarshal([]byte(body.String), o.Finding); err != nil {
			return nil, db.errf("decode observation %d: %w", id, err)
		}
	}
	return &o, nil
}

// events reads events matching a WHERE clause, oldest first.
func (db *DB) events(ctx context.Context, q querier, where string, args ...any) ([]store.Event, error) {
	return db.selectEvents(ctx, q, where+` ORDER BY at, id`, args...)
}

// selectEvents reads the events a clause (WHERE, ORDER BY, LIMIT) selects.
func (db *DB) selectEvents(ctx context.Context, q querier, clause string, args ...any) ([]store.Event, error) {
	rows, err := q.QueryContext(ctx, db.q(`SELECT id, observation_id, payload FROM events `+clause), args...)
	if err != nil {
		return nil, db.errf("read events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var (
			e   store.Event
			raw string
		)
		if err := rows.Scan(&e.ID, &e.ObservationID, &raw); err != nil {
			return nil, db.errf("read events: %w", err)
		}
		if err := json.Unmarshal([]byte(raw), &e.Event); err != nil {
			return nil, db.errf("decode event %d: %w", e.ID, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, db.errf("read events: %w", err)
	}
	return out, nil
}
