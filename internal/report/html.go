package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// Chart is the exposure timeline as SVG primitives (coordinates in px).
type Chart struct {
	W, H   int
	Bands  []Rect
	Lines  []Line
	Points string // records polyline
	Dots   []Dot
	Labels []Text
}

type (
	Rect struct {
		X, Y, W, H float64
		Class      string
		Title      string
	}
	Line struct {
		X1, Y1, X2, Y2 float64
		Class          string
		Title          string
	}
	Dot struct {
		X, Y  float64
		Class string
		Title string
	}
	Text struct {
		X, Y   float64
		Anchor string
		Class  string
		S      string
	}
)

// BuildChart lays out the exposure timeline: open periods as red bands,
// the store's record count as a line, each run of checks as a dot
// (red exposed, green protected/gone, grey inconclusive), incidents and
// closings as vertical markers.
func BuildChart(r *Report) Chart {
	const w, h, left, right, top, bottom = 760, 240, 70, 20, 24, 46
	c := Chart{W: w, H: h}
	if len(r.Observations) == 0 {
		return c
	}
	t0, t1 := r.Observations[0].From, r.Observations[len(r.Observations)-1].To
	if !r.Window.FirstSeenOpen.IsZero() && r.Window.FirstSeenOpen.Before(t0) {
		t0 = r.Window.FirstSeenOpen
	}
	if t1.Sub(t0) <= 0 {
		t1 = t0.Add(time.Minute)
	}
	pad := t1.Sub(t0) / 40
	t0, t1 = t0.Add(-pad), t1.Add(pad)
	var maxRec int64 = 1
	for _, o := range r.Observations {
		maxRec = max(maxRec, o.Records)
	}
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	x := func(t time.Time) float64 {
		return float64(left) + pw*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(n int64) float64 { return float64(top) + ph - ph*float64(n)/float64(maxRec) }
	// axes
	c.Lines = append(c.Lines, Line{X1: left, Y1: top + ph, X2: left + pw, Y2: top + ph, Class: "axis"},
		Line{X1: left, Y1: top, X2: left, Y2: top + ph, Class: "axis"})
	c.Labels = append(c.Labels,
		Text{X: left - 6, Y: top + ph + 4, Anchor: "end", Class: "tick", S: "0"},
		Text{X: left - 6, Y: top + 4, Anchor: "end", Class: "tick", S: lifecycle.Count(maxRec)},
		Text{X: left, Y: h - 22, Anchor: "start", Class: "tick", S: t0.UTC().Format("2006-01-02 15:04:05Z")},
		Text{X: left + pw, Y: h - 22, Anchor: "end", Class: "tick", S: t1.UTC().Format("2006-01-02 15:04:05Z")},
		Text{X: 12, Y: top - 8, Anchor: "start", Class: "tick", S: "records"},
		Text{X: left + pw/2, Y: h - 6, Anchor: "middle", Class: "tick", S: "time (UTC) · red band: open · dots: checks · markers: incidents and closing"},
	)
	for _, p := range r.Window.Periods {
		end := p.Closed
		if end.IsZero() {
			end = p.OutOfScope
		}
		if end.IsZero() {
			end = r.Window.LastCheck
		}
		c.Bands = append(c.Bands, Rect{X: x(p.Opened), Y: top, W: max(1, x(end)-x(p.Opened)), H: ph, Class: "open",
			Title: fmt.Sprintf("%s %s – %s", p.OpenedBy, ts(p.Opened), ts(end))})
		if !p.Closed.IsZero() {
			c.Lines = append(c.Lines, Line{X1: x(p.Closed), Y1: top, X2: x(p.Closed), Y2: top + ph, Class: "closed", Title: "closed " + ts(p.Closed)})
			c.Labels = append(c.Labels, Text{X: x(p.Closed) + 3, Y: top + ph - 4, Anchor: "start", Class: "lclosed", S: "closed"})
		}
	}
	var pts []string
	for _, o := range r.Observations {
		cls := "unknown"
		switch o.Outcome {
		case lifecycle.OutcomeExposed:
			cls = "exposed"
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(o.From), y(o.Records), x(o.To), y(o.Records)))
		case lifecycle.OutcomeProtected, lifecycle.OutcomeGone:
			cls = "shut"
		}
		yy := top + ph
		if o.Outcome == lifecycle.OutcomeExposed {
			yy = y(o.Records)
		}
		c.Dots = append(c.Dots, Dot{X: x(o.From), Y: yy, Class: cls,
			Title: fmt.Sprintf("%s: %d × %s, %s records", ts(o.From), o.Count, o.Outcome, lifecycle.Count(o.Records))})
	}
	c.Points = strings.Join(pts, " ")
	for i, e := range r.Incidents {
		xx := x(e.At)
		c.Lines = append(c.Lines, Line{X1: xx, Y1: top, X2: xx, Y2: top + ph, Class: "incident", Title: e.Summary})
		c.Labels = append(c.Labels, Text{X: xx + 3, Y: top + 12 + float64(i%3)*12, Anchor: "start", Class: "lincident", S: string(e.Kind)})
	}
	return c
}

var htmlTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"ts": ts, "count": count, "n": func(n int64) string { return lifecycle.Count(n) }, "target": targetName,
	"ni":   func(n int) string { return lifecycle.Count(int64(n)) },
	"join": func(s []string, sep string) string { return strings.Join(s, sep) },
	"f1":   func(f float64) string { return fmt.Sprintf("%.1f", f) },
	"isum": func(e EventRow) string {
		if e.Incident == nil {
			return e.Summary
		}
		return e.Incident.Summary(e.Kind)
	},
}).Parse(htmlSource))

// htmlView is what the template reads.
type htmlView struct {
	*Report
	Chart Chart
}

// WriteHTML renders the report as one self-contained HTML page: inline
// CSS (print-friendly), the timeline as inline SVG, no script, no
// external resource.
func WriteHTML(w io.Writer, r *Report) error {
	if err := htmlTmpl.Execute(w, htmlView{Report: r, Chart: BuildChart(r)}); err != nil {
		return fmt.Errorf("report: write html: %w", err)
	}
	return nil
}

const htmlCSS = `
body{font:14px/1.45 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1d1d1f;max-width:980px;margin:24px auto;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:3px}
.meta{color:#555;font-size:12px}table{border-collapse:collapse;width:100%;margin:8px 0;font-size:12.5px}
th,td{border:1px solid #ccc;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f2f2f2}
td.n{text-align:right;white-space:nowrap}.crit{color:#b00020;font-weight:600}.ok{color:#1b7f3b;font-weight:600}
.ex{font-family:"DejaVu Sans Mono",monospace;font-size:11.5px}ul{margin:4px 0 8px}
svg{width:100%;height:auto;border:1px solid #ddd;background:#fff}
svg .axis{stroke:#333;stroke-width:1}svg .open{fill:#f8d7da}svg .closed{stroke:#1b7f3b;stroke-width:2}
svg .incident{stroke:#b00020;stroke-width:2;stroke-dasharray:4 3}svg .records{fill:none;stroke:#333;stroke-width:1.5}
svg .exposed{fill:#b00020}svg .shut{fill:#1b7f3b}svg .unknown{fill:#999}
svg text{font-size:11px;fill:#333}svg .lincident{fill:#b00020;font-weight:600}svg .lclosed{fill:#1b7f3b;font-weight:600}
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}table,svg{break-inside:avoid}}
`

const htmlSource = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident report: {{.Finding.Service}} on {{target .Finding.Target}}</title>
<style>` + htmlCSS + `</style></head>
<body>
<h1>Incident report: {{.Finding.Service}} on {{target .Finding.Target}}</h1>
<p class="meta">Finding <code>{{.Finding.ID}}</code> · scope {{or .Finding.Scope "—"}} · status <b>{{.Finding.Status}}</b> · severity <b>{{.Finding.Severity}}</b><br>
Generated {{ts .GeneratedAt}} by leakwatch ({{.Schema}}). Times: UTC. Clock: {{.Clock}}.</p>

<h2>1. Nature of the breach — Art. 33(3)(a)</h2>
{{range .Nature}}<p>{{.}}</p>
{{end}}
<h2>2. Exposure window — Art. 33(5)</h2>
<svg viewBox="0 0 {{.Chart.W}} {{.Chart.H}}" role="img" aria-label="exposure timeline">
{{range .Chart.Bands}}<rect x="{{f1 .X}}" y="{{f1 .Y}}" width="{{f1 .W}}" height="{{f1 .H}}" class="{{.Class}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Chart.Lines}}<line x1="{{f1 .X1}}" y1="{{f1 .Y1}}" x2="{{f1 .X2}}" y2="{{f1 .Y2}}" class="{{.Class}}">{{if .Title}}<title>{{.Title}}</title>{{end}}</line>
{{end}}{{if .Chart.Points}}<polyline points="{{.Chart.Points}}" class="records"/>
{{end}}{{range .Chart.Dots}}<circle cx="{{f1 .X}}" cy="{{f1 .Y}}" r="3.5" class="{{.Class}}"><title>{{.Title}}</title></circle>
{{end}}{{range .Chart.Labels}}<text x="{{f1 .X}}" y="{{f1 .Y}}" text-anchor="{{.Anchor}}" class="{{.Class}}">{{.S}}</text>
{{end}}</svg>
<table>
<tr><th>First seen open</th><td>{{ts .Window.FirstSeenOpen}}</td></tr>
<tr><th>Last seen open</th><td>{{ts .Window.LastSeenOpen}}</td></tr>
<tr><th>Closed (first closing check)</th><td>{{if .Window.Open}}<span class="crit">still open</span> at the last check ({{ts .Window.LastCheck}}){{else}}<span class="ok">{{ts .Window.ClosedAt}}</span>{{end}}</td></tr>
<tr><th>Seen open for (lower bound)</th><td>{{.Window.Exposed.Text}}</td></tr>
<tr><th>Open at most (since first seen)</th><td>{{.Window.UpperBound.Text}}</td></tr>
<tr><th>Reopened</th><td>{{.Window.Reopens}} times</td></tr>
<tr><th>Checks recorded</th><td>{{ni .Window.Observations}}</td></tr>
</table>
{{range $i, $p := .Window.Periods}}<p><b>Period</b> {{$p.OpenedBy}} {{ts $p.Opened}}, last seen open {{ts $p.LastSeenOpen}}{{if not $p.Closed.IsZero}}, closed <span class="ok">{{ts $p.Closed}}</span>. Proof of closing:</p>
<ul>{{range $p.Proof}}<li>{{ts .At}} — {{.Outcome}}: {{.Explanation}}{{if .ObservationID}} (observation {{.ObservationID}}){{end}}</li>{{end}}</ul>
{{else if not $p.OutOfScope.IsZero}}, monitoring stopped {{ts $p.OutOfScope}} (endpoint left the scope; not seen closed).</p>
{{else}}, <span class="crit">still open</span>.</p>
{{end}}{{end}}
<table><tr><th>From</th><th>To</th><th>Checks</th><th>Outcome</th><th>Auth</th><th>Records</th><th>Datasets</th><th>Classes</th></tr>
{{range .Observations}}<tr><td>{{ts .From}}</td><td>{{ts .To}}</td><td class="n">{{.Count}}</td><td>{{.Outcome}}{{if .Reason}} ({{.Reason}}){{end}}</td><td>{{.Auth}}</td><td class="n">{{n .Records}}</td><td class="n">{{.Datasets}}</td><td>{{join .Classes ", "}}</td></tr>
{{end}}</table>

<h2>3. Categories of personal data and of data subjects — Art. 33(3)(a)</h2>
{{if .Categories}}<table><tr><th>Class</th><th>Data</th><th>Datasets</th><th>Records with it (95 % interval)</th><th>Distinct subjects</th><th>Sample</th><th>Masked examples</th></tr>
{{range .Categories}}<tr><td>{{.Class}}</td><td>{{.Label}}{{if .Sensitive}} <span class="crit">⚠</span>{{end}}</td><td>{{join .Datasets ", "}}</td><td class="n">{{count .EstimatedRecords}} ({{count .Low}}–{{count .High}})</td><td class="n">{{count .DistinctSubjects}}</td><td>{{.Matched}}/{{.Sampled}} ({{.Source}})</td><td class="ex">{{join .Examples ", "}}</td></tr>
{{end}}</table><p class="meta">⚠ high-risk on its own (credentials, payment data, identifiers, location).</p>
{{else}}<p>No class of personal data was recognised in the samples.</p>{{end}}
<p>Categories of data subjects (suggested from the data; the controller confirms):</p>
<ul>{{range .SubjectCategories}}<li>{{.}}</li>{{end}}</ul>

<h2>4. Approximate numbers — Art. 33(3)(a)</h2>
<table><tr><th></th><th>Number</th><th>Interval</th><th>Method</th></tr>
<tr><th>Records in the store</th><td class="n">{{n .Numbers.Records}}</td><td>exact as reported</td><td>{{.Numbers.RecordsMethod}}</td></tr>
<tr><th>Records with personal data</th><td class="n">{{n .Numbers.PersonalRecords}}</td><td>{{n .Numbers.PersonalRecordsLow}}–{{n .Numbers.PersonalRecordsHigh}} (95 %)</td><td>{{.Numbers.PersonalMethod}}</td></tr>
<tr><th>Distinct data subjects</th><td class="n">{{n .Numbers.Subjects}}</td><td>{{n .Numbers.SubjectsLow}}–{{n .Numbers.SubjectsHigh}}</td><td>{{.Numbers.SubjectsMethod}}</td></tr>
</table>
<table><tr><th>Dataset</th><th>Kind</th><th>Records (largest seen)</th><th>Seen</th><th>Classes</th><th>Note</th></tr>
{{range .Datasets}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td class="n">{{count .Records}}</td><td>{{ts .SeenAt}}</td><td>{{join .Classes ", "}}</td><td>{{join .Flags ", "}}{{if .Gone}} <span class="crit">gone by the last check</span>{{end}}</td></tr>
{{end}}</table>

<h2>5. Access, destruction and extortion evidence — Art. 33(5)</h2>
{{if .Access.Measured}}<p>Access was measured: {{or .Access.Method "from the store's own counters"}}</p>
<ul><li>Requests by clients other than leakwatch: {{count .Access.ForeignQueries}}</li><li>Connections by others: {{count .Access.ForeignConnections}}</li>
{{if .Access.Clients}}<li>Other client addresses seen: {{join .Access.Clients ", "}}</li>{{end}}
{{range .Access.Intervals}}<li>{{ts .At}}: {{.Summary}}</li>{{end}}</ul>
{{else}}<p>Access by others: <b>not measured</b> — {{.Access.Why}}.</p>{{end}}
<p>Limits of this evidence:</p><ul>{{range .Access.Limits}}<li>{{.}}</li>{{end}}</ul>
{{if .Incidents}}<table><tr><th>At</th><th>Event</th><th>Severity</th><th>What</th></tr>
{{range .Incidents}}<tr><td>{{ts .At}}</td><td class="crit">{{.Kind}}</td><td>{{.Severity}}</td><td>{{isum .}}</td></tr>
{{end}}</table>{{else}}<p>No destruction, extortion or canary event was recorded.</p>{{end}}

<h2>6. Likely consequences — Art. 33(3)(c)</h2>
{{if .Consequences}}<table><tr><th>Because of</th><th>Likely consequence</th></tr>
{{range .Consequences}}<tr><td>{{join .Classes " + "}}</td><td>{{.Consequence}}</td></tr>
{{end}}</table>{{else}}<p>None derived: no class of personal data was recognised.</p>{{end}}

<h2>7. Measures taken or proposed — Art. 33(3)(d)</h2>
<ul>{{with .Measures.Closure}}<li>Closed: from {{ts .Closed}} the store no longer answered without credentials; proven by {{len .Proof}} consecutive checks (section 2).</li>{{else}}{{if .Window.Open}}<li class="crit">Not closed: the store was still open at the last check.</li>{{end}}{{end}}
{{range .Measures.Taken}}<li>{{.}}</li>{{else}}<li>(no further measures recorded)</li>{{end}}</ul>
<p>Controller: {{or .Measures.Controller "(not given)"}}<br>Data-protection officer (Art. 33(3)(b)): {{or .Measures.DPO "(not given)"}}</p>

<h2>8. What we cannot know</h2>
<ul>{{range .CannotKnow}}<li>{{.}}</li>{{end}}</ul>

<h2>9. Timeline of events — Art. 33(5)</h2>
<table><tr><th>At</th><th>Event</th><th>Severity</th><th>Summary</th></tr>
{{range .Events}}<tr><td>{{ts .At}}</td><td>{{.Kind}}</td><td>{{.Severity}}</td><td>{{.Summary}}</td></tr>
{{end}}</table>
<p class="meta">No raw value of the store appears in this report: examples are masked, and keyed hashes (HMAC with this installation's key) identify values without revealing them.</p>
</body></html>
`
