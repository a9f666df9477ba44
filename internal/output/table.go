package output

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Cell width caps for text that comes from scanned servers.
const (
	maxVersionWidth = 24
	maxNameWidth    = 48
	topClassCount   = 4
)

// ANSI styles.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiBoldRed = "\x1b[1;31m"
	ansiGreen   = "\x1b[32m"
	ansiYellow  = "\x1b[33m"
	ansiCyan    = "\x1b[36m"
)

// TableWriter collects findings and prints them as an aligned table with a
// summary line on Close. It is safe for concurrent use.
type TableWriter struct {
	mu       sync.Mutex
	w        io.Writer
	opts     Options
	findings []finding.Finding
	closed   bool
}

var _ Writer = (*TableWriter)(nil)

// NewTableWriter prints a table to w on Close.
func NewTableWriter(w io.Writer, opts Options) *TableWriter {
	return &TableWriter{w: w, opts: opts}
}

// Write keeps f for the table.
func (tw *TableWriter) Write(f finding.Finding) error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.closed {
		return fmt.Errorf("output: table: write after close")
	}
	tw.findings = append(tw.findings, normalizeProtected(f))
	return nil
}

// Close prints the table, the optional dataset details and the summary.
func (tw *TableWriter) Close() error {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.closed {
		return nil
	}
	tw.closed = true
	bw := bufio.NewWriter(tw.w)
	renderTable(bw, tw.findings, tw.opts)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("output: write table: %w", err)
	}
	return nil
}

// WriteTable prints findings as a table.
func WriteTable(w io.Writer, findings []finding.Finding, opts Options) error {
	return WriteAll(FormatTable, w, opts, findings)
}

func renderTable(w io.Writer, fs []finding.Finding, opts Options) {
	p := painter(opts.Color)
	if len(fs) == 0 {
		fmt.Fprintln(w, p(ansiDim, "no data stores found"))
		return
	}
	fs = sortFindings(fs)
	t := grid{
		header: []string{"TARGET", "SERVICE", "VERSION", "STATUS", "AUTH", "DATASETS", "RECORDS", "TOP CLASSES", "SEVERITY"},
		right:  map[int]bool{5: true, 6: true},
	}
	for i := range fs {
		t.rows = append(t.rows, tableRow(&fs[i]))
	}
	t.render(w, "", p)
	if opts.Verbose {
		for i := range fs {
			fmt.Fprintln(w)
			var b strings.Builder
			f := &fs[i]
			if err := protect(f, func() error { renderDetails(&b, *f, p); return nil }); err != nil {
				b.Reset()
				ef := errorFinding(f, err)
				fmt.Fprintln(&b, p(ansiBold, clean(ef.Target.Name(), 0))+" · "+dash(clean(ef.Service, maxVersionWidth)))
				fmt.Fprintln(&b, "  id "+clean(ef.ID, 0)+"  error: "+clean(ef.Error, 0))
			}
			io.WriteString(w, b.String())
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, summaryLine(fs))
}

// tableRow renders one finding's row; a finding that cannot be rendered
// gets a row from its error record instead (see FlagWriteError).
func tableRow(f *finding.Finding) []cell {
	var row []cell
	err := protect(f, func() error {
		row = []cell{
			{text: clean(f.Target.Name(), 0)},
			{text: serviceCell(*f)},
			{text: dash(clean(f.Version, maxVersionWidth))},
			{text: dash(string(f.Status)), style: statusStyle(f.Status)},
			{text: dash(string(f.Auth)), style: authStyle(f.Auth)},
			{text: datasetsCell(*f)},
			{text: recordsCell(*f)},
			{text: topClassesCell(*f)},
			{text: dash(string(f.Severity)), style: severityStyle(f.Severity)},
		}
		return nil
	})
	if err == nil {
		return row
	}
	ef := errorFinding(f, err)
	return []cell{
		{text: clean(ef.Target.Name(), 0)},
		{text: dash(clean(ef.Service, maxVersionWidth))},
		{text: "-"},
		{text: dash(string(ef.Status)), style: statusStyle(ef.Status)},
		{text: dash(string(ef.Auth)), style: authStyle(ef.Auth)},
		{text: "-"},
		{text: "?"},
		{text: clean(ef.Error, maxNameWidth)},
		{text: dash(string(ef.Severity)), style: severityStyle(ef.Severity)},
	}
}

func serviceCell(f finding.Finding) string {
	s := clean(f.Service, maxVersionWidth)
	if f.Product != "" && f.Product != f.Service {
		s += " (" + clean(f.Product, maxVersionWidth) + ")"
	}
	if f.TLS {
		s += "+tls"
	}
	return dash(s)
}

func datasetsCell(f finding.Finding) string {
	if len(f.Datasets) == 0 {
		return "-"
	}
	return strconv.Itoa(len(f.Datasets))
}

func recordsCell(f finding.Finding) string {
	if len(f.Datasets) == 0 {
		return "-"
	}
	total, unknown := recordTotals(f)
	switch {
	case unknown && total == 0:
		return "?"
	case unknown:
		return humanCount(total) + "+"
	}
	return humanCount(total)
}

func topClassesCell(f finding.Finding) string {
	ts := classTotals(f)
	if len(ts) == 0 {
		return "-"
	}
	names := make([]string, 0, topClassCount)
	for i, t := range ts {
		if i == topClassCount {
			break
		}
		names = append(names, clean(t.Class, maxVersionWidth))
	}
	s := strings.Join(names, ", ")
	if len(ts) > topClassCount {
		s += fmt.Sprintf(" +%d", len(ts)-topClassCount)
	}
	return s
}

// summaryLine: "3 services: 1 exposed (critical), 1 protected; 2.40M records exposed".
func summaryLine(fs []finding.Finding) string {
	var exposed, protected, unknown int
	bySeverity := map[finding.Severity]int{}
	var records int64
	var recordsUnknown bool
	for _, f := range fs {
		switch f.Status {
		case finding.StatusExposed:
			exposed++
			bySeverity[f.Severity]++
			n, u := recordTotals(f)
			records = finding.SatAdd(records, n)
			recordsUnknown = recordsUnknown || u
		case finding.StatusProtected:
			protected++
		default:
			unknown++
		}
	}
	var b strings.Builder
	what, whats := "service", "services"
	if allFiles(fs) {
		what, whats = "file", "files"
	}
	fmt.Fprintf(&b, "%s: %d exposed", plural(len(fs), what, whats), exposed)
	if exposed > 0 {
		var parts []string
		for _, s := range []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow, finding.SeverityInfo} {
			if n := bySeverity[s]; n > 0 {
				if exposed == n {
					parts = append(parts, string(s))
				} else {
					parts = append(parts, fmt.Sprintf("%d %s", n, s))
				}
			}
		}
		if len(parts) > 0 {
			b.WriteString(" (" + strings.Join(parts, ", ") + ")")
		}
	}
	if protected > 0 {
		fmt.Fprintf(&b, ", %d protected", protected)
	}
	if unknown > 0 {
		fmt.Fprintf(&b, ", %d unknown", unknown)
	}
	if exposed > 0 {
		b.WriteString("; ")
		if recordsUnknown {
			b.WriteString("at least ")
		}
		b.WriteString(plural64(records, "record", "records") + " exposed")
	}
	return b.String()
}

// allFiles tells whether every finding is about a local file
// (leakwatch classify), which the summary then counts as files.
func allFiles(fs []finding.Finding) bool {
	for _, f := range fs {
		if !f.Target.IsFile() {
			return false
		}
	}
	return len(fs) > 0
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func plural64(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return humanCountPrecise(n) + " " + many
}

// renderDetails lists one finding's datasets for verbose output.
func renderDetails(w io.Writer, f finding.Finding, p func(string, string) string) {
	head := []string{p(ansiBold, clean(f.Target.Name(), 0)), dash(clean(f.Service, maxVersionWidth))}
	if v := productVersion(f); v != "" {
		head = append(head, clean(v, 2*maxVersionWidth))
	}
	head = append(head,
		p(statusStyle(f.Status), string(f.Status))+" (auth "+string(f.Auth)+")",
		p(severityStyle(f.Severity), string(f.Severity)))
	fmt.Fprintln(w, strings.Join(head, " · "))
	meta := []string{"id " + clean(f.ID, 0)}
	if f.Target.Hostname != "" {
		meta = append(meta, "hostname "+clean(f.Target.Hostname, maxNameWidth))
	}
	if f.TLS {
		meta = append(meta, "tls")
	}
	if !f.ObservedAt.IsZero() {
		meta = append(meta, "observed "+f.ObservedAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w, "  "+strings.Join(meta, "  "))
	if len(f.Flags) > 0 {
		fmt.Fprintln(w, "  flags: "+cleanList(f.Flags))
	}
	if f.Error != "" {
		fmt.Fprintln(w, "  error: "+clean(f.Error, 200))
	}
	if len(f.Datasets) == 0 {
		fmt.Fprintln(w, "  "+p(ansiDim, "no datasets listed"))
		return
	}
	t := grid{
		header: []string{"DATASET", "KIND", "RECORDS", "BYTES", "SAMPLED", "CLASSES (estimated records)"},
		right:  map[int]bool{2: true, 3: true, 4: true},
	}
	for _, d := range f.Datasets {
		name := clean(d.Name, maxNameWidth)
		if d.Hidden {
			name += " (hidden)"
		}
		if len(d.Flags) > 0 {
			name += " [" + cleanList(d.Flags) + "]"
		}
		records, bytes := "?", "-"
		if d.Records != nil {
			records = groupDigits(*d.Records)
		}
		if d.Bytes != nil {
			bytes = humanBytes(*d.Bytes)
		}
		t.rows = append(t.rows, []cell{
			{text: name}, {text: dash(clean(d.Kind, maxVersionWidth))},
			{text: records}, {text: bytes}, {text: strconv.Itoa(d.Sampled)},
			{text: datasetClasses(d)},
		})
	}
	t.render(w, "  ", p)
}

// datasetClasses: "email ~2.39M, username ~2.40M, wifi_ssid 3/200".
func datasetClasses(d finding.Dataset) string {
	if len(d.Classes) == 0 {
		return "-"
	}
	parts := make([]string, 0, len(d.Classes))
	for _, c := range d.Classes {
		s := clean(c.Class, maxVersionWidth)
		if c.EstimatedRecords != nil {
			s += " ~" + humanCountPrecise(*c.EstimatedRecords)
		} else {
			s += fmt.Sprintf(" %d/%d", c.Matched, c.Sampled)
		}
		if c.Source == "schema" {
			s += " (schema)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func cleanList(ss []string) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s, maxNameWidth)
	}
	return strings.Join(out, ", ")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statusStyle(s finding.Status) string {
	switch s {
	case finding.StatusExposed:
		return ansiRed
	case finding.StatusProtected:
		return ansiGreen
	}
	return ansiYellow
}

func authStyle(a finding.Auth) string {
	switch a {
	case finding.AuthNone, finding.AuthDefaultCredentials:
		return ansiRed
	case finding.AuthRequired:
		return ansiGreen
	}
	return ""
}

func severityStyle(s finding.Severity) string {
	switch s {
	case finding.SeverityCritical:
		return ansiBoldRed
	case finding.SeverityHigh:
		return ansiRed
	case finding.SeverityMedium:
		return ansiYellow
	case finding.SeverityLow:
		return ansiCyan
	}
	return ansiDim
}

// painter returns a function that wraps text in a style when color is on.
func painter(color bool) func(style, s string) string {
	if !color {
		return func(_, s string) string { return s }
	}
	return func(style, s string) string {
		if style == "" {
			return s
		}
		return style + s + ansiReset
	}
}

// cell is one table cell: plain text (its width is measured before any
// color is added) and an optional style.
type cell struct {
	text  string
	style string
}

// grid aligns cells in columns two spaces apart. It does its own padding
// (rather than text/tabwriter) so ANSI colors do not upset the widths.
type grid struct {
	header []string
	right  map[int]bool
	rows   [][]cell
}

func (g grid) render(w io.Writer, indent string, p func(string, string) string) {
	widths := make([]int, len(g.header))
	for i, h := range g.header {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range g.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	head := make([]cell, len(g.header))
	for i, h := range g.header {
		head[i] = cell{text: h, style: ansiBold}
	}
	g.line(w, indent, head, widths, p)
	for _, r := range g.rows {
		g.line(w, indent, r, widths, p)
	}
}

func (g grid) line(w io.Writer, indent string, cells []cell, widths []int, p func(string, string) string) {
	var b strings.Builder
	b.WriteString(indent)
	for i, c := range cells {
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text))
		last := i == len(cells)-1
		switch {
		case g.right[i]:
			b.WriteString(pad + p(c.style, c.text))
		case last:
			b.WriteString(p(c.style, c.text))
		default:
			b.WriteString(p(c.style, c.text) + pad)
		}
		if !last {
			b.WriteString("  ")
		}
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
}
