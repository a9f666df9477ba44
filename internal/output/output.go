// Package output renders findings for people and machines: an aligned
// terminal table, the leakwatch.finding/v1 JSONL contract, SARIF 2.1.0 for
// code-scanning dashboards and OCSF events for SIEMs.
//
// Every format goes through the same Writer: Write one finding at a time,
// then Close. JSONL and OCSF stream (each Write emits one line at once); the
// table and SARIF need the whole set (sorting, summary, one JSON document)
// and emit on Close. Close never closes the underlying io.Writer.
package output

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Format names an output format.
type Format int

const (
	// FormatTable is the aligned, human-readable terminal table.
	FormatTable Format = iota
	// FormatJSONL is the leakwatch.finding/v1 contract, one finding a line.
	FormatJSONL
	// FormatSARIF is one SARIF 2.1.0 log.
	FormatSARIF
	// FormatOCSF is OCSF Vulnerability Finding events, one a line.
	FormatOCSF
)

var formatNames = [...]string{
	FormatTable: "table",
	FormatJSONL: "jsonl",
	FormatSARIF: "sarif",
	FormatOCSF:  "ocsf",
}

// String is the name ParseFormat accepts.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("format(%d)", int(f))
}

// Formats lists the format names, for help texts.
func Formats() []string { return append([]string(nil), formatNames[:]...) }

// ParseFormat reads a format name (case-insensitive; "json" and "ndjson"
// are accepted for jsonl).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "table", "text":
		return FormatTable, nil
	case "jsonl", "json", "ndjson":
		return FormatJSONL, nil
	case "sarif":
		return FormatSARIF, nil
	case "ocsf":
		return FormatOCSF, nil
	}
	return 0, fmt.Errorf("output: unknown format %q (want %s)", s, strings.Join(Formats(), ", "))
}

// Options tune the writers.
type Options struct {
	// Color adds ANSI colors to the table (see ColorAuto).
	Color bool
	// Verbose lists every dataset under the table.
	Verbose bool
	// ToolVersion goes into SARIF tool.driver.version and OCSF
	// metadata.product.version ("dev" when empty).
	ToolVersion string
	// History gives a finding's exposure window from the monitoring
	// history, by finding id (nil, or no entry: the finding's own
	// observation is all that is known). SARIF results then carry
	// provenance.firstDetectionTimeUtc/lastDetectionTimeUtc and a
	// history fingerprint; OCSF finding_info first_seen_time/last_seen_time.
	History map[string]History
}

// History is one finding's exposure window from the monitoring history.
type History struct {
	// FirstSeen is when it was first seen exposed; LastSeenOpen the last
	// check that saw it exposed; ClosedAt the first closing check (zero
	// while open).
	FirstSeen    time.Time
	LastSeenOpen time.Time
	ClosedAt     time.Time
	// Status is the lifecycle status (open, changed, closed, reopened, …).
	Status string
}

// historyOf looks f up in the history.
func (o Options) historyOf(id string) (History, bool) {
	h, ok := o.History[id]
	return h, ok && !h.FirstSeen.IsZero()
}

func (o Options) toolVersion() string {
	if o.ToolVersion == "" {
		return "dev"
	}
	return o.ToolVersion
}

// Writer takes findings one at a time. Close flushes what a format buffers;
// it must be called once, after the last Write.
type Writer interface {
	Write(f finding.Finding) error
	Close() error
}

// New returns the writer for a format, writing to w. An unknown format
// gives a writer whose every call fails.
func New(format Format, w io.Writer, opts Options) Writer {
	switch format {
	case FormatTable:
		return NewTableWriter(w, opts)
	case FormatJSONL:
		return NewJSONLWriter(w)
	case FormatSARIF:
		return NewSARIFWriter(w, opts)
	case FormatOCSF:
		return NewOCSFWriter(w, opts)
	}
	return errWriter{fmt.Errorf("output: unknown format %v", format)}
}

// WriteAll writes all findings to a new writer for format and closes it.
func WriteAll(format Format, w io.Writer, opts Options, findings []finding.Finding) error {
	ow := New(format, w, opts)
	var errs []error
	for _, f := range findings {
		if err := ow.Write(f); err != nil {
			errs = append(errs, err)
			break
		}
	}
	if err := ow.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ColorAuto tells whether the table should be colored on w: only when w is
// a terminal, NO_COLOR is unset or empty (https://no-color.org) and TERM is
// not "dumb". A --color flag of the CLI may override it.
func ColorAuto(w io.Writer) bool {
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return IsTerminal(w)
}

// IsTerminal tells whether w is a terminal (not merely a character
// device: output to /dev/null is not shown to anyone).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	return isTTY(f.Fd())
}

type errWriter struct{ err error }

func (e errWriter) Write(finding.Finding) error { return e.err }
func (e errWriter) Close() error                { return e.err }
