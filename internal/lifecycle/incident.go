package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Evidence events: what happened to the data of an exposed store between
// two observations, beside the material-change diff. Each is its own event
// kind with severity critical, so that it can be routed and alerted on its
// own (config: notifiers[].events).
const (
	// EventDestroyed: datasets vanished, or their records dropped sharply,
	// between two exposed observations (a wiper, or someone's DROP).
	EventDestroyed EventKind = "destroyed"
	// EventExtortion: a ransom note appeared (a dataset named like one, or
	// a prober's "ransom-note" flag).
	EventExtortion EventKind = "extortion"
	// EventCanary: a canary minted by this installation was found in the
	// store's sample (the store holds a copy of the production data the
	// canary was planted in).
	EventCanary EventKind = "canary"
)

// Destruction thresholds: a dataset's records dropping by more than
// DropRatio of the previous count AND by more than DropMin records is
// destruction; so is a dataset of more than DropMin records that was
// listed before and is absent from a complete listing (a drop to zero).
// Small datasets coming and going (a keyspace of expiring session keys)
// are not news; they stay in the changed diff.
const (
	DropRatio = 0.5
	DropMin   = 100
)

// incompleteFlags mark a listing that may miss datasets: a dataset absent
// from such a snapshot is not proven gone.
var incompleteFlags = []string{"datasets-truncated", "partial", "probe-timeout", "byte-budget", "memory-ceiling", "scan-stopped", "prober-panic"}

// Complete tells whether an exposed snapshot is a full picture: no error
// and no flag saying a limit, a timeout or a failure cut it. An incomplete
// snapshot is a lower bound: what it lists is there, what it lacks (a
// dataset, a count) is unknown, not gone.
func Complete(f *finding.Finding) bool {
	return f != nil && f.Error == "" && !slices.ContainsFunc(f.Flags, isIncompleteFlag)
}

func isIncompleteFlag(flag string) bool { return slices.Contains(incompleteFlags, flag) }

// Degraded tells whether cur is a less complete picture than ref: it
// carries an error or an incompleteness flag that ref did not. A store
// that is always cut the same way (more datasets than the listing cap)
// is compared like for like; a check cut by a timeout, a budget or a race
// is not compared with a full one as if it were.
func Degraded(cur, ref *finding.Finding) bool { return len(newCuts(cur, ref)) > 0 }

// newCuts are the marks of incompleteness cur has and ref has not ("error"
// for an error).
func newCuts(cur, ref *finding.Finding) []string {
	if cur == nil || ref == nil {
		return nil
	}
	var cuts []string
	if cur.Error != "" && ref.Error == "" {
		cuts = append(cuts, "error")
	}
	for _, f := range cur.Flags {
		if isIncompleteFlag(f) && !slices.Contains(ref.Flags, f) {
			cuts = append(cuts, f)
		}
	}
	return cuts
}

// countsCut tells whether cur's counts may be partial against ref's: it
// was cut by more than the listing cap (which drops datasets, not counts).
func countsCut(cur, ref *finding.Finding) bool {
	return slices.ContainsFunc(newCuts(cur, ref), func(c string) bool { return c != "datasets-truncated" })
}

// RansomNotePatterns are (lower-case) substrings of dataset names that
// extortion bots leave after wiping a store ("READ_ME", "meow", "how to
// recover"). The Elasticsearch prober flags such indices with this list;
// the extortion event applies it to every store (tables, collections,
// keyspaces, buckets).
var RansomNotePatterns = []string{
	"read_me", "readme", "read-me", "meow", "how_to_recover", "how-to-recover",
	"recover_your_data", "please_read", "warning_read", "your_data_is_backed_up",
	"backup_your_data", "hacked", "pwned", "ransom",
}

// IsRansomNoteName tells whether a dataset name looks like a ransom note.
func IsRansomNoteName(name string) bool {
	n := strings.ToLower(name)
	for _, p := range RansomNotePatterns {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// Incident is what an evidence event (destroyed, extortion, canary)
// found, and against which observation.
type Incident struct {
	// Since is the previous exposed observation the current one was
	// compared with (zero for a first observation).
	Since time.Time `json:"since,omitzero"`
	// Vanished are datasets listed at Since and absent now.
	Vanished []Drop `json:"vanished,omitempty"`
	// Dropped are datasets whose records fell by > DropRatio and > DropMin.
	Dropped []Drop `json:"dropped,omitempty"`
	// RecordsLost is the sum of records gone from Vanished and Dropped.
	RecordsLost int64 `json:"records_lost,omitempty"`
	// RansomNotes are the datasets that look like ransom notes.
	RansomNotes []string `json:"ransom_notes,omitempty"`
	// RansomFlag: a prober flagged "ransom-note" (finding or dataset).
	RansomFlag bool `json:"ransom_flag,omitempty"`
	// Canaries are the labels of canaries found (never their values).
	Canaries []string `json:"canaries,omitempty"`
	// CanaryDatasets are the datasets that held them.
	CanaryDatasets []string `json:"canary_datasets,omitempty"`
}

// Drop is one dataset's record count before and after.
type Drop struct {
	Name string `json:"name"`
	Kind string `json:"kind,omitempty"`
	From int64  `json:"from"`
	// To is nil when the dataset is gone.
	To *int64 `json:"to"`
}

// Summary is one line: "2 datasets gone (public.orders 1,200 records);
// public.customers 1,000→40 records; 2,160 records lost".
func (in *Incident) Summary(k EventKind) string {
	if in == nil {
		return ""
	}
	var parts []string
	switch k {
	case EventDestroyed:
		for _, d := range in.Vanished {
			parts = append(parts, fmt.Sprintf("%s gone (%s records)", d.Name, Count(d.From)))
		}
		for _, d := range in.Dropped {
			parts = append(parts, fmt.Sprintf("%s %s→%s records", d.Name, Count(d.From), Count(*d.To)))
		}
		parts = append(parts, Count(in.RecordsLost)+" records lost")
	case EventExtortion:
		if len(in.RansomNotes) > 0 {
			parts = append(parts, "ransom note "+list(in.RansomNotes))
		} else {
			parts = append(parts, "ransom-note flagged by the prober")
		}
	case EventCanary:
		parts = append(parts, "canary "+list(in.Canaries))
		if len(in.CanaryDatasets) > 0 {
			parts = append(parts, "in "+list(in.CanaryDatasets))
		}
	}
	return strings.Join(parts, "; ")
}

// incidents compares an exposed snapshot with the previous exposed one
// (prev.Last) and with what was ever known, and returns the evidence
// events: destroyed, extortion, canary (in that order), all critical.
func incidents(prev State, s *State, obs Observation) []Event {
	cur := obs.Finding
	// Losses are measured against the last complete picture: a check that
	// a limit or a race cut short (an index deleted between the listing
	// and its count) must not become the reference the next check's loss
	// is invisible against.
	ref := prev.LossReference()
	var since time.Time
	if ref != nil {
		since = ref.ObservedAt
	}
	var evs []Event
	if in := destruction(ref, cur); in != nil {
		in.Since = since
		evs = append(evs, incidentEvent(EventDestroyed, s, obs.At, in))
	}
	if in := extortion(prev.Known, cur); in != nil {
		in.Since = since
		evs = append(evs, incidentEvent(EventExtortion, s, obs.At, in))
	}
	if in := canaries(prev.Known, cur); in != nil {
		in.Since = since
		evs = append(evs, incidentEvent(EventCanary, s, obs.At, in))
	}
	return evs
}

func incidentEvent(k EventKind, s *State, at time.Time, in *Incident) Event {
	e := event(k, s, at, nil, nil)
	e.Severity, e.Incident = finding.SeverityCritical, in
	e.Summary = fmt.Sprintf("%s: %s on %s: %s", k, s.Service, s.Target.Addr(), in.Summary(k))
	return e
}

// destruction finds datasets gone or sharply shrunk from prev to cur.
func destruction(prev, cur *finding.Finding) *Incident {
	if prev == nil || cur == nil {
		return nil
	}
	if countsCut(cur, prev) {
		// A check cut short proves no loss; the next full one is measured
		// against prev (State.Reference).
		return nil
	}
	complete := Complete(cur)
	now := map[string]*finding.Dataset{}
	for i := range cur.Datasets {
		now[cur.Datasets[i].Name] = &cur.Datasets[i]
	}
	var in Incident
	for _, d := range prev.Datasets {
		if d.Hidden || d.Records == nil {
			continue
		}
		from := *d.Records
		c, ok := now[d.Name]
		switch {
		case !ok:
			if complete && from > DropMin {
				in.Vanished = append(in.Vanished, Drop{Name: d.Name, Kind: d.Kind, From: from})
				in.RecordsLost = finding.SatAdd(in.RecordsLost, from)
			}
		case c.Records != nil:
			to := *c.Records
			lost := from - to
			if lost > DropMin && float64(lost) > DropRatio*float64(from) {
				in.Dropped = append(in.Dropped, Drop{Name: d.Name, Kind: d.Kind, From: from, To: finding.Int64(to)})
				in.RecordsLost = finding.SatAdd(in.RecordsLost, lost)
			}
		}
	}
	if len(in.Vanished)+len(in.Dropped) == 0 {
		return nil
	}
	// Stable, whatever order the store listed its datasets in: events,
	// alerts and reports read the same for the same loss.
	byName := func(a, b Drop) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(in.Vanished, byName)
	slices.SortFunc(in.Dropped, byName)
	return &in
}

// extortion finds ransom notes not known before.
func extortion(known Known, cur *finding.Finding) *Incident {
	var in Incident
	for _, d := range cur.Datasets {
		note := IsRansomNoteName(d.Name) || slices.Contains(d.Flags, "ransom-note")
		if note && !slices.Contains(known.Datasets, d.Name) && !slices.Contains(in.RansomNotes, d.Name) {
			in.RansomNotes = append(in.RansomNotes, d.Name)
		}
	}
	flagged := slices.Contains(flags(cur), "ransom-note")
	if flagged && !slices.Contains(known.Flags, "ransom-note") {
		in.RansomFlag = true
	}
	if len(in.RansomNotes) == 0 && !in.RansomFlag {
		return nil
	}
	in.RansomFlag = flagged
	slices.Sort(in.RansomNotes)
	return &in
}

// canaries finds canary labels not seen before.
func canaries(known Known, cur *finding.Finding) *Incident {
	var in Incident
	for _, d := range cur.Datasets {
		hit := false
		for _, c := range d.Canary {
			if !slices.Contains(known.Canaries, c) {
				hit = true
				if !slices.Contains(in.Canaries, c) {
					in.Canaries = append(in.Canaries, c)
				}
			}
		}
		if hit {
			in.CanaryDatasets = append(in.CanaryDatasets, d.Name)
		}
	}
	if len(in.Canaries) == 0 {
		return nil
	}
	slices.Sort(in.Canaries)
	return &in
}

// canaryLabels lists a snapshot's canary labels.
func canaryLabels(f *finding.Finding) []string {
	var out []string
	for _, d := range f.Datasets {
		out = append(out, d.Canary...)
	}
	return out
}

// ProofEvidenceKeys are the evidence keys of a protected check that prove
// the service now demands credentials (the probers' names for the auth
// challenge, its HTTP status and error, the login method asked for, a
// refused default credential). Other evidence (counters, versions) is not
// closing proof and stays in the observation.
var ProofEvidenceKeys = []string{
	"auth_challenge", "challenged_command", "http_status", "auth_error", "auth_error_code",
	"auth_method", "sasl_mechanisms", "startup_error_code", "startup_error",
	"login", "login_reply", "anonymous_login", "exception_code", "exception",
	"default_credentials", "authenticator",
}

// proofEvidence keeps the auth-challenge keys of a protected check's
// evidence (nil if none).
func proofEvidence(ev map[string]any) map[string]any {
	var out map[string]any
	for _, k := range ProofEvidenceKeys {
		if v, ok := ev[k]; ok {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}
