package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/output"
)

// Formats are the report formats.
var Formats = []string{"md", "html", "json"}

// Write renders r in format ("md"/"markdown", "html", "json").
func Write(w io.Writer, format string, r *Report) error {
	switch format {
	case "md", "markdown", "":
		return WriteMarkdown(w, r)
	case "html":
		return WriteHTML(w, r)
	case "json":
		return writeJSON(w, r)
	}
	return fmt.Errorf("report: unknown format %q (want md, html or json)", format)
}

// writeJSON writes v as indented JSON with every rune output.Unsafe names
// (terminal controls, bidi overrides in a path or a name) as a \u escape.
func writeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(true)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	if _, err := w.Write(output.EscapeUnsafeJSON(b.Bytes())); err != nil {
		return fmt.Errorf("report: write json: %w", err)
	}
	return nil
}

// md escapes text for Markdown (names come from targets: no markup, no
// HTML, no table breaks, no terminal controls — those are written as
// visible escapes, as finding.VisibleText does).
func md(s string) string {
	var b strings.Builder
	for _, c := range s {
		if c != '\n' && c != '\r' && finding.Unsafe(c) {
			b.WriteString(finding.VisibleText(string(c)))
			continue
		}
		switch c {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '!', '{', '}':
			b.WriteByte('\\')
			b.WriteRune(c)
		case '\n', '\r':
			b.WriteByte(' ')
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func count(p *int64) string {
	if p == nil {
		return "unknown"
	}
	return lifecycle.Count(*p)
}

// WriteMarkdown renders the report as Markdown.
func WriteMarkdown(w io.Writer, r *Report) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	f := r.Finding
	p("# Incident report: %s on %s\n\n", md(f.Service), md(targetName(f.Target)))
	p("Finding `%s` · scope %s · status **%s** · severity **%s**  \n", md(f.ID), md(or(f.Scope, "—")), f.Status, f.Severity)
	p("Generated %s by leakwatch (%s).  \n", ts(r.GeneratedAt), Schema)
	p("Times: UTC. Clock: %s.\n\n", md(r.Clock))

	p("## 1. Nature of the breach — Art. 33(3)(a)\n\n")
	for _, s := range r.Nature {
		p("%s\n\n", md(s))
	}

	p("## 2. Exposure window — Art. 33(5)\n\n")
	wn := r.Window
	p("| | UTC |\n|---|---|\n")
	p("| First seen open | %s |\n| Last seen open | %s |\n", ts(wn.FirstSeenOpen), ts(wn.LastSeenOpen))
	if wn.Open {
		p("| Closed | **still open** at the last check (%s) |\n", ts(wn.LastCheck))
	} else {
		p("| Closed (first closing check) | %s |\n", ts(wn.ClosedAt))
	}
	p("| Seen open for (lower bound) | %s |\n| Open at most (since first seen) | %s |\n", wn.Exposed.Text, wn.UpperBound.Text)
	p("| Reopened | %d times |\n| Checks recorded | %s |\n\n", wn.Reopens, lifecycle.Count(int64(wn.Observations)))
	for i, per := range wn.Periods {
		p("**Period %d** — %s %s, last seen open %s", i+1, per.OpenedBy, ts(per.Opened), ts(per.LastSeenOpen))
		switch {
		case !per.Closed.IsZero():
			p(", closed %s.\n\n", ts(per.Closed))
			p("Proof of closing:\n\n")
			for _, pr := range per.Proof {
				id := ""
				if pr.ObservationID != 0 {
					id = fmt.Sprintf(" (observation %d)", pr.ObservationID)
				}
				p("- %s — %s: %s%s\n", ts(pr.At), pr.Outcome, md(pr.Explanation), id)
			}
			p("\n")
		case !per.OutOfScope.IsZero():
			p(", monitoring stopped %s (endpoint left the scope; not seen closed).\n\n", ts(per.OutOfScope))
		default:
			p(", still open.\n\n")
		}
	}
	p("Checks (consecutive identical checks merged):\n\n")
	p("| From | To | Checks | Outcome | Auth | Records | Datasets | Classes |\n|---|---|---:|---|---|---:|---:|---|\n")
	for _, o := range r.Observations {
		out := string(o.Outcome)
		if o.Reason != "" {
			out += " (" + o.Reason + ")"
		}
		p("| %s | %s | %d | %s | %s | %s | %d | %s |\n", ts(o.From), ts(o.To), o.Count, md(out), o.Auth,
			lifecycle.Count(o.Records), o.Datasets, md(strings.Join(o.Classes, ", ")))
	}
	p("\n")

	p("## 3. Categories of personal data and of data subjects — Art. 33(3)(a)\n\n")
	if len(r.Categories) == 0 {
		p("No class of personal data was recognised in the samples.\n\n")
	} else {
		p("| Class | Data | Datasets | Records with it (95 %% interval) | Distinct subjects | Sample (matched/sampled) | Masked examples |\n|---|---|---|---|---:|---|---|\n")
		for _, c := range r.Categories {
			label := c.Label
			if c.Sensitive {
				label += " ⚠"
			}
			p("| %s | %s | %s | %s (%s–%s) | %s | %d/%d (%s) | %s |\n", c.Class, md(label), md(strings.Join(c.Datasets, ", ")),
				count(c.EstimatedRecords), count(c.Low), count(c.High), count(c.DistinctSubjects), c.Matched, c.Sampled, c.Source,
				md(strings.Join(c.Examples, ", ")))
		}
		p("\n⚠ high-risk on its own (credentials, payment data, identifiers, location).\n\n")
	}
	p("Categories of data subjects (suggested from the data; the controller confirms):\n\n")
	for _, s := range r.SubjectCategories {
		p("- %s\n", md(s))
	}
	p("\n## 4. Approximate numbers — Art. 33(3)(a)\n\n")
	n := r.Numbers
	p("| | Number | Interval | Method |\n|---|---:|---|---|\n")
	p("| Records in the store | %s | exact as reported | %s |\n", lifecycle.Count(n.Records), md(n.RecordsMethod))
	p("| Records with personal data | %s | %s–%s (95 %%) | %s |\n", lifecycle.Count(n.PersonalRecords),
		lifecycle.Count(n.PersonalRecordsLow), lifecycle.Count(n.PersonalRecordsHigh), md(n.PersonalMethod))
	p("| Distinct data subjects | %s | %s–%s | %s |\n\n", lifecycle.Count(n.Subjects), lifecycle.Count(n.SubjectsLow),
		lifecycle.Count(n.SubjectsHigh), md(n.SubjectsMethod))
	p("Datasets, each at its largest observed size:\n\n| Dataset | Kind | Records | Seen | Classes | Note |\n|---|---|---:|---|---|---|\n")
	for _, d := range r.Datasets {
		note := strings.Join(d.Flags, ", ")
		if d.Gone {
			note = strings.TrimPrefix(note+", gone by the last check", ", ")
		}
		p("| %s | %s | %s | %s | %s | %s |\n", md(d.Name), md(d.Kind), count(d.Records), ts(d.SeenAt), md(strings.Join(d.Classes, ", ")), md(note))
	}
	p("\n## 5. Access, destruction and extortion evidence — Art. 33(5)\n\n")
	a := r.Access
	if a.Measured {
		p("Access was measured: %s\n\n", md(or(a.Method, "from the store's own counters")))
		p("- Requests by clients other than leakwatch: %s\n- Connections by others: %s\n", count(a.ForeignQueries), count(a.ForeignConnections))
		if len(a.Clients) > 0 {
			p("- Other client addresses seen: %s\n", md(strings.Join(a.Clients, ", ")))
		}
		for _, iv := range a.Intervals {
			p("- %s: %s\n", ts(iv.At), md(iv.Summary))
		}
		p("\n")
	} else {
		p("Access by others: **not measured** — %s.\n\n", md(a.Why))
	}
	p("Limits of this evidence:\n\n")
	for _, l := range a.Limits {
		p("- %s\n", md(l))
	}
	p("\n")
	if len(r.Incidents) == 0 {
		p("No destruction, extortion or canary event was recorded.\n\n")
	} else {
		p("| At | Event | Severity | What |\n|---|---|---|---|\n")
		for _, e := range r.Incidents {
			p("| %s | %s | %s | %s |\n", ts(e.At), e.Kind, e.Severity, md(e.Incident.Summary(e.Kind)))
		}
		p("\n")
	}
	p("## 6. Likely consequences — Art. 33(3)(c)\n\n")
	if len(r.Consequences) == 0 {
		p("None derived: no class of personal data was recognised.\n\n")
	} else {
		p("| Because of | Likely consequence |\n|---|---|\n")
		for _, c := range r.Consequences {
			p("| %s | %s |\n", strings.Join(c.Classes, " + "), md(c.Consequence))
		}
		p("\n")
	}
	p("## 7. Measures taken or proposed — Art. 33(3)(d)\n\n")
	m := r.Measures
	if m.Closure != nil {
		p("- Closed: from %s the store no longer answered without credentials; proven by %d consecutive checks (section 2).\n", ts(m.Closure.Closed), len(m.Closure.Proof))
	} else if r.Window.Open {
		p("- **Not closed**: the store was still open at the last check.\n")
	}
	for _, s := range m.Taken {
		p("- %s\n", md(s))
	}
	if len(m.Taken) == 0 {
		p("- (no further measures recorded: pass `--measure` or set `report.measures`)\n")
	}
	p("\nController: %s  \nData-protection officer (Art. 33(3)(b)): %s\n\n", md(or(m.Controller, "(not given)")), md(or(m.DPO, "(not given: pass --dpo or set report.dpo)")))
	p("## 8. What we cannot know\n\n")
	for _, s := range r.CannotKnow {
		p("- %s\n", md(s))
	}
	p("\n## 9. Timeline of events — Art. 33(5)\n\n| At | Event | Severity | Summary |\n|---|---|---|---|\n")
	for _, e := range r.Events {
		p("| %s | %s | %s | %s |\n", ts(e.At), e.Kind, e.Severity, md(e.Summary))
	}
	p("\nNo raw value of the store appears in this report: examples are masked, and keyed hashes (HMAC with this installation's key) identify values without revealing them.\n")
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("report: write markdown: %w", err)
	}
	return nil
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
