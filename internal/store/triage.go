package store

import (
	"context"
	"time"
)

// Triage is what people add to the history (acknowledgements and
// assignments of findings) and the feed of stored lifecycle events that the
// dashboard streams. It is part of Store.
type Triage interface {
	// Acknowledge stores an acknowledgement (or assignment) of a finding
	// and returns it with its ID and time set. ErrNotFound if the finding
	// was never exposed. Note, By and Assignee are cut to MaxNoteBytes /
	// MaxNameBytes.
	Acknowledge(ctx context.Context, a Acknowledgement) (Acknowledgement, error)
	// ListAcknowledgements lists acknowledgements, newest first.
	ListAcknowledgements(ctx context.Context, f AckFilter) ([]Acknowledgement, error)
	// ListEvents lists stored lifecycle events with ID > f.AfterID, oldest
	// first (the events that drive alerts, whatever their routes).
	ListEvents(ctx context.Context, f EventFilter) ([]Event, error)
	// LastEventID is the newest event's ID (0 when there is none).
	LastEventID(ctx context.Context) (int64, error)
}

// Size bounds of an acknowledgement's free text.
const (
	MaxNoteBytes = 4096
	MaxNameBytes = 200
)

// Acknowledgement is a person's acknowledgement of a finding: who, when,
// to whom it is assigned and a note.
type Acknowledgement struct {
	ID        int64     `json:"id"`
	FindingID string    `json:"finding_id"`
	At        time.Time `json:"at"`
	// By names who acknowledged (for the dashboard: which API token).
	By       string `json:"by"`
	Assignee string `json:"assignee,omitempty"`
	Note     string `json:"note,omitempty"`
}

// AckFilter selects acknowledgements. Zero fields do not filter.
type AckFilter struct {
	FindingID string
	Limit     int
}

// EventFilter selects stored events. Zero fields do not filter.
type EventFilter struct {
	// AfterID keeps events with a larger ID.
	AfterID   int64
	FindingID string
	Limit     int
}
