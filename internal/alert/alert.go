// Package alert tells people about lifecycle events: a data store opened,
// changed materially, closed or reopened. A Notifier delivers one Alert to
// one destination (generic signed webhook, Slack incoming webhook, email
// over SMTP, PagerDuty Events API v2); the Dispatcher drains the store's
// persistent outbox into the notifiers, so a failing notifier never blocks
// scanning and undelivered alerts survive restarts.
//
// An Alert summarises a finding — target, service, severity, datasets with
// their record counts and classes, first seen, closed at — and never carries
// sampled values: not even the masked examples or keyed hashes of the
// finding go out.
package alert

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// Schema tags the JSON body of webhook alerts.
const Schema = "leakwatch.alert/v1"

// Notifier delivers alerts to one destination.
type Notifier interface {
	// Name is the configured notifier name (the outbox route).
	Name() string
	// Kind is "webhook", "slack", "email" or "pagerduty".
	Kind() string
	// Notify delivers one alert. It may retry internally, bounded by ctx.
	// A *PermanentError says retrying will not help (e.g. 400 Bad Request).
	Notify(ctx context.Context, a Alert) error
}

// PermanentError is a delivery failure that retrying will not fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent tells whether err is a PermanentError.
func IsPermanent(err error) bool {
	var pe *PermanentError
	return errors.As(err, &pe)
}

// Alert is one lifecycle event of one finding, for one notifier.
type Alert struct {
	Schema string `json:"schema"`
	// DedupKey is unique per event and notifier; a repeated delivery (after
	// a lost acknowledgement) carries the same key.
	DedupKey string              `json:"dedup_key"`
	Event    lifecycle.EventKind `json:"event"`
	At       time.Time           `json:"at"`
	// Summary is one human line.
	Summary string `json:"summary"`
	Scope   string `json:"scope,omitempty"`
	Owner   string `json:"owner,omitempty"`
	Team    string `json:"team,omitempty"`
	// Tags are the scope's tags.
	Tags    map[string]string `json:"tags,omitempty"`
	Finding Summary           `json:"finding"`
	// Diff is what changed (changed, reopened).
	Diff *lifecycle.Diff `json:"diff,omitempty"`
	// Proof holds the checks that showed the finding closed (closed).
	Proof []lifecycle.Proof `json:"proof,omitempty"`
	// Incident is what an evidence event found (destroyed: datasets gone
	// or shrunk with their counts; extortion: ransom-note dataset names;
	// canary: canary labels). Names and counts only.
	Incident *lifecycle.Incident `json:"incident,omitempty"`
	// SentAt is set by the notifier when it sends.
	SentAt time.Time `json:"sent_at,omitzero"`
}

// Summary describes the finding an alert is about.
type Summary struct {
	ID       string           `json:"id"`
	Target   finding.Target   `json:"target"`
	Service  string           `json:"service"`
	Product  string           `json:"product,omitempty"`
	Version  string           `json:"version,omitempty"`
	Status   lifecycle.Status `json:"status"`
	Auth     finding.Auth     `json:"auth,omitempty"`
	Severity finding.Severity `json:"severity"`
	Records  int64            `json:"records"`
	Datasets int              `json:"datasets"`
	// Top lists the largest datasets (at most MaxDatasets).
	Top          []Dataset `json:"top_datasets,omitempty"`
	Classes      []string  `json:"classes,omitempty"`
	Flags        []string  `json:"flags,omitempty"`
	FirstSeen    time.Time `json:"first_seen,omitzero"`
	LastSeenOpen time.Time `json:"last_seen_open,omitzero"`
	ClosedAt     time.Time `json:"closed_at,omitzero"`
	ReopenCount  int       `json:"reopen_count,omitempty"`
}

// Dataset is a dataset's metadata: no examples, no hashes.
type Dataset struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Records *int64   `json:"records"`
	Classes []string `json:"classes,omitempty"`
}

// MaxDatasets bounds Summary.Top.
const MaxDatasets = 10

// ScopeInfo is what an alert carries about its scope.
type ScopeInfo struct {
	Name  string
	Owner string
	Team  string
	Tags  map[string]string
}

// FromEvent builds an alert. st, if not nil, is the finding's current
// state (first seen, closed at); dedupKey comes from the outbox.
func FromEvent(ev lifecycle.Event, st *lifecycle.State, sc ScopeInfo, dedupKey string) Alert {
	a := Alert{
		Schema: Schema, DedupKey: dedupKey, Event: ev.Kind, At: ev.At, Summary: ev.Summary,
		Scope: sc.Name, Owner: sc.Owner, Team: sc.Team, Tags: sc.Tags,
		Diff: ev.Diff, Proof: ev.Proof, Incident: ev.Incident,
	}
	s := Summary{ID: ev.FindingID, Target: ev.Target, Service: ev.Service, Status: ev.Status, Severity: ev.Severity}
	if f := ev.Finding; f != nil {
		s.Product, s.Version, s.Auth = f.Product, f.Version, f.Auth
		s.Records = f.TotalRecords()
		s.Classes = slices.Clone(f.Classes)
		s.Flags = slices.Clone(f.Flags)
		s.Top = topDatasets(f.Datasets)
		for _, d := range f.Datasets {
			if !d.Hidden {
				s.Datasets++
			}
		}
	}
	if ev.Kind == lifecycle.EventOpened {
		s.FirstSeen = ev.At
	}
	if st != nil {
		s.FirstSeen, s.LastSeenOpen, s.ReopenCount = st.FirstSeen, st.LastSeenOpen, st.ReopenCount
		if ev.Kind == lifecycle.EventClosed {
			s.ClosedAt = st.ClosedAt
		}
	}
	if ev.Kind == lifecycle.EventClosed && s.ClosedAt.IsZero() && len(ev.Proof) > 0 {
		s.ClosedAt = ev.Proof[0].At
	}
	a.Finding = s
	if a.Summary == "" {
		a.Summary = fmt.Sprintf("%s: %s on %s", ev.Kind, ev.Service, ev.Target.Addr())
	}
	return a
}

// topDatasets keeps the largest visible datasets, metadata only.
func topDatasets(ds []finding.Dataset) []Dataset {
	var out []Dataset
	for _, d := range ds {
		if d.Hidden {
			continue
		}
		var classes []string
		for _, c := range d.Classes {
			classes = append(classes, c.Class)
		}
		out = append(out, Dataset{Name: d.Name, Kind: d.Kind, Records: d.Records, Classes: classes})
	}
	sort.SliceStable(out, func(i, j int) bool { return recs(out[i]) > recs(out[j]) })
	if len(out) > MaxDatasets {
		out = out[:MaxDatasets]
	}
	return out
}

func recs(d Dataset) int64 {
	if d.Records == nil {
		return -1
	}
	return *d.Records
}

// Title is a short subject line: "[critical] opened: redis on 127.0.0.5:6379".
func (a Alert) Title() string {
	return fmt.Sprintf("[%s] %s: %s on %s", a.Finding.Severity, a.Event, a.Finding.Service, a.Finding.Target.Addr())
}

// Text is the alert as plain text lines (email body, Slack fallback).
func (a Alert) Text() string {
	s := a.Finding
	t := a.Summary + "\n\n"
	t += fmt.Sprintf("Finding:   %s\n", s.ID)
	t += fmt.Sprintf("Target:    %s (%s", s.Target.Addr(), s.Service)
	if s.Product != "" {
		t += " " + s.Product
	}
	if s.Version != "" {
		t += " " + s.Version
	}
	t += ")\n"
	t += fmt.Sprintf("Status:    %s, severity %s, auth %s\n", s.Status, s.Severity, s.Auth)
	t += fmt.Sprintf("Exposes:   %d datasets, %s records\n", s.Datasets, lifecycle.Count(s.Records))
	if len(s.Classes) > 0 {
		t += fmt.Sprintf("Classes:   %s\n", join(s.Classes))
	}
	if len(s.Flags) > 0 {
		t += fmt.Sprintf("Flags:     %s\n", join(s.Flags))
	}
	for _, d := range s.Top {
		n := "?"
		if d.Records != nil {
			n = lifecycle.Count(*d.Records)
		}
		t += fmt.Sprintf("  - %s %s: %s records", d.Kind, d.Name, n)
		if len(d.Classes) > 0 {
			t += " (" + join(d.Classes) + ")"
		}
		t += "\n"
	}
	if !s.FirstSeen.IsZero() {
		t += fmt.Sprintf("First seen: %s\n", s.FirstSeen.UTC().Format(time.RFC3339))
	}
	if !s.ClosedAt.IsZero() {
		t += fmt.Sprintf("Closed at:  %s\n", s.ClosedAt.UTC().Format(time.RFC3339))
	}
	for _, p := range a.Proof {
		t += fmt.Sprintf("  proof: %s %s %s", p.At.UTC().Format(time.RFC3339), p.Outcome, p.Reason)
		if c, ok := p.Evidence["auth_challenge"]; ok {
			t += fmt.Sprintf(" (challenge %v)", c)
		}
		t += "\n"
	}
	if in := a.Incident; in != nil {
		if !in.Since.IsZero() {
			t += fmt.Sprintf("Compared with the observation of %s\n", in.Since.UTC().Format(time.RFC3339))
		}
		if d := in.Summary(a.Event); d != "" {
			t += "Incident:  " + d + "\n"
		}
	}
	if a.Scope != "" {
		t += fmt.Sprintf("Scope:     %s", a.Scope)
		if a.Owner != "" {
			t += ", owner " + a.Owner
		}
		if a.Team != "" {
			t += ", team " + a.Team
		}
		t += "\n"
	}
	t += fmt.Sprintf("Event at:  %s\n", a.At.UTC().Format(time.RFC3339))
	return t
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
