// Package lifecycle is the state machine of a finding over time: a data
// store that answers without credentials is opened, may change materially
// (auth, records, classes, datasets, flags), is closed once it has been seen
// gone or protected on N consecutive checks, and may reopen.
//
//	(untracked) --exposed--> open --material change--> changed
//	open|changed|reopened --N× gone/protected--> closed --exposed--> reopened
//	reopened --material change--> changed
//	open|changed|reopened --out-of-scope--> out-of-scope
//	out-of-scope --exposed--> open (back in scope)
//	out-of-scope --N× gone/protected--> closed (back in scope, gone)
//
// A finding whose endpoint left the configured scope (an exclusion, a
// narrower target, a removed scope) is out-of-scope: leakwatch no longer
// contacts it, so it can neither confirm it open nor prove it closed. It is
// not open (nothing re-checks it) and not closed (no "closed" alert, no
// closing proof): the history shows when monitoring stopped and why.
//
// It is pure domain logic with no I/O: Policy.Apply takes the previous State
// of one finding (by id, finding.Fingerprint of host:port:service) and a new
// Observation, and returns the next State plus the Events (opened, changed,
// closed, reopened) that the alert policy turns into alerts. The store
// persists States and Events; the scheduler produces Observations.
package lifecycle

import (
	"fmt"
	"slices"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Status is where a finding is in its lifecycle.
type Status string

const (
	// StatusUntracked: the service was never seen exposed (only protected,
	// gone or unknown); no finding exists yet. It is the zero value.
	StatusUntracked Status = ""
	// StatusOpen: exposed since it was first seen, no material change.
	StatusOpen Status = "open"
	// StatusChanged: exposed, and changed materially since it opened.
	StatusChanged Status = "changed"
	// StatusClosed: seen gone or protected on Policy.CloseAfter
	// consecutive checks.
	StatusClosed Status = "closed"
	// StatusReopened: exposed again after having been closed.
	StatusReopened Status = "reopened"
	// StatusOutOfScope: it was open when its endpoint left the scope; it
	// is no longer contacted, and was not seen closed.
	StatusOutOfScope Status = "out-of-scope"
)

// IsOpen tells whether the finding currently exposes data (open, changed
// or reopened).
func (s Status) IsOpen() bool {
	return s == StatusOpen || s == StatusChanged || s == StatusReopened
}

// Valid tells whether s is one of the lifecycle statuses (untracked too).
func (s Status) Valid() bool {
	return s == StatusUntracked || s == StatusClosed || s == StatusOutOfScope || s.IsOpen()
}

// Outcome is what one check of an endpoint showed.
type Outcome string

const (
	// OutcomeExposed: the service answered data without credentials.
	OutcomeExposed Outcome = "exposed"
	// OutcomeProtected: the service is there and demands credentials.
	OutcomeProtected Outcome = "protected"
	// OutcomeGone: the endpoint was checked and the service is not there
	// (port closed or filtered, another service answers).
	OutcomeGone Outcome = "gone"
	// OutcomeUnknown: the check was inconclusive (timeout mid-probe,
	// protocol error). It neither opens nor closes a finding.
	OutcomeUnknown Outcome = "unknown"
	// OutcomeOutOfScope: the endpoint is no longer in the scope, so it was
	// not checked (no connection). An open finding becomes out-of-scope.
	OutcomeOutOfScope Outcome = "out-of-scope"
)

// Valid tells whether o is a known outcome.
func (o Outcome) Valid() bool {
	switch o {
	case OutcomeExposed, OutcomeProtected, OutcomeGone, OutcomeUnknown, OutcomeOutOfScope:
		return true
	}
	return false
}

// closes tells whether the outcome counts towards closing a finding.
func (o Outcome) closes() bool { return o == OutcomeProtected || o == OutcomeGone }

// Observation is one check of one endpoint (host:port:service).
type Observation struct {
	// ID is the store's id of the observation (0 until stored); closing
	// proofs refer to it.
	ID int64 `json:"id,omitempty"`
	// FindingID is finding.Fingerprint(Target, Service).
	FindingID string         `json:"finding_id"`
	Target    finding.Target `json:"target"`
	Service   string         `json:"service"`
	At        time.Time      `json:"at"`
	Outcome   Outcome        `json:"outcome"`
	// Finding is what the probe reported; nil for OutcomeGone and for
	// checks that never reached a prober.
	Finding *finding.Finding `json:"finding,omitempty"`
	// Reason says why a check was gone/protected/unknown ("connection
	// refused", "not-this-service", "auth required", "timeout").
	Reason string `json:"reason,omitempty"`
	// Scope is the name of the scope the check ran for (routing, filters);
	// the lifecycle ignores it.
	Scope string `json:"scope,omitempty"`
}

// FromFinding makes the observation of a probe's finding: exposed,
// protected or unknown according to f.Status. f must be finalized
// (f.ID set).
func FromFinding(f *finding.Finding, scope string) Observation {
	o := Observation{
		FindingID: f.ID, Target: f.Target, Service: f.Service,
		At: f.ObservedAt, Finding: f, Scope: scope,
	}
	if o.FindingID == "" {
		o.FindingID = finding.Fingerprint(f.Target, f.Service)
	}
	switch f.Status {
	case finding.StatusExposed:
		o.Outcome = OutcomeExposed
	case finding.StatusProtected:
		o.Outcome, o.Reason = OutcomeProtected, "auth required"
	default:
		o.Outcome, o.Reason = OutcomeUnknown, f.Error
	}
	return o
}

// Gone makes the observation of an endpoint that was checked at at and
// no longer has the service (reason: "connection refused", "port closed",
// "not-this-service", ...).
func Gone(t finding.Target, service string, at time.Time, reason, scope string) Observation {
	return Observation{
		FindingID: finding.Fingerprint(t, service), Target: t, Service: service,
		At: at, Outcome: OutcomeGone, Reason: reason, Scope: scope,
	}
}

// OutOfScope makes the observation of a tracked endpoint that left the
// scope: not contacted, reason says why ("excluded by scope lab").
func OutOfScope(t finding.Target, service string, at time.Time, reason, scope string) Observation {
	return Observation{
		FindingID: finding.Fingerprint(t, service), Target: t, Service: service,
		At: at, Outcome: OutcomeOutOfScope, Reason: reason, Scope: scope,
	}
}

// Validate checks what Apply relies on.
func (o Observation) Validate() error {
	switch {
	case o.FindingID == "":
		return fmt.Errorf("lifecycle: observation without finding id")
	case !o.Outcome.Valid():
		return fmt.Errorf("lifecycle: observation %s: unknown outcome %q", o.FindingID, o.Outcome)
	case o.At.IsZero():
		return fmt.Errorf("lifecycle: observation %s: no time", o.FindingID)
	case o.Target.IsFile() || o.Finding != nil && o.Finding.Target.IsFile():
		// Files (leakwatch classify) have no address to re-check or close.
		return fmt.Errorf("lifecycle: observation %s: a file target; the history tracks network services only", o.FindingID)
	case o.Target.Kind != finding.TargetNetwork:
		return fmt.Errorf("lifecycle: observation %s: unknown target kind %q", o.FindingID, finding.VisibleText(string(o.Target.Kind)))
	case o.Outcome == OutcomeExposed && o.Finding == nil:
		return fmt.Errorf("lifecycle: observation %s: exposed without a finding", o.FindingID)
	case o.Finding != nil && o.Finding.ID != "" && o.Finding.ID != o.FindingID:
		return fmt.Errorf("lifecycle: observation %s carries finding %s", o.FindingID, o.Finding.ID)
	}
	return nil
}

// Proof is one check that showed a finding closed.
type Proof struct {
	At      time.Time `json:"at"`
	Outcome Outcome   `json:"outcome"`
	Reason  string    `json:"reason,omitempty"`
	// Auth is the auth status the probe reported (protected checks).
	Auth finding.Auth `json:"auth,omitempty"`
	// ObservationID is the store's id of the observation (0 until stored).
	ObservationID int64 `json:"observation_id,omitempty"`
	// Evidence is what the closing check saw, explicitly: for a protected
	// check the auth challenge the service answered with (keys such as
	// auth_challenge, http_status, auth_error, auth_method — see
	// ProofEvidenceKeys); for a gone check nothing beyond Reason
	// ("refused": the TCP connection was refused; "port closed": the sweep
	// found the port closed).
	Evidence map[string]any `json:"evidence,omitempty"`
	// Product is the service's product at the closing check, if identified.
	Product string `json:"product,omitempty"`
}

// State is the current state of one finding. The zero State (with ID set)
// is an untracked endpoint.
type State struct {
	ID      string         `json:"id"`
	Target  finding.Target `json:"target"`
	Service string         `json:"service"`
	Status  Status         `json:"status"`
	// Severity is the severity of the last exposed snapshot.
	Severity finding.Severity `json:"severity,omitempty"`
	// FirstSeen is when the finding was first seen exposed.
	FirstSeen time.Time `json:"first_seen"`
	// LastSeen is the last check of any outcome (not moved by stale ones).
	LastSeen time.Time `json:"last_seen"`
	// LastSeenOpen is the last check that saw it exposed.
	LastSeenOpen time.Time `json:"last_seen_open"`
	// ChangedAt is the last material change (zero if none).
	ChangedAt time.Time `json:"changed_at,omitzero"`
	// ClosedAt is when it was first seen closed in the streak that closed
	// it (the earliest known closed time); zero unless Status is closed.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// ReopenCount counts closed → reopened transitions.
	ReopenCount int `json:"reopen_count"`
	// Closing is the current streak of consecutive gone/protected checks
	// of an open finding (or the streak that closed it).
	Closing []Proof `json:"closing,omitempty"`
	// Baseline is the snapshot at the last opened/changed/reopened event;
	// material changes are measured against it, so slow growth adds up.
	Baseline *finding.Finding `json:"baseline,omitempty"`
	// Last is the last exposed snapshot.
	Last *finding.Finding `json:"last,omitempty"`
	// Reference is the last exposed snapshot Last is degraded against (see
	// Degraded), kept only while checks come back cut short; losses are
	// measured against it (LossReference), not against a cut check.
	Reference *finding.Finding `json:"reference,omitempty"`
	// Known is every dataset, class and flag ever seen exposed.
	Known Known `json:"known"`
}

// LossReference is the snapshot a loss is measured against: the last
// exposed one, or while checks come back cut short (Degraded), the last
// one before them.
func (s State) LossReference() *finding.Finding {
	if s.Reference != nil {
		return s.Reference
	}
	return s.Last
}

// EventKind names a lifecycle transition.
type EventKind string

const (
	EventOpened   EventKind = "opened"
	EventChanged  EventKind = "changed"
	EventClosed   EventKind = "closed"
	EventReopened EventKind = "reopened"
	// EventOutOfScope: an open finding's endpoint left the scope; it is
	// no longer monitored (not closed).
	EventOutOfScope EventKind = "out-of-scope"
)

// Event is a transition that the alert policy may alert on.
type Event struct {
	Kind      EventKind        `json:"kind"`
	FindingID string           `json:"finding_id"`
	Target    finding.Target   `json:"target"`
	Service   string           `json:"service"`
	At        time.Time        `json:"at"`
	Status    Status           `json:"status"`
	Severity  finding.Severity `json:"severity"`
	// Summary is one human line ("opened: redis on 127.0.0.5:6379 exposes
	// 3 datasets, 2,400 records").
	Summary string `json:"summary"`
	// Diff is what changed (changed; reopened against the last baseline).
	Diff *Diff `json:"diff,omitempty"`
	// Proof holds the checks that showed the finding closed (closed).
	Proof []Proof `json:"proof,omitempty"`
	// Access is the foreign use of the store since the previous exposed
	// observation (accessed; see ForeignAccess).
	Access *AccessDelta `json:"access,omitempty"`
	// Finding is the exposed snapshot the event is about (for closed: the
	// last exposed one).
	Finding *finding.Finding `json:"finding,omitempty"`
	// Incident is what an evidence event found (destroyed, extortion,
	// canary).
	Incident *Incident `json:"incident,omitempty"`
}

// Policy holds the lifecycle rules. The zero Policy means DefaultPolicy.
type Policy struct {
	// CloseAfter is how many consecutive gone/protected checks close a
	// finding (default 2).
	CloseAfter int `json:"close_after" yaml:"close_after"`
	// RecordsJumpRatio: a change of the total records by at least this
	// fraction of the baseline is material (default 0.10)...
	RecordsJumpRatio float64 `json:"records_jump_ratio" yaml:"records_jump_ratio"`
	// RecordsJumpMin ...when it is also at least this many records
	// (default 10: 5 → 6 records is not news).
	RecordsJumpMin int64 `json:"records_jump_min" yaml:"records_jump_min"`
	// RecordsJumpAbs: a change of at least this many records is material
	// whatever the ratio (default 1000).
	RecordsJumpAbs int64 `json:"records_jump_abs" yaml:"records_jump_abs"`
}

// DefaultPolicy closes after 2 checks; records jumps of ≥10% (and ≥10
// records) or ≥1000 records are material.
func DefaultPolicy() Policy {
	return Policy{CloseAfter: 2, RecordsJumpRatio: 0.10, RecordsJumpMin: 10, RecordsJumpAbs: 1000}
}

// WithDefaults fills unset fields from DefaultPolicy.
func (p Policy) WithDefaults() Policy {
	d := DefaultPolicy()
	if p.CloseAfter <= 0 {
		p.CloseAfter = d.CloseAfter
	}
	if p.RecordsJumpRatio <= 0 {
		p.RecordsJumpRatio = d.RecordsJumpRatio
	}
	if p.RecordsJumpMin <= 0 {
		p.RecordsJumpMin = d.RecordsJumpMin
	}
	if p.RecordsJumpAbs <= 0 {
		p.RecordsJumpAbs = d.RecordsJumpAbs
	}
	return p
}

// Validate rejects nonsensical settings (negative values are errors; zero
// means the default).
func (p Policy) Validate() error {
	switch {
	case p.CloseAfter < 0:
		return fmt.Errorf("lifecycle: close_after %d < 0", p.CloseAfter)
	case p.CloseAfter > 1000:
		return fmt.Errorf("lifecycle: close_after %d > 1000", p.CloseAfter)
	case p.RecordsJumpRatio < 0:
		return fmt.Errorf("lifecycle: records_jump_ratio %g < 0", p.RecordsJumpRatio)
	case p.RecordsJumpMin < 0 || p.RecordsJumpAbs < 0:
		return fmt.Errorf("lifecycle: records jump thresholds must not be negative")
	}
	return nil
}

// Result is what Apply decided.
type Result struct {
	State  State
	Events []Event
	// Stale is set when the observation is older than the state's
	// LastSeen: it is recorded, but changes nothing.
	Stale bool
}

// Apply folds one observation into the previous state of its finding.
// prev may be the zero State (untracked). It never mutates prev (the
// snapshots are shared, not copied: treat them as read-only).
func (p Policy) Apply(prev State, obs Observation) (Result, error) {
	p = p.WithDefaults()
	if err := obs.Validate(); err != nil {
		return Result{}, err
	}
	if prev.ID != "" && prev.ID != obs.FindingID {
		return Result{}, fmt.Errorf("lifecycle: observation of %s applied to %s", obs.FindingID, prev.ID)
	}
	if !prev.Status.Valid() {
		return Result{}, fmt.Errorf("lifecycle: %s: unknown status %q", prev.ID, prev.Status)
	}
	if !prev.LastSeen.IsZero() && obs.At.Before(prev.LastSeen) {
		return Result{State: prev, Stale: true}, nil
	}
	s := prev
	s.Closing = slices.Clone(prev.Closing)
	s.ID, s.Target, s.Service = obs.FindingID, obs.Target, obs.Service
	s.LastSeen = obs.At
	var evs []Event
	switch {
	case obs.Outcome == OutcomeExposed:
		evs = p.exposed(&s, prev, obs)
		evs = append(evs, accessEvents(prev, &s, obs)...)
	case obs.Outcome.closes() && (s.Status.IsOpen() || s.Status == StatusOutOfScope):
		evs = p.closing(&s, obs)
	case obs.Outcome == OutcomeOutOfScope && s.Status.IsOpen():
		s.Status, s.Closing = StatusOutOfScope, nil
		evs = []Event{event(EventOutOfScope, &s, obs.At, nil, nil)}
		evs[0].Summary += " (" + obs.Reason + ")"
	}
	return Result{State: s, Events: evs}, nil
}

// exposed handles an exposed check.
func (p Policy) exposed(s *State, prev State, obs Observation) []Event {
	f := obs.Finding
	s.Last, s.LastSeenOpen, s.Severity = f, obs.At, f.Severity
	s.Reference = nil
	if ref := prev.LossReference(); Degraded(f, ref) {
		s.Reference = ref
	}
	s.Closing = nil
	s.Known = prev.Known.With(f)
	evs := p.transition(s, prev, obs)
	return append(evs, incidents(prev, s, obs)...)
}

// transition is the lifecycle event (opened, reopened, changed) of an
// exposed check, if any.
func (p Policy) transition(s *State, prev State, obs Observation) []Event {
	f := obs.Finding
	switch {
	case prev.Status == StatusUntracked:
		s.Status, s.FirstSeen, s.Baseline = StatusOpen, obs.At, f
		return []Event{event(EventOpened, s, obs.At, nil, nil)}
	case prev.Status == StatusClosed:
		d := p.Diff(prev.Baseline, &prev.Known, f)
		s.Status, s.ClosedAt, s.Baseline = StatusReopened, time.Time{}, f
		s.ReopenCount++
		return []Event{event(EventReopened, s, obs.At, d, nil)}
	case prev.Status == StatusOutOfScope:
		// Back in scope and still exposed: watched again; a material
		// change since it left the scope is news.
		s.Status = StatusOpen
	}
	d := p.Diff(prev.Baseline, &prev.Known, f)
	if d == nil {
		return nil
	}
	s.Status, s.ChangedAt, s.Baseline = StatusChanged, obs.At, rebase(prev.Baseline, f)
	return []Event{event(EventChanged, s, obs.At, d, nil)}
}

// rebase is the baseline after a changed event on cur. cur becomes the
// baseline unless it is Degraded against it: then it only moves what it
// proves (its auth, a higher severity, more records), so a count it could
// not read is not taken for zero by the next comparison.
func rebase(base, cur *finding.Finding) *finding.Finding {
	if base == nil || !Degraded(cur, base) {
		return cur
	}
	b := *base
	b.Auth = cur.Auth
	if cur.Severity.Rank() > b.Severity.Rank() {
		b.Severity = cur.Severity
	}
	if cur.TotalRecords() > base.TotalRecords() {
		return cur
	}
	return &b
}

// closing handles a gone/protected check of an open finding.
func (p Policy) closing(s *State, obs Observation) []Event {
	pr := Proof{At: obs.At, Outcome: obs.Outcome, Reason: obs.Reason, ObservationID: obs.ID}
	if f := obs.Finding; f != nil {
		pr.Auth, pr.Product = f.Auth, f.Product
		pr.Evidence = proofEvidence(f.Evidence)
	}
	s.Closing = append(s.Closing, pr)
	if len(s.Closing) < p.CloseAfter {
		return nil
	}
	s.Status, s.ClosedAt = StatusClosed, s.Closing[0].At
	return []Event{event(EventClosed, s, obs.At, nil, slices.Clone(s.Closing))}
}

func event(k EventKind, s *State, at time.Time, d *Diff, proof []Proof) Event {
	e := Event{
		Kind: k, FindingID: s.ID, Target: s.Target, Service: s.Service, At: at,
		Status: s.Status, Severity: s.Severity, Diff: d, Proof: proof, Finding: s.Last,
	}
	e.Summary = summary(e)
	return e
}
