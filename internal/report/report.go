// Package report turns a finding's stored history into an incident report
// that a data-protection officer can file: GDPR Art. 33(3)(a)–(d) and the
// Art. 33(5) documentation of facts, effects and remedial action, as
// Markdown, self-contained HTML (inline CSS, an inline-SVG exposure
// timeline, no script, no external resource) or JSON.
//
// It is pure rendering from store types: Build takes a store.FindingDetail
// (the finding's state, observations and events) and Options (the clock
// statement and the free text the user supplies) and returns a Report;
// the writers render it. No raw sampled value can appear: findings only
// ever hold masked examples and keyed hashes, and the report copies those
// and nothing else of the samples.
package report

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Schema tags the JSON form of a finding report.
const Schema = "leakwatch.report/v1"

// DefaultClock is the clock statement when Options.Clock is empty.
const DefaultClock = "system wall clock of the host running leakwatch serve (Go time.Now), recorded in UTC at millisecond precision when each check finished; leakwatch does not verify the host's clock synchronisation"

// Options are what the store does not know.
type Options struct {
	// Now is the report's generation time (default time.Now).
	Now time.Time
	// Clock states where the observation times come from.
	Clock string
	// Controller and DPO name the data controller and its DPO (Art.
	// 33(3)(b)).
	Controller string
	DPO        string
	// Measures are the measures taken or proposed (Art. 33(3)(d)), in the
	// user's words.
	Measures []string
	// MaxExamples caps the masked examples per class (default 3).
	MaxExamples int
}

func (o Options) withDefaults() Options {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	if o.Clock == "" {
		o.Clock = DefaultClock
	}
	if o.MaxExamples <= 0 {
		o.MaxExamples = 3
	}
	return o
}

// Report is one finding's incident report.
type Report struct {
	Schema      string    `json:"schema"`
	GeneratedAt time.Time `json:"generated_at"`
	// Clock states the source of every time in the report (all UTC).
	Clock string `json:"clock"`

	Finding FindingInfo `json:"finding"`
	// Nature is Art. 33(3)(a): what happened, in sentences.
	Nature []string `json:"nature"`
	// Window is the exposure window, with the proofs of closing.
	Window Window `json:"window"`
	// Categories of personal data (Art. 33(3)(a)).
	Categories []Category `json:"data_categories"`
	// SubjectCategories are the categories of data subjects the data
	// suggests (Art. 33(3)(a)); the controller must confirm them.
	SubjectCategories []string `json:"subject_categories"`
	// Numbers are the approximate numbers of records and subjects.
	Numbers Numbers `json:"numbers"`
	// Datasets at their largest observed size.
	Datasets []DatasetRow `json:"datasets"`
	// Access is what is known about use by others.
	Access Access `json:"access"`
	// Incidents are the destruction, extortion and canary events.
	Incidents []EventRow `json:"incidents"`
	// Events is every lifecycle event, oldest first.
	Events []EventRow `json:"events"`
	// Observations are the checks, consecutive identical ones merged.
	Observations []ObservationRun `json:"observations"`
	// Consequences are Art. 33(3)(c), derived from the classes present.
	Consequences []Consequence `json:"likely_consequences"`
	// Measures are Art. 33(3)(d).
	Measures Measures `json:"measures"`
	// CannotKnow states plainly what the report cannot say.
	CannotKnow []string `json:"cannot_know"`
}

// FindingInfo identifies the finding.
type FindingInfo struct {
	ID       string           `json:"id"`
	Target   finding.Target   `json:"target"`
	Service  string           `json:"service"`
	Product  string           `json:"product,omitempty"`
	Version  string           `json:"version,omitempty"`
	Scope    string           `json:"scope,omitempty"`
	Status   lifecycle.Status `json:"status"`
	Severity finding.Severity `json:"severity"`
	Auth     finding.Auth     `json:"auth,omitempty"`
	Flags    []string         `json:"flags,omitempty"`
}

// Window is when the data was open.
type Window struct {
	FirstSeenOpen time.Time `json:"first_seen_open"`
	LastSeenOpen  time.Time `json:"last_seen_open"`
	// ClosedAt is the first check of the streak that closed it (zero while
	// open).
	ClosedAt time.Time `json:"closed_at,omitzero"`
	// Open tells whether it is still open at the last check.
	Open bool `json:"open"`
	// LastCheck is the last check of any outcome.
	LastCheck time.Time `json:"last_check"`
	// Exposed is the total time seen open: from each opening to the last
	// exposed check of that period (a lower bound of the real exposure).
	Exposed Duration `json:"exposed"`
	// UpperBound is from each opening to the first closing check (or the
	// last check while open), the longest the data can have been open
	// since leakwatch first saw it.
	UpperBound   Duration `json:"exposed_upper_bound"`
	Periods      []Period `json:"periods"`
	Reopens      int      `json:"reopens"`
	Observations int      `json:"observations"`
}

// Duration is a time.Duration with a readable JSON form.
type Duration struct {
	Seconds int64  `json:"seconds"`
	Text    string `json:"text"`
}

func dur(d time.Duration) Duration {
	if d < 0 {
		d = 0
	}
	return Duration{Seconds: int64(d / time.Second), Text: human(d)}
}

// human writes 22d 3h 4m 5s.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	s := (d - m*time.Minute) / time.Second
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if h > 0 {
		parts = append(parts, fmt.Sprintf("%dh", h))
	}
	if m > 0 {
		parts = append(parts, fmt.Sprintf("%dm", m))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, fmt.Sprintf("%ds", s))
	}
	return strings.Join(parts, " ")
}

// Period is one stretch from opening to closing.
type Period struct {
	Opened       time.Time `json:"opened"`
	OpenedBy     string    `json:"opened_by"` // opened | reopened
	LastSeenOpen time.Time `json:"last_seen_open"`
	// Closed is the first closing check (zero while open).
	Closed time.Time `json:"closed,omitzero"`
	// Proof are the checks that closed it.
	Proof []Proof `json:"proof,omitempty"`
	// OutOfScope: monitoring stopped (endpoint left the scope) while open.
	OutOfScope time.Time `json:"out_of_scope,omitzero"`
}

// Proof is one closing check, explained.
type Proof struct {
	lifecycle.Proof
	// Explanation says in words what the check saw.
	Explanation string `json:"explanation"`
}

// Category is one class of data.
type Category struct {
	Class string `json:"class"`
	Label string `json:"label"`
	// Special: Art. 9/10 data or data with high risk (credentials,
	// payment, national ids) — flagged for the DPO's risk assessment.
	Sensitive bool     `json:"sensitive,omitempty"`
	Datasets  []string `json:"datasets"`
	// EstimatedRecords is the summed estimate over datasets with its 95 %
	// interval (nil where no dataset had a count).
	EstimatedRecords *int64 `json:"estimated_records,omitempty"`
	Low              *int64 `json:"estimated_records_low,omitempty"`
	High             *int64 `json:"estimated_records_high,omitempty"`
	DistinctSubjects *int64 `json:"distinct_subjects,omitempty"`
	// Sampled and Matched sum the samples the estimates rest on.
	Sampled int `json:"sampled"`
	Matched int `json:"matched"`
	// Source is values, schema or both.
	Source   string   `json:"source"`
	Examples []string `json:"masked_examples,omitempty"`
	Hashes   []string `json:"keyed_hashes,omitempty"`
}

// Numbers are the approximate counts, with intervals and method.
type Numbers struct {
	// Records is what the store reported, summed over datasets at their
	// largest observed size.
	Records int64 `json:"records"`
	// PersonalRecords estimates how many of them hold at least one class of
	// personal data, with a 95 % interval.
	PersonalRecords     int64  `json:"personal_records"`
	PersonalRecordsLow  int64  `json:"personal_records_low"`
	PersonalRecordsHigh int64  `json:"personal_records_high"`
	PersonalMethod      string `json:"personal_records_method"`
	// Subjects estimates the distinct data subjects: Low assumes every
	// dataset holds the same people, High that they are all different.
	Subjects       int64  `json:"subjects"`
	SubjectsLow    int64  `json:"subjects_low"`
	SubjectsHigh   int64  `json:"subjects_high"`
	SubjectsMethod string `json:"subjects_method"`
	RecordsMethod  string `json:"records_method"`
}

// DatasetRow is a dataset at its largest observed size.
type DatasetRow struct {
	Name    string    `json:"name"`
	Kind    string    `json:"kind"`
	Records *int64    `json:"records"`
	SeenAt  time.Time `json:"seen_at"`
	// Gone: absent from the last exposed snapshot.
	Gone    bool     `json:"gone,omitempty"`
	Classes []string `json:"classes,omitempty"`
	Flags   []string `json:"flags,omitempty"`
}

// Access is the foreign-access evidence over the window.
type Access struct {
	// Measured tells whether the store's probe measured access at all.
	Measured bool   `json:"measured"`
	Method   string `json:"method,omitempty"`
	Why      string `json:"why_not,omitempty"`
	// ForeignQueries and ForeignConnections sum the accessed events.
	ForeignQueries     *int64   `json:"foreign_queries,omitempty"`
	ForeignConnections *int64   `json:"foreign_connections,omitempty"`
	Clients            []string `json:"clients,omitempty"`
	// Intervals are the accessed events, one per interval with use.
	Intervals []EventRow `json:"intervals,omitempty"`
	// Limits say what the numbers cannot tell.
	Limits []string `json:"limits"`
}

// EventRow is one event.
type EventRow struct {
	At       time.Time              `json:"at"`
	Kind     lifecycle.EventKind    `json:"kind"`
	Severity finding.Severity       `json:"severity"`
	Summary  string                 `json:"summary"`
	Incident *lifecycle.Incident    `json:"incident,omitempty"`
	Access   *lifecycle.AccessDelta `json:"access,omitempty"`
}

// ObservationRun is consecutive checks with the same outcome, records,
// classes and auth.
type ObservationRun struct {
	From     time.Time         `json:"from"`
	To       time.Time         `json:"to"`
	Count    int               `json:"count"`
	Outcome  lifecycle.Outcome `json:"outcome"`
	Reason   string            `json:"reason,omitempty"`
	Auth     finding.Auth      `json:"auth,omitempty"`
	Records  int64             `json:"records"`
	Datasets int               `json:"datasets"`
	Classes  []string          `json:"classes,omitempty"`
	Flags    []string          `json:"flags,omitempty"`
	// FirstID and LastID are the store's observation ids.
	FirstID int64 `json:"first_observation_id"`
	LastID  int64 `json:"last_observation_id"`
}

// Consequence is one likely consequence and the classes behind it.
type Consequence struct {
	Classes     []string `json:"classes"`
	Consequence string   `json:"consequence"`
}

// Measures are Art. 33(3)(d).
type Measures struct {
	// Closure is the closing the history proves (nil while open).
	Closure    *Period  `json:"closure,omitempty"`
	Taken      []string `json:"taken,omitempty"`
	Controller string   `json:"controller,omitempty"`
	DPO        string   `json:"dpo,omitempty"`
}

// Build makes the report of one finding from its stored history (the
// timeline oldest first, as store.GetFinding returns it).
func Build(d *store.FindingDetail, o Options) *Report {
	o = o.withDefaults()
	st := d.Finding
	r := &Report{Schema: Schema, GeneratedAt: o.Now, Clock: o.Clock}
	r.Finding = FindingInfo{ID: st.ID, Target: st.Target, Service: st.Service, Scope: st.Scope,
		Status: st.Status, Severity: st.Severity}
	if l := st.Last; l != nil {
		r.Finding.Product, r.Finding.Version, r.Finding.Auth = l.Product, l.Version, l.Auth
		r.Finding.Flags = slices.Clone(l.Flags)
	}

	var events []lifecycle.Event
	var obs []store.Observation
	for _, e := range d.Timeline {
		switch {
		case e.Event != nil:
			events = append(events, e.Event.Event)
		case e.Observation != nil:
			obs = append(obs, *e.Observation)
		}
	}
	r.Window = window(st, events, obs)
	r.Observations = runs(obs)
	snaps := snapshots(st, events)
	r.Datasets = datasets(snaps, st.Last)
	r.Categories = categories(snaps, o.MaxExamples)
	r.Numbers = numbers(r.Datasets, snaps)
	r.SubjectCategories = subjectCategories(r.Categories)
	for _, e := range events {
		row := EventRow{At: e.At.UTC(), Kind: e.Kind, Severity: e.Severity, Summary: e.Summary, Incident: e.Incident}
		r.Events = append(r.Events, row)
		switch e.Kind {
		case lifecycle.EventDestroyed, lifecycle.EventExtortion, lifecycle.EventCanary:
			r.Incidents = append(r.Incidents, row)
		}
	}
	r.Access = access(st.Last, events)
	r.Consequences = Consequences(classesOf(r.Categories))
	r.Measures = Measures{Taken: slices.Clone(o.Measures), Controller: o.Controller, DPO: o.DPO}
	if n := len(r.Window.Periods); n > 0 && !r.Window.Periods[n-1].Closed.IsZero() {
		p := r.Window.Periods[n-1]
		r.Measures.Closure = &p
	}
	r.Nature = nature(r)
	r.CannotKnow = cannotKnow(r)
	return r
}

// window folds events into opening/closing periods.
func window(st store.Finding, events []lifecycle.Event, obs []store.Observation) Window {
	w := Window{
		FirstSeenOpen: st.FirstSeen.UTC(), LastSeenOpen: st.LastSeenOpen.UTC(), ClosedAt: st.ClosedAt.UTC(),
		Open: st.Status.IsOpen(), LastCheck: st.LastSeen.UTC(), Reopens: st.ReopenCount, Observations: st.Observations,
	}
	if w.Observations == 0 {
		w.Observations = len(obs)
	}
	var cur *Period
	for _, e := range events {
		switch e.Kind {
		case lifecycle.EventOpened, lifecycle.EventReopened:
			w.Periods = append(w.Periods, Period{Opened: e.At.UTC(), OpenedBy: string(e.Kind), LastSeenOpen: e.At.UTC()})
			cur = &w.Periods[len(w.Periods)-1]
		case lifecycle.EventClosed:
			if cur != nil {
				cur.Closed = e.At.UTC()
				if len(e.Proof) > 0 {
					cur.Closed = e.Proof[0].At.UTC()
				}
				for _, p := range e.Proof {
					cur.Proof = append(cur.Proof, Proof{Proof: p, Explanation: Explain(p)})
				}
				cur = nil
			}
		case lifecycle.EventOutOfScope:
			if cur != nil {
				cur.OutOfScope = e.At.UTC()
				cur = nil
			}
		}
	}
	// Last exposed check of each period, from the observations.
	for i := range w.Periods {
		p := &w.Periods[i]
		end := p.Closed
		if end.IsZero() {
			end = p.OutOfScope
		}
		for _, o := range obs {
			if o.Outcome == lifecycle.OutcomeExposed && !o.At.Before(p.Opened) && (end.IsZero() || o.At.Before(end)) && o.At.After(p.LastSeenOpen) {
				p.LastSeenOpen = o.At.UTC()
			}
		}
		if i == len(w.Periods)-1 && st.LastSeenOpen.After(p.LastSeenOpen) && (end.IsZero() || st.LastSeenOpen.Before(end)) {
			p.LastSeenOpen = st.LastSeenOpen.UTC()
		}
		var exp, up time.Duration
		exp = p.LastSeenOpen.Sub(p.Opened)
		switch {
		case !p.Closed.IsZero():
			up = p.Closed.Sub(p.Opened)
		case !p.OutOfScope.IsZero():
			up = p.OutOfScope.Sub(p.Opened)
		default:
			up = w.LastCheck.Sub(p.Opened)
		}
		w.Exposed.Seconds += int64(exp / time.Second)
		w.UpperBound.Seconds += int64(up / time.Second)
	}
	w.Exposed = dur(time.Duration(w.Exposed.Seconds) * time.Second)
	w.UpperBound = dur(time.Duration(w.UpperBound.Seconds) * time.Second)
	return w
}

// Explain says what one closing check saw.
func Explain(p lifecycle.Proof) string {
	switch p.Outcome {
	case lifecycle.OutcomeGone:
		switch p.Reason {
		case "refused":
			return "the TCP connection to the port was refused (nothing listens there any more)"
		case "port closed":
			return "the discovery sweep found the port closed (no TCP connection could be made)"
		case "timeout":
			return "the port did not answer within the deadline"
		}
		if strings.HasPrefix(p.Reason, "another service answers") {
			return "the port now answers as another service (" + strings.TrimPrefix(p.Reason, "another service answers: ") + ")"
		}
		return "the service was no longer found: " + p.Reason
	case lifecycle.OutcomeProtected:
		var parts []string
		keys := make([]string, 0, len(p.Evidence))
		for k := range p.Evidence {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s=%v", k, p.Evidence[k]))
		}
		s := "the service answered and demanded credentials"
		if p.Auth != "" {
			s += " (auth " + string(p.Auth) + ")"
		}
		if len(parts) > 0 {
			s += ": " + strings.Join(parts, ", ")
		}
		return s
	}
	return string(p.Outcome) + " " + p.Reason
}

// runs merges consecutive identical observations.
func runs(obs []store.Observation) []ObservationRun {
	var out []ObservationRun
	for _, o := range obs {
		if n := len(out); n > 0 {
			r := &out[n-1]
			if r.Outcome == o.Outcome && r.Reason == o.Reason && r.Auth == o.Auth && r.Records == o.Records &&
				r.Datasets == o.Datasets && slices.Equal(r.Classes, o.Classes) && slices.Equal(r.Flags, o.Flags) {
				r.To, r.Count, r.LastID = o.At.UTC(), r.Count+1, o.ID
				continue
			}
		}
		out = append(out, ObservationRun{From: o.At.UTC(), To: o.At.UTC(), Count: 1, Outcome: o.Outcome, Reason: o.Reason,
			Auth: o.Auth, Records: o.Records, Datasets: o.Datasets, Classes: slices.Clone(o.Classes), Flags: slices.Clone(o.Flags),
			FirstID: o.ID, LastID: o.ID})
	}
	return out
}

// snapshots are the exposed snapshots the history keeps: one per event
// (opened, changed, reopened, incidents) and the last one.
func snapshots(st store.Finding, events []lifecycle.Event) []*finding.Finding {
	var out []*finding.Finding
	seen := map[time.Time]bool{}
	add := func(f *finding.Finding) {
		if f == nil || seen[f.ObservedAt] {
			return
		}
		seen[f.ObservedAt] = true
		out = append(out, f)
	}
	for _, e := range events {
		if e.Kind != lifecycle.EventClosed && e.Kind != lifecycle.EventOutOfScope {
			add(e.Finding)
		}
	}
	add(st.Baseline)
	add(st.Last)
	slices.SortFunc(out, func(a, b *finding.Finding) int { return a.ObservedAt.Compare(b.ObservedAt) })
	return out
}

// datasets keeps each dataset at its largest observed count.
func datasets(snaps []*finding.Finding, last *finding.Finding) []DatasetRow {
	idx := map[string]int{}
	var out []DatasetRow
	for _, f := range snaps {
		for _, d := range f.Datasets {
			if d.Hidden {
				continue
			}
			row := DatasetRow{Name: d.Name, Kind: d.Kind, Records: d.Records, SeenAt: f.ObservedAt.UTC(), Flags: slices.Clone(d.Flags)}
			for _, c := range d.Classes {
				row.Classes = append(row.Classes, c.Class)
			}
			i, ok := idx[d.Name]
			if !ok {
				idx[d.Name] = len(out)
				out = append(out, row)
				continue
			}
			old := &out[i]
			old.Classes = union(old.Classes, row.Classes)
			old.Flags = union(old.Flags, row.Flags)
			if recs(row.Records) > recs(old.Records) {
				old.Records, old.SeenAt = row.Records, row.SeenAt
			}
		}
	}
	for i := range out {
		out[i].Gone = last == nil || !slices.ContainsFunc(last.Datasets, func(d finding.Dataset) bool { return d.Name == out[i].Name })
		slices.Sort(out[i].Classes)
	}
	slices.SortStableFunc(out, func(a, b DatasetRow) int { return cmp.Compare(recs(b.Records), recs(a.Records)) })
	return out
}

func recs(p *int64) int64 {
	if p == nil {
		return -1
	}
	return *p
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// peak returns, per dataset, the class counts of the snapshot where the
// dataset was largest (the estimates of that observation).
func peak(snaps []*finding.Finding) map[string]finding.Dataset {
	out := map[string]finding.Dataset{}
	for _, f := range snaps {
		for _, d := range f.Datasets {
			if d.Hidden {
				continue
			}
			old, ok := out[d.Name]
			if !ok || recs(d.Records) > recs(old.Records) || (recs(d.Records) == recs(old.Records) && len(d.Classes) >= len(old.Classes)) {
				out[d.Name] = d
			}
		}
	}
	return out
}

// estimates returns a class count's estimate and interval. A class known
// from the schema only (a column or mapping field of that kind, values not
// sampled) counts every record of its dataset: the field exists in each.
func estimates(c finding.ClassCount, d finding.Dataset) (est, low, high *int64) {
	est, low, high = c.EstimatedRecords, cmp.Or(c.EstimateLow, c.EstimatedRecords), cmp.Or(c.EstimateHigh, c.EstimatedRecords)
	if est == nil && c.Source == "schema" && d.Records != nil {
		est, low, high = d.Records, d.Records, d.Records
	}
	return est, low, high
}

// categories aggregates classes over the datasets at their peak.
func categories(snaps []*finding.Finding, maxEx int) []Category {
	byClass := map[string]*Category{}
	pk := peak(snaps)
	names := make([]string, 0, len(pk))
	for n := range pk {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := pk[n]
		for _, c := range d.Classes {
			cat := byClass[c.Class]
			if cat == nil {
				cat = &Category{Class: c.Class, Label: Label(c.Class), Sensitive: Sensitive(c.Class)}
				byClass[c.Class] = cat
			}
			cat.Datasets = append(cat.Datasets, d.Name)
			cat.Sampled += c.Sampled
			cat.Matched += c.Matched
			est, low, high := estimates(c, d)
			cat.EstimatedRecords = addp(cat.EstimatedRecords, est)
			cat.Low = addp(cat.Low, low)
			cat.High = addp(cat.High, high)
			cat.DistinctSubjects = addp(cat.DistinctSubjects, c.DistinctSubjects)
			switch {
			case cat.Source == "":
				cat.Source = c.Source
			case cat.Source != c.Source:
				cat.Source = "values+schema"
			}
			for _, e := range c.Examples {
				if len(cat.Examples) < maxEx && !slices.Contains(cat.Examples, e) {
					cat.Examples = append(cat.Examples, e)
				}
			}
			for _, h := range c.Hashes {
				if len(cat.Hashes) < maxEx && !slices.Contains(cat.Hashes, h) {
					cat.Hashes = append(cat.Hashes, h)
				}
			}
		}
	}
	out := make([]Category, 0, len(byClass))
	for _, c := range byClass {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b Category) int {
		if c := cmp.Compare(recs(b.EstimatedRecords), recs(a.EstimatedRecords)); c != 0 {
			return c
		}
		return cmp.Compare(a.Class, b.Class)
	})
	return out
}

func addp(a, b *int64) *int64 {
	if b == nil {
		return a
	}
	if a == nil {
		return finding.Int64(*b)
	}
	return finding.Int64(finding.SatAdd(*a, *b))
}

func classesOf(cs []Category) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Class
	}
	slices.Sort(out)
	return out
}

// identifying classes name or single out a person.
var identifying = []string{"email", "person_name", "username", "phone", "national_id", "postal_address", "date_of_birth", "payment_card", "bank_account", "device_id", "mac_address"}

// numbers computes the approximate counts.
func numbers(ds []DatasetRow, snaps []*finding.Finding) Numbers {
	n := Numbers{
		RecordsMethod:  "the record counts each store reports for its datasets (cheap metadata, not a count of leakwatch's own), summed over datasets, each at the largest count seen in the history; datasets whose count could not be had are left out",
		PersonalMethod: "per dataset, the classifier's estimate of the records holding the most frequent class of personal data (share of matching records in the bounded sample × the dataset's records, with a 95 % Wilson interval; a class known from the schema only — a field of that kind whose values were not sampled — counts every record of its dataset); the upper bound also allows every class to sit in different records (capped at the dataset's records); summed over datasets",
		SubjectsMethod: "per dataset, the largest distinct-subject estimate among identifying classes (distinct share of the sample, or Chao1 when values repeat, × records; the record estimate where the sample gave none); low = the largest single dataset (every dataset holds the same people), high = the sum over datasets (all different people)",
	}
	for _, d := range ds {
		if d.Records != nil {
			n.Records = finding.SatAdd(n.Records, *d.Records)
		}
	}
	for _, d := range peak(snaps) {
		var best, bestLow, sumHigh, subj int64
		for _, c := range d.Classes {
			est, low, high := estimates(c, d)
			if est != nil && *est > best {
				best = *est
			}
			if low != nil && *low > bestLow {
				bestLow = *low
			}
			if high != nil {
				sumHigh = finding.SatAdd(sumHigh, *high)
			}
			if slices.Contains(identifying, c.Class) {
				s := c.DistinctSubjects
				if s == nil {
					s = est
				}
				if s != nil && *s > subj {
					subj = *s
				}
			}
		}
		if d.Records != nil && sumHigh > *d.Records {
			sumHigh = *d.Records
		}
		sumHigh = max(sumHigh, best)
		n.PersonalRecords = finding.SatAdd(n.PersonalRecords, best)
		n.PersonalRecordsLow = finding.SatAdd(n.PersonalRecordsLow, bestLow)
		n.PersonalRecordsHigh = finding.SatAdd(n.PersonalRecordsHigh, sumHigh)
		n.SubjectsLow = max(n.SubjectsLow, subj)
		n.SubjectsHigh = finding.SatAdd(n.SubjectsHigh, subj)
	}
	n.Subjects = n.SubjectsLow
	return n
}

// access reads the access evidence: whether the store measured it (the
// last snapshot's "access" evidence) and the accessed events' sums.
func access(last *finding.Finding, events []lifecycle.Event) Access {
	a := Access{Limits: []string{
		"leakwatch sees only what the store itself counts between two of its checks; use before the first check, after the last one, or on a store that keeps no counters is unknown",
		"the numbers show that the data was used, not by whom, and not what was copied",
		"a store that restarted resets its counters: such intervals give lower bounds",
	}}
	if ae := lifecycle.ParseAccess(last); ae != nil {
		a.Measured, a.Method, a.Why = ae.Measurable, ae.Method, ae.Why
	}
	if !a.Measured && a.Why == "" {
		a.Why = "not measured: this store's probe recorded no access counters"
	}
	for _, e := range events {
		d := e.Access
		if e.Kind != lifecycle.EventAccessed || d == nil {
			continue
		}
		a.Intervals = append(a.Intervals, EventRow{At: e.At.UTC(), Kind: e.Kind, Severity: e.Severity, Summary: e.Summary, Access: d})
		a.Measured = a.Measured || d.Measurable
		if d.ForeignQueries != nil {
			a.ForeignQueries = addp(a.ForeignQueries, d.ForeignQueries)
		}
		if d.ForeignConnections != nil {
			a.ForeignConnections = addp(a.ForeignConnections, d.ForeignConnections)
		}
		for _, c := range d.Clients {
			if !slices.Contains(a.Clients, c.Addr) {
				a.Clients = append(a.Clients, c.Addr)
			}
		}
		for _, l := range d.Limits {
			if !slices.Contains(a.Limits, l) {
				a.Limits = append(a.Limits, l)
			}
		}
	}
	if ae := lifecycle.ParseAccess(last); ae != nil && ae.Measurable {
		// Measured, and no interval showed foreign use: zero, not unknown.
		if _, ok := ae.Counters[lifecycle.CounterQueries]; ok && a.ForeignQueries == nil {
			a.ForeignQueries = finding.Int64(0)
		}
		if _, ok := ae.Counters[lifecycle.CounterConnections]; ok && a.ForeignConnections == nil {
			a.ForeignConnections = finding.Int64(0)
		}
	}
	slices.Sort(a.Clients)
	return a
}
