// Package store is leakwatch's history: assets (hosts), services
// (host:port:service), findings with their lifecycle state, every
// observation, lifecycle events, a crash-safe alert outbox and scan runs.
//
// Backends: store/sqlite (embedded default, pure Go) and store/postgres. Both
// pass the one conformance suite in store/storetest. storeopen.Open picks one
// from a path or URL.
//
// The heart is RecordObservation: in one transaction it writes the
// observation, applies the lifecycle policy to the finding's stored state,
// saves the new state, and enqueues the resulting events into the alert
// outbox. A process killed at any moment therefore loses nothing that was
// acknowledged and duplicates nothing: re-recording the same (scan, finding)
// pair is a no-op that returns Duplicate.
//
// How `serve` uses it:
//
//	st, _ := storeopen.Open(ctx, "leakwatch.db", store.Options{Lifecycle: pol, Route: routes})
//	run, err := st.UnfinishedScan(ctx, scope)           // resume a half-done sweep...
//	if errors.Is(err, store.ErrNotFound) { run, _ = st.BeginScan(ctx, scope) } // ...or start one
//	for each endpoint after run.Cursor:
//	    st.RecordObservation(ctx, run.ID, lifecycle.FromFinding(f, scope))
//	    st.SaveScanCursor(ctx, run.ID, cursor)         // after the observations it covers
//	for each open finding of the scope not seen in this sweep:
//	    st.RecordObservation(ctx, run.ID, lifecycle.Gone(target, service, now, "port closed", scope))
//	st.FinishScan(ctx, run.ID, store.ScanFinished, "")
//
//	// alert dispatcher, any number of workers:
//	alerts, _ := st.ClaimAlerts(ctx, store.Claim{Worker: id, Limit: 10, Lease: time.Minute})
//	for each: deliver; st.AckAlert(ctx, a.ID, id) or st.RetryAlert(ctx, a.ID, id, err, next)
package store

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// Errors.
var (
	// ErrNotFound: no such finding, alert or scan run.
	ErrNotFound = errors.New("store: not found")
	// ErrLeaseLost: the alert is not (or no longer) claimed by this worker;
	// its lease expired and another worker may have it.
	ErrLeaseLost = errors.New("store: alert lease lost")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("store: closed")
)

// Store is the history. Implementations are safe for concurrent use by
// many goroutines, and (for SQLite: several processes on one file; for
// PostgreSQL: several hosts) by several processes at once.
type Store interface {
	// Migrate brings the schema to the newest version. Each migration runs
	// in its own transaction with its version row; running it again, or
	// from two processes at once, is a no-op. Open already calls it.
	Migrate(ctx context.Context) error
	// SchemaVersion is the newest applied migration.
	SchemaVersion(ctx context.Context) (int, error)
	// Close releases the store.
	Close() error

	// RecordObservation stores one check of one endpoint made by scan
	// scanID, and applies the lifecycle to its finding, all in one
	// transaction: asset and service rows, the observation, the finding's
	// new state, its events, and one outbox alert per event and route.
	// (scanID, obs.FindingID) is the idempotency key: recording it again
	// changes nothing and returns the first recording with Duplicate set.
	RecordObservation(ctx context.Context, scanID string, obs lifecycle.Observation) (Recorded, error)

	// ListFindings lists findings (services that were exposed at least
	// once): open before closed, then worst, then most recently seen.
	ListFindings(ctx context.Context, f FindingFilter) ([]Finding, error)
	// GetFinding returns one finding and its timeline (observations and
	// events, oldest first). ErrNotFound if the id was never exposed.
	GetFinding(ctx context.Context, id string, q TimelineQuery) (*FindingDetail, error)
	// GetObservation returns one observation with its full finding JSON.
	GetObservation(ctx context.Context, id int64) (*Observation, error)

	// ClaimAlerts leases up to c.Limit due alerts (not delivered, not
	// given up, next_attempt <= now, lease free or expired) to c.Worker,
	// oldest first, and counts an attempt. Concurrent claimers never get
	// the same alert while its lease runs.
	ClaimAlerts(ctx context.Context, c Claim) ([]Alert, error)
	// AckAlert marks a claimed alert delivered. ErrLeaseLost if worker no
	// longer holds it (it was delivered or re-claimed meanwhile).
	AckAlert(ctx context.Context, id int64, worker string) error
	// RetryAlert records a failed delivery and makes the alert due again
	// at next. ErrLeaseLost as for AckAlert.
	RetryAlert(ctx context.Context, id int64, worker, lastError string, next time.Time) error
	// GiveUpAlert stops retrying an alert (kept, with its last error).
	GiveUpAlert(ctx context.Context, id int64, worker, lastError string) error
	// ListAlerts lists outbox entries, newest first.
	ListAlerts(ctx context.Context, f AlertFilter) ([]Alert, error)
	// OutboxStats counts the outbox by state (metrics).
	OutboxStats(ctx context.Context) (OutboxStats, error)

	// BeginScan starts a scan run for a scope.
	BeginScan(ctx context.Context, scope string) (ScanRun, error)
	// SaveScanCursor records how far a running scan got (an opaque string
	// the scheduler can resume from). ErrNotFound if the run is unknown or
	// no longer running.
	SaveScanCursor(ctx context.Context, scanID, cursor string) error
	// FinishScan ends a run with ScanFinished, ScanFailed or
	// ScanAbandoned (and an error text for the latter two).
	FinishScan(ctx context.Context, scanID string, status ScanStatus, errText string) error
	// UnfinishedScan returns the newest running scan of a scope, for
	// resuming after a crash; ErrNotFound if there is none.
	UnfinishedScan(ctx context.Context, scope string) (ScanRun, error)
	// GetScan returns one scan run.
	GetScan(ctx context.Context, scanID string) (ScanRun, error)
	// ListScans lists scan runs, newest first.
	ListScans(ctx context.Context, f ScanFilter) ([]ScanRun, error)

	// Triage: acknowledgements and the event feed (triage.go).
	Triage
}

// RouteFunc says to which notifier routes an event goes. It runs inside
// RecordObservation's transaction, so it must be fast and pure.
type RouteFunc func(ev lifecycle.Event, scope string) []string

// DefaultRoute is the route of every event when Options.Route is nil.
const DefaultRoute = "default"

// Options are shared by the backends.
type Options struct {
	// Lifecycle is the policy RecordObservation applies (zero: default).
	Lifecycle lifecycle.Policy
	// Route fans an event out to notifier routes; nil sends every event
	// to DefaultRoute. An empty result enqueues no alert for the event
	// (the event is still stored).
	Route RouteFunc
	// Now is the clock for leases, scan runs and recorded_at (tests).
	Now func() time.Time
	// Logger gets warnings (a database file others can read); nil:
	// slog.Default().
	Logger *slog.Logger
}

// WithDefaults fills the unset options.
func (o Options) WithDefaults() Options {
	o.Lifecycle = o.Lifecycle.WithDefaults()
	if o.Route == nil {
		o.Route = func(lifecycle.Event, string) []string { return []string{DefaultRoute} }
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Recorded is what RecordObservation did.
type Recorded struct {
	// ObservationID is the stored observation's id.
	ObservationID int64
	// Duplicate: this (scan, finding) was recorded before; nothing changed
	// and State/Events are the current state and the events the first
	// recording produced.
	Duplicate bool
	// Stale: the observation was older than the finding's last one; it
	// was stored but changed no state.
	Stale  bool
	State  lifecycle.State
	Events []Event
}

// Finding is the stored current state of one finding, with its columns.
type Finding struct {
	lifecycle.State
	Scope string `json:"scope,omitempty"`
	// Observations counts the observations of the service.
	Observations int `json:"observations"`
	// UpdatedAt is when the state was last written.
	UpdatedAt time.Time `json:"updated_at"`
}

// StatusFilter selects findings by lifecycle status.
type StatusFilter string

const (
	// FilterAll: every finding (the zero value).
	FilterAll StatusFilter = ""
	// FilterOpen: open, changed or reopened.
	FilterOpen StatusFilter = "open"
	// FilterClosed: closed.
	FilterClosed StatusFilter = "closed"
	// FilterOutOfScope: open when its endpoint left the scope; no longer
	// monitored.
	FilterOutOfScope StatusFilter = "out-of-scope"
)

// FindingFilter selects findings. Zero fields do not filter.
type FindingFilter struct {
	Status StatusFilter
	// Statuses, if set, selects exactly these statuses (overrides Status).
	Statuses []lifecycle.Status
	// MinSeverity keeps findings at least this severe.
	MinSeverity finding.Severity
	Scope       string
	Service     string
	Host        string
	// IDPrefix keeps findings whose id starts with it (short ids in CLIs).
	IDPrefix string
	// UpdatedSince keeps findings whose state was written at or after it
	// (Finding.UpdatedAt): incremental reads of a cached list.
	UpdatedSince time.Time
	// Limit caps the result (0: no cap).
	Limit int
}

// TimelineQuery bounds a timeline. Zero fields do not bound.
type TimelineQuery struct {
	// Limit keeps only the newest N observations (events are all kept).
	Limit int
	Since time.Time
}

// FindingDetail is a finding and its timeline.
type FindingDetail struct {
	Finding  Finding         `json:"finding"`
	Timeline []TimelineEntry `json:"timeline"`
}

// TimelineEntry is an observation or an event; exactly one is set. Entries
// are ordered by time; an event follows the observation that caused it.
type TimelineEntry struct {
	At          time.Time    `json:"at"`
	Observation *Observation `json:"observation,omitempty"`
	Event       *Event       `json:"event,omitempty"`
}

// Observation is one stored check: the indexed columns, and the full
// finding JSON (Finding; only filled by GetObservation).
type Observation struct {
	ID         int64             `json:"id"`
	ScanID     string            `json:"scan_id"`
	FindingID  string            `json:"finding_id"`
	Scope      string            `json:"scope,omitempty"`
	At         time.Time         `json:"at"`
	RecordedAt time.Time         `json:"recorded_at"`
	Outcome    lifecycle.Outcome `json:"outcome"`
	Reason     string            `json:"reason,omitempty"`
	Auth       finding.Auth      `json:"auth,omitempty"`
	Severity   finding.Severity  `json:"severity,omitempty"`
	Product    string            `json:"product,omitempty"`
	Version    string            `json:"version,omitempty"`
	// Records is the total visible records, Datasets their number.
	Records  int64            `json:"records"`
	Datasets int              `json:"datasets"`
	Classes  []string         `json:"classes,omitempty"`
	Flags    []string         `json:"flags,omitempty"`
	Finding  *finding.Finding `json:"finding,omitempty"`
}

// Event is a stored lifecycle event.
type Event struct {
	ID            int64 `json:"id"`
	ObservationID int64 `json:"observation_id"`
	lifecycle.Event
}

// Claim asks for alerts to deliver.
type Claim struct {
	// Worker identifies the claimer (Ack/Retry must pass the same).
	Worker string
	// Limit caps how many alerts are leased (default 10).
	Limit int
	// Lease is how long the alert stays with the worker before another
	// may claim it (default 1 minute).
	Lease time.Duration
	// Routes, if set, only claims alerts for these routes.
	Routes []string
}

// AlertState is an outbox entry's state.
type AlertState string

const (
	AlertPending   AlertState = "pending"
	AlertDelivered AlertState = "delivered"
	AlertGaveUp    AlertState = "gave-up"
)

// Alert is one outbox entry: one event for one route.
type Alert struct {
	ID      int64  `json:"id"`
	EventID int64  `json:"event_id"`
	Route   string `json:"route"`
	// DedupKey is unique per (observation, event kind, route); notifiers
	// should pass it on (webhook header, PagerDuty dedup_key) so that a
	// delivery repeated after a lost ack is recognisable downstream.
	DedupKey    string          `json:"dedup_key"`
	Scope       string          `json:"scope,omitempty"`
	State       AlertState      `json:"state"`
	Event       lifecycle.Event `json:"event"`
	CreatedAt   time.Time       `json:"created_at"`
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt"`
	LastError   string          `json:"last_error,omitempty"`
	ClaimedBy   string          `json:"claimed_by,omitempty"`
	LeaseUntil  time.Time       `json:"lease_until,omitzero"`
	DeliveredAt time.Time       `json:"delivered_at,omitzero"`
}

// AlertFilter selects outbox entries. Zero fields do not filter.
type AlertFilter struct {
	State     AlertState
	Route     string
	FindingID string
	Limit     int
}

// OutboxStats counts outbox entries.
type OutboxStats struct {
	Pending   int `json:"pending"`
	Delivered int `json:"delivered"`
	GaveUp    int `json:"gave_up"`
	// OldestPending is the creation time of the oldest pending alert.
	OldestPending time.Time `json:"oldest_pending,omitzero"`
}

// ScanStatus is a scan run's state.
type ScanStatus string

const (
	ScanRunning   ScanStatus = "running"
	ScanFinished  ScanStatus = "finished"
	ScanFailed    ScanStatus = "failed"
	ScanAbandoned ScanStatus = "abandoned"
)

// ScanRun is one sweep of a scope.
type ScanRun struct {
	ID         string     `json:"id"`
	Scope      string     `json:"scope"`
	Status     ScanStatus `json:"status"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at,omitzero"`
	// Cursor is the last progress saved with SaveScanCursor.
	Cursor   string    `json:"cursor,omitempty"`
	CursorAt time.Time `json:"cursor_at,omitzero"`
	Error    string    `json:"error,omitempty"`
	// Observations counts the observations recorded under this run.
	Observations int `json:"observations"`
}

// ScanFilter selects scan runs.
type ScanFilter struct {
	Scope  string
	Status ScanStatus
	Limit  int
}
