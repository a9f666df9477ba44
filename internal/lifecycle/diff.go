package lifecycle

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Diff is a material change between two exposed snapshots of a finding.
type Diff struct {
	AuthFrom finding.Auth `json:"auth_from,omitempty"`
	AuthTo   finding.Auth `json:"auth_to,omitempty"`
	// RecordsFrom/To are the total visible records (set when they jumped).
	RecordsFrom *int64   `json:"records_from,omitempty"`
	RecordsTo   *int64   `json:"records_to,omitempty"`
	NewClasses  []string `json:"new_classes,omitempty"`
	NewDatasets []string `json:"new_datasets,omitempty"`
	// NewFlags are finding or dataset flags not seen before ("ransom-note",
	// "canary", "code-execution", ...).
	NewFlags     []string         `json:"new_flags,omitempty"`
	SeverityFrom finding.Severity `json:"severity_from,omitempty"`
	SeverityTo   finding.Severity `json:"severity_to,omitempty"`
}

// Summary is the diff in one line: "auth none→default-credentials;
// records 1,000→2,400,000; new classes auth_token, email".
func (d *Diff) Summary() string {
	if d == nil {
		return ""
	}
	var parts []string
	if d.AuthTo != "" {
		parts = append(parts, fmt.Sprintf("auth %s→%s", d.AuthFrom, d.AuthTo))
	}
	if d.RecordsTo != nil {
		parts = append(parts, fmt.Sprintf("records %s→%s", Count(*d.RecordsFrom), Count(*d.RecordsTo)))
	}
	if len(d.NewDatasets) > 0 {
		parts = append(parts, "new datasets "+list(d.NewDatasets))
	}
	if len(d.NewClasses) > 0 {
		parts = append(parts, "new classes "+list(d.NewClasses))
	}
	if len(d.NewFlags) > 0 {
		parts = append(parts, "new flags "+list(d.NewFlags))
	}
	if d.SeverityTo != "" {
		parts = append(parts, fmt.Sprintf("severity %s→%s", d.SeverityFrom, d.SeverityTo))
	}
	return strings.Join(parts, "; ")
}

// list shows at most 5 names.
func list(names []string) string {
	if len(names) > 5 {
		return strings.Join(names[:5], ", ") + fmt.Sprintf(" (+%d)", len(names)-5)
	}
	return strings.Join(names, ", ")
}

// Known is what a finding was ever seen exposing; names in it are never
// "new" again, so a class that flaps in and out of the bounded sample
// alerts once.
type Known struct {
	Datasets []string `json:"datasets,omitempty"`
	Classes  []string `json:"classes,omitempty"`
	Flags    []string `json:"flags,omitempty"`
	// Canaries are the labels of canaries ever found.
	Canaries []string `json:"canaries,omitempty"`
}

// KnownOf is what one snapshot shows.
func KnownOf(f *finding.Finding) Known { return Known{}.With(f) }

// With returns k merged with a snapshot (k is not modified).
func (k Known) With(f *finding.Finding) Known {
	if f == nil {
		return k
	}
	return Known{
		Datasets: union(k.Datasets, datasetNames(f)),
		Classes:  union(k.Classes, f.Classes),
		Flags:    union(k.Flags, flags(f)),
		Canaries: union(k.Canaries, canaryLabels(f)),
	}
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Diff compares an exposed snapshot with the baseline (auth, records,
// severity) and with what was ever known (datasets, classes, flags), and
// returns the material changes, or nil if there are none. A nil baseline
// gives nil; a nil known means KnownOf(base).
func (p Policy) Diff(base *finding.Finding, known *Known, cur *finding.Finding) *Diff {
	if base == nil || cur == nil {
		return nil
	}
	if known == nil {
		k := KnownOf(base)
		known = &k
	}
	p = p.WithDefaults()
	var d Diff
	material := false
	if base.Auth != cur.Auth {
		d.AuthFrom, d.AuthTo, material = base.Auth, cur.Auth, true
	}
	// A snapshot cut shorter than the baseline (Degraded) is a lower
	// bound: more records is news, fewer is only what it could not read.
	if from, to := base.TotalRecords(), cur.TotalRecords(); p.recordsJumped(from, to) && (to > from || !Degraded(cur, base)) {
		d.RecordsFrom, d.RecordsTo, material = finding.Int64(from), finding.Int64(to), true
	}
	d.NewDatasets = added(known.Datasets, datasetNames(cur))
	d.NewClasses = added(known.Classes, cur.Classes)
	// Flags that say a check was cut short describe the check, not the
	// store: they are not news.
	d.NewFlags = slices.DeleteFunc(added(known.Flags, flags(cur)), isIncompleteFlag)
	if len(d.NewDatasets)+len(d.NewClasses)+len(d.NewFlags) > 0 {
		material = true
	}
	if cur.Severity.Rank() > base.Severity.Rank() {
		d.SeverityFrom, d.SeverityTo, material = base.Severity, cur.Severity, true
	}
	if !material {
		return nil
	}
	return &d
}

// recordsJumped applies the records thresholds, in either direction (a
// store that was emptied is news too).
func (p Policy) recordsJumped(from, to int64) bool {
	delta := to - from
	if delta < 0 {
		delta = -delta
	}
	if delta == 0 {
		return false
	}
	if delta >= p.RecordsJumpAbs {
		return true
	}
	if delta < p.RecordsJumpMin {
		return false
	}
	if from == 0 {
		return true
	}
	return float64(delta) >= p.RecordsJumpRatio*float64(from)
}

func datasetNames(f *finding.Finding) []string {
	var out []string
	for _, d := range f.Datasets {
		if !d.Hidden {
			out = append(out, d.Name)
		}
	}
	return out
}

// flags gathers finding flags, dataset flags and "canary" for canary hits.
func flags(f *finding.Finding) []string {
	out := slices.Clone(f.Flags)
	for _, d := range f.Datasets {
		out = append(out, d.Flags...)
		if len(d.Canary) > 0 {
			out = append(out, "canary")
		}
	}
	return out
}

// added returns the sorted names in cur that are not in base.
func added(base, cur []string) []string {
	have := make(map[string]bool, len(base))
	for _, s := range base {
		have[s] = true
	}
	var out []string
	for _, s := range cur {
		if !have[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// Count formats n with thousands separators.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// summary is an event's human line.
func summary(e Event) string {
	where := fmt.Sprintf("%s on %s", e.Service, e.Target.Addr())
	switch e.Kind {
	case EventOpened, EventReopened:
		s := fmt.Sprintf("%s: %s is exposed", e.Kind, where)
		if f := e.Finding; f != nil {
			s += fmt.Sprintf(" (auth %s, %d datasets, %s records", f.Auth, len(datasetNames(f)), Count(f.TotalRecords()))
			if len(f.Classes) > 0 {
				s += ", classes " + list(f.Classes)
			}
			s += ")"
		}
		if e.Kind == EventReopened && e.Diff != nil {
			s += "; since it closed: " + e.Diff.Summary()
		}
		return s
	case EventChanged:
		return fmt.Sprintf("changed: %s: %s", where, e.Diff.Summary())
	case EventClosed:
		var why []string
		for _, p := range e.Proof {
			r := string(p.Outcome)
			if p.Reason != "" {
				r += " (" + p.Reason + ")"
			}
			why = append(why, r)
		}
		return fmt.Sprintf("closed: %s after %d checks: %s", where, len(e.Proof), strings.Join(why, ", "))
	case EventOutOfScope:
		return fmt.Sprintf("out-of-scope: %s is no longer monitored; it was exposed when last checked", where)
	}
	return string(e.Kind) + ": " + where
}
