package report

import (
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// PeriodSchema tags the JSON form of a period report.
const PeriodSchema = "leakwatch.period-report/v1"

// PeriodReport is every exposure of a scope in a period, with totals (the
// monthly report).
type PeriodReport struct {
	Schema      string     `json:"schema"`
	GeneratedAt time.Time  `json:"generated_at"`
	Clock       string     `json:"clock"`
	Scope       string     `json:"scope,omitempty"`
	Since       time.Time  `json:"since"`
	Until       time.Time  `json:"until"`
	Exposures   []Exposure `json:"exposures"`
	Totals      Totals     `json:"totals"`
}

// Exposure is one finding's line.
type Exposure struct {
	ID              string           `json:"id"`
	Target          finding.Target   `json:"target"`
	Service         string           `json:"service"`
	Scope           string           `json:"scope,omitempty"`
	Status          lifecycle.Status `json:"status"`
	Severity        finding.Severity `json:"severity"`
	FirstSeenOpen   time.Time        `json:"first_seen_open"`
	LastSeenOpen    time.Time        `json:"last_seen_open"`
	ClosedAt        time.Time        `json:"closed_at,omitzero"`
	Exposed         Duration         `json:"exposed"`
	Records         int64            `json:"records"`
	PersonalRecords int64            `json:"personal_records"`
	SubjectsLow     int64            `json:"subjects_low"`
	SubjectsHigh    int64            `json:"subjects_high"`
	Classes         []string         `json:"classes,omitempty"`
	Incidents       []string         `json:"incidents,omitempty"`
	ForeignQueries  *int64           `json:"foreign_queries,omitempty"`
}

// Totals sum the exposures.
type Totals struct {
	Exposures       int      `json:"exposures"`
	StillOpen       int      `json:"still_open"`
	Closed          int      `json:"closed"`
	Critical        int      `json:"critical"`
	Records         int64    `json:"records"`
	PersonalRecords int64    `json:"personal_records"`
	SubjectsLow     int64    `json:"subjects_low"`
	SubjectsHigh    int64    `json:"subjects_high"`
	Exposed         Duration `json:"exposed"`
	// Incidents counts destruction, extortion and canary events by kind.
	Incidents map[string]int `json:"incidents"`
	Classes   []string       `json:"classes,omitempty"`
	// Method says how the totals add up.
	Method string `json:"method"`
}

// Overlaps tells whether a finding report's exposure touches [since, until].
func Overlaps(r *Report, since, until time.Time) bool {
	w := r.Window
	if w.FirstSeenOpen.IsZero() || (!until.IsZero() && w.FirstSeenOpen.After(until)) {
		return false
	}
	return w.Open || !w.LastSeenOpen.Before(since) || (!w.ClosedAt.IsZero() && !w.ClosedAt.Before(since))
}

// BuildPeriod makes the period report from the finding reports (callers
// select them with Overlaps).
func BuildPeriod(scope string, since, until time.Time, rs []*Report, o Options) *PeriodReport {
	o = o.withDefaults()
	if until.IsZero() {
		until = o.Now
	}
	p := &PeriodReport{Schema: PeriodSchema, GeneratedAt: o.Now, Clock: o.Clock, Scope: scope, Since: since.UTC(), Until: until.UTC(),
		Totals: Totals{Incidents: map[string]int{},
			Method: "records, personal records and the subject interval sum the findings' own figures (see each finding's report); subjects_low is the largest single finding (the same people everywhere), subjects_high the sum (all different); exposed sums the time each finding was seen open"}}
	var exposed int64
	for _, r := range rs {
		e := Exposure{ID: r.Finding.ID, Target: r.Finding.Target, Service: r.Finding.Service, Scope: r.Finding.Scope,
			Status: r.Finding.Status, Severity: r.Finding.Severity, FirstSeenOpen: r.Window.FirstSeenOpen,
			LastSeenOpen: r.Window.LastSeenOpen, ClosedAt: r.Window.ClosedAt, Exposed: r.Window.Exposed,
			Records: r.Numbers.Records, PersonalRecords: r.Numbers.PersonalRecords,
			SubjectsLow: r.Numbers.SubjectsLow, SubjectsHigh: r.Numbers.SubjectsHigh,
			Classes: classesOf(r.Categories), ForeignQueries: r.Access.ForeignQueries}
		for _, in := range r.Incidents {
			e.Incidents = append(e.Incidents, string(in.Kind))
			p.Totals.Incidents[string(in.Kind)]++
		}
		p.Exposures = append(p.Exposures, e)
		t := &p.Totals
		t.Exposures++
		if r.Window.Open {
			t.StillOpen++
		} else if !r.Window.ClosedAt.IsZero() {
			t.Closed++
		}
		if r.Finding.Severity == finding.SeverityCritical {
			t.Critical++
		}
		t.Records = finding.SatAdd(t.Records, e.Records)
		t.PersonalRecords = finding.SatAdd(t.PersonalRecords, e.PersonalRecords)
		t.SubjectsLow = max(t.SubjectsLow, e.SubjectsLow)
		t.SubjectsHigh = finding.SatAdd(t.SubjectsHigh, e.SubjectsHigh)
		t.Classes = union(t.Classes, e.Classes)
		exposed += e.Exposed.Seconds
	}
	slices.Sort(p.Totals.Classes)
	p.Totals.Exposed = dur(time.Duration(exposed) * time.Second)
	slices.SortStableFunc(p.Exposures, func(a, b Exposure) int { return a.FirstSeenOpen.Compare(b.FirstSeenOpen) })
	return p
}

// WritePeriod renders a period report ("md", "html", "json").
func WritePeriod(w io.Writer, format string, p *PeriodReport) error {
	switch format {
	case "md", "markdown", "":
		_, err := io.WriteString(w, periodMarkdown(p))
		if err != nil {
			return fmt.Errorf("report: write markdown: %w", err)
		}
		return nil
	case "html":
		if err := periodTmpl.Execute(w, p); err != nil {
			return fmt.Errorf("report: write html: %w", err)
		}
		return nil
	case "json":
		return writeJSON(w, p)
	}
	return fmt.Errorf("report: unknown format %q (want md, html or json)", format)
}

func incidentText(m map[string]int) string {
	var parts []string
	for _, k := range []lifecycle.EventKind{lifecycle.EventDestroyed, lifecycle.EventExtortion, lifecycle.EventCanary} {
		parts = append(parts, fmt.Sprintf("%d %s", m[string(k)], k))
	}
	return strings.Join(parts, ", ")
}

func periodMarkdown(p *PeriodReport) string {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f("# Exposure report: scope %s, %s – %s\n\n", md(or(p.Scope, "all scopes")), ts(p.Since), ts(p.Until))
	f("Generated %s by leakwatch (%s). Times: UTC. Clock: %s.\n\n", ts(p.GeneratedAt), PeriodSchema, md(p.Clock))
	t := p.Totals
	f("## Totals\n\n| | |\n|---|---:|\n")
	f("| Exposures | %d |\n| Still open | %d |\n| Closed | %d |\n| Critical | %d |\n", t.Exposures, t.StillOpen, t.Closed, t.Critical)
	f("| Records exposed | %s |\n| Records with personal data (estimate) | %s |\n", lifecycle.Count(t.Records), lifecycle.Count(t.PersonalRecords))
	f("| Distinct data subjects (interval) | %s–%s |\n| Time seen open (sum) | %s |\n", lifecycle.Count(t.SubjectsLow), lifecycle.Count(t.SubjectsHigh), t.Exposed.Text)
	f("| Incidents | %s |\n\n", incidentText(t.Incidents))
	if len(t.Classes) > 0 {
		f("Classes of data exposed: %s.\n\n", md(strings.Join(t.Classes, ", ")))
	}
	f("Method: %s.\n\n## Exposures\n\n", md(t.Method))
	f("| Finding | Target | Service | Status | Severity | First seen open | Last seen open | Closed | Seen open | Records | Personal | Subjects | Classes | Incidents |\n|---|---|---|---|---|---|---|---|---|---:|---:|---|---|---|\n")
	for _, e := range p.Exposures {
		f("| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s–%s | %s | %s |\n", md(short(e.ID)), md(targetName(e.Target)), md(e.Service),
			e.Status, e.Severity, ts(e.FirstSeenOpen), ts(e.LastSeenOpen), ts(e.ClosedAt), e.Exposed.Text,
			lifecycle.Count(e.Records), lifecycle.Count(e.PersonalRecords), lifecycle.Count(e.SubjectsLow), lifecycle.Count(e.SubjectsHigh),
			md(strings.Join(e.Classes, ", ")), strings.Join(e.Incidents, ", "))
	}
	if len(p.Exposures) == 0 {
		f("No exposure in this period.\n")
	}
	f("\nEach finding's full report: `leakwatch report ID`.\n")
	return b.String()
}

func short(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

var periodTmpl = template.Must(template.New("period").Funcs(template.FuncMap{
	"ts": ts, "n": func(n int64) string { return lifecycle.Count(n) }, "short": short, "target": targetName,
	"join": func(s []string, sep string) string { return strings.Join(s, sep) }, "inc": incidentText,
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Exposure report {{or .Scope "all scopes"}}</title>
<style>` + htmlCSS + `</style></head><body>
<h1>Exposure report: scope {{or .Scope "all scopes"}}, {{ts .Since}} – {{ts .Until}}</h1>
<p class="meta">Generated {{ts .GeneratedAt}} by leakwatch ({{.Schema}}). Times: UTC. Clock: {{.Clock}}.</p>
<h2>Totals</h2>
<table>
<tr><th>Exposures</th><td class="n">{{.Totals.Exposures}}</td></tr>
<tr><th>Still open</th><td class="n">{{.Totals.StillOpen}}</td></tr>
<tr><th>Closed</th><td class="n">{{.Totals.Closed}}</td></tr>
<tr><th>Critical</th><td class="n">{{.Totals.Critical}}</td></tr>
<tr><th>Records exposed</th><td class="n">{{n .Totals.Records}}</td></tr>
<tr><th>Records with personal data (estimate)</th><td class="n">{{n .Totals.PersonalRecords}}</td></tr>
<tr><th>Distinct data subjects (interval)</th><td class="n">{{n .Totals.SubjectsLow}}–{{n .Totals.SubjectsHigh}}</td></tr>
<tr><th>Time seen open (sum)</th><td class="n">{{.Totals.Exposed.Text}}</td></tr>
<tr><th>Incidents</th><td>{{inc .Totals.Incidents}}</td></tr>
</table>
{{if .Totals.Classes}}<p>Classes of data exposed: {{join .Totals.Classes ", "}}.</p>{{end}}
<p class="meta">Method: {{.Totals.Method}}.</p>
<h2>Exposures</h2>
<table><tr><th>Finding</th><th>Target</th><th>Service</th><th>Status</th><th>Severity</th><th>First seen open</th><th>Last seen open</th><th>Closed</th><th>Seen open</th><th>Records</th><th>Personal</th><th>Subjects</th><th>Classes</th><th>Incidents</th></tr>
{{range .Exposures}}<tr><td><code>{{short .ID}}</code></td><td>{{target .Target}}</td><td>{{.Service}}</td><td>{{.Status}}</td><td>{{.Severity}}</td><td>{{ts .FirstSeenOpen}}</td><td>{{ts .LastSeenOpen}}</td><td>{{ts .ClosedAt}}</td><td>{{.Exposed.Text}}</td><td class="n">{{n .Records}}</td><td class="n">{{n .PersonalRecords}}</td><td class="n">{{n .SubjectsLow}}–{{n .SubjectsHigh}}</td><td>{{join .Classes ", "}}</td><td class="crit">{{join .Incidents ", "}}</td></tr>
{{else}}<tr><td colspan="14">No exposure in this period.</td></tr>{{end}}</table>
<p class="meta">Each finding's full report: leakwatch report ID.</p>
</body></html>
`))
