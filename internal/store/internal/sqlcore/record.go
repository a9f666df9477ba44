package sqlcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// RecordObservation implements store.Store.
func (db *DB) RecordObservation(ctx context.Context, scanID string, obs lifecycle.Observation) (store.Recorded, error) {
	if scanID == "" {
		return store.Recorded{}, db.errf("record observation: empty scan id")
	}
	obs.At = norm(obs.At)
	if err := obs.Validate(); err != nil {
		return store.Recorded{}, fmt.Errorf("%s store: %w", db.d.Name(), err)
	}
	var rec store.Recorded
	dup := false
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		rec, dup, err = db.record(ctx, tx, scanID, obs)
		if err == nil && dup {
			return errDuplicate
		}
		return err
	})
	if errors.Is(err, errDuplicate) {
		return db.recorded(ctx, scanID, obs.FindingID)
	}
	return rec, err
}

// errDuplicate rolls back a transaction whose observation exists.
var errDuplicate = errors.New("duplicate observation")

// record does RecordObservation's work inside tx; dup tells that the
// (scan, finding) pair was recorded before.
func (db *DB) record(ctx context.Context, tx *sql.Tx, scanID string, obs lifecycle.Observation) (store.Recorded, bool, error) {
	now := db.now()
	if err := db.upsertService(ctx, tx, obs); err != nil {
		return store.Recorded{}, false, err
	}
	obsID, err := db.insertObservation(ctx, tx, scanID, obs, now)
	if err != nil || obsID == 0 {
		return store.Recorded{}, obsID == 0 && err == nil, err
	}
	obs.ID = obsID
	prev, err := db.loadState(ctx, tx, obs.FindingID)
	if err != nil {
		return store.Recorded{}, false, err
	}
	res, err := db.opts.Lifecycle.Apply(prev, obs)
	if err != nil {
		return store.Recorded{}, false, fmt.Errorf("%s store: %w", db.d.Name(), err)
	}
	rec := store.Recorded{ObservationID: obsID, Stale: res.Stale, State: res.State}
	if res.Stale {
		_, err := tx.ExecContext(ctx, db.q(`UPDATE observations SET stale = ? WHERE id = ?`), true, obsID)
		if err != nil {
			return rec, false, db.errf("mark stale: %w", err)
		}
		return rec, false, nil
	}
	if res.State.Status == lifecycle.StatusUntracked {
		return rec, false, nil
	}
	if err := db.saveState(ctx, tx, res.State, obs.Scope, now); err != nil {
		return rec, false, err
	}
	for _, ev := range res.Events {
		sev, err := db.insertEvent(ctx, tx, scanID, obsID, obs.Scope, ev, now)
		if err != nil {
			return rec, false, err
		}
		rec.Events = append(rec.Events, sev)
	}
	return rec, false, nil
}

// upsertService writes the asset and service rows. On PostgreSQL the
// upsert locks the service row, serialising concurrent recordings of one
// finding; SQLite's write transactions are serial anyway.
func (db *DB) upsertService(ctx context.Context, tx *sql.Tx, obs lifecycle.Observation) error {
	at := db.t(obs.At)
	_, err := tx.ExecContext(ctx, db.q(`INSERT INTO assets (host, hostname, first_seen, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (host) DO UPDATE SET
			last_seen = CASE WHEN excluded.last_seen > assets.last_seen THEN excluded.last_seen ELSE assets.last_seen END,
			first_seen = CASE WHEN excluded.first_seen < assets.first_seen THEN excluded.first_seen ELSE assets.first_seen END,
			hostname = CASE WHEN excluded.hostname <> '' THEN excluded.hostname ELSE assets.hostname END`),
		obs.Target.Host, obs.Target.Hostname, at, at)
	if err != nil {
		return db.errf("upsert asset %s: %w", obs.Target.Host, err)
	}
	_, err = tx.ExecContext(ctx, db.q(`INSERT INTO services (id, host, port, service, scope, first_seen, last_seen, last_outcome)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			last_outcome = CASE WHEN excluded.last_seen >= services.last_seen THEN excluded.last_outcome ELSE services.last_outcome END,
			last_seen = CASE WHEN excluded.last_seen > services.last_seen THEN excluded.last_seen ELSE services.last_seen END,
			first_seen = CASE WHEN excluded.first_seen < services.first_seen THEN excluded.first_seen ELSE services.first_seen END,
			scope = CASE WHEN excluded.scope <> '' THEN excluded.scope ELSE services.scope END`),
		obs.FindingID, obs.Target.Host, obs.Target.Port, obs.Service, obs.Scope, at, at, string(obs.Outcome))
	if err != nil {
		return db.errf("upsert service %s: %w", obs.FindingID, err)
	}
	return nil
}

// insertObservation stores the observation; 0 means (scan, finding) exists.
func (db *DB) insertObservation(ctx context.Context, tx *sql.Tx, scanID string, obs lifecycle.Observation, now time.Time) (int64, error) {
	var (
		auth, sev, product, version string
		records                     int64
		datasets                    int
		classes, flags              = "[]", "[]"
		body                        any
	)
	if f := obs.Finding; f != nil {
		auth, sev, product, version = string(f.Auth), string(f.Severity), f.Product, f.Version
		records, datasets = f.TotalRecords(), len(f.Datasets)
		classes, flags = jsonList(f.Classes), jsonList(lifecycle.KnownOf(f).Flags)
		b, err := json.Marshal(f)
		if err != nil {
			return 0, db.errf("encode finding: %w", err)
		}
		body = string(b)
	}
	var id int64
	err := tx.QueryRowContext(ctx, db.q(`INSERT INTO observations
		(scan_id, service_id, scope, observed_at, recorded_at, outcome, reason, auth, severity, product, version,
		 records, datasets, classes, flags, finding)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (scan_id, service_id) DO NOTHING
		RETURNING id`),
		scanID, obs.FindingID, obs.Scope, db.t(obs.At), db.t(now), string(obs.Outcome), obs.Reason,
		auth, sev, product, version, records, datasets, classes, flags, body).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, db.errf("insert observation: %w", err)
	}
	return id, nil
}

// loadState reads a finding's lifecycle state (zero if untracked).
func (db *DB) loadState(ctx context.Context, tx *sql.Tx, id string) (lifecycle.State, error) {
	var raw string
	err := tx.QueryRowContext(ctx, db.q(`SELECT state FROM findings WHERE id = ?`), id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return lifecycle.State{}, nil
	}
	if err != nil {
		return lifecycle.State{}, db.errf("load finding %s: %w", id, err)
	}
	var s lifecycle.State
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return s, db.errf("decode finding %s: %w", id, err)
	}
	return s, nil
}

// saveState upserts the finding row from its state.
func (db *DB) saveState(ctx context.Context, tx *sql.Tx, s lifecycle.State, scope string, now time.Time) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return db.errf("encode finding %s: %w", s.ID, err)
	}
	_, err = tx.ExecContext(ctx, db.q(`INSERT INTO findings
		(id, status, severity, severity_rank, scope, host, port, service, first_seen, last_seen, last_seen_open,
		 changed_at, closed_at, reopen_count, closing_streak, state, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET
			status = excluded.status, severity = excluded.severity, severity_rank = excluded.severity_rank,
			scope = CASE WHEN excluded.scope <> '' THEN excluded.scope ELSE findings.scope END,
			first_seen = excluded.first_seen, last_seen = excluded.last_seen,
			last_seen_open = excluded.last_seen_open, changed_at = excluded.changed_at,
			closed_at = excluded.closed_at, reopen_count = excluded.reopen_count,
			closing_streak = excluded.closing_streak, state = excluded.state, updated_at = excluded.updated_at`),
		s.ID, string(s.Status), string(s.Severity), s.Severity.Rank(), scope, s.Target.Host, s.Target.Port, s.Service,
		db.t(s.FirstSeen), db.t(s.LastSeen), db.t(s.LastSeenOpen), db.t(s.ChangedAt), db.t(s.ClosedAt),
		s.ReopenCount, len(s.Closing), string(raw), db.t(now))
	if err != nil {
		return db.errf("save finding %s: %w", s.ID, err)
	}
	return nil
}

// insertEvent stores an event and enqueues one alert per route.
func (db *DB) insertEvent(ctx context.Context, tx *sql.Tx, scanID string, obsID int64, scope string, ev lifecycle.Event, now time.Time) (store.Event, error) {
	raw, err := json.Marshal(ev)
	if err != nil {
		return store.Event{}, db.errf("encode event: %w", err)
	}
	se := store.Event{ObservationID: obsID, Event: ev}
	err = tx.QueryRowContext(ctx, db.q(`INSERT INTO events (finding_id, observation_id, kind, at, severity, summary, payload)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		ev.FindingID, obsID, string(ev.Kind), db.t(ev.At), string(ev.Severity), ev.Summary, string(raw)).Scan(&se.ID)
	if err != nil {
		return se, db.errf("insert event: %w", err)
	}
	for _, route := range db.opts.Route(ev, scope) {
		key := DedupKey(ev.FindingID, scanID, ev.Kind, route)
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO outbox (event_id, route, dedup_key, scope, created_at, next_attempt)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING`),
			se.ID, route, key, scope, db.t(now), db.t(now))
		if err != nil {
			return se, db.errf("enqueue alert: %w", err)
		}
	}
	return se, nil
}

// DedupKey names an alert: the finding, the scan whose observation caused
// the event, the event kind and the route.
func DedupKey(findingID, scanID string, kind lifecycle.EventKind, route string) string {
	return findingID + "/" + scanID + "/" + string(kind) + "/" + route
}

// recorded returns a (scan, finding) recording made before.
func (db *DB) recorded(ctx context.Context, scanID, findingID string) (store.Recorded, error) {
	rec := store.Recorded{Duplicate: true}
	var stale bool
	err := db.read.QueryRowContext(ctx, db.q(`SELECT id, stale FROM observations WHERE scan_id = ? AND service_id = ?`),
		scanID, findingID).Scan(&rec.ObservationID, &stale)
	if err != nil {
		return rec, db.errf("read recorded observation: %w", err)
	}
	rec.Stale = stale
	f, err := db.finding(ctx, db.read, findingID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		rec.State = lifecycle.State{ID: findingID}
	case err != nil:
		return rec, err
	default:
		rec.State = f.State
	}
	evs, err := db.events(ctx, db.read, `WHERE observation_id = ?`, rec.ObservationID)
	rec.Events = evs
	return rec, err
}

func jsonList(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
