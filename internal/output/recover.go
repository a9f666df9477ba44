package output

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// One finding never costs the others (safety rule 6): every writer renders
// each finding inside protect. A panic or an encoding error while rendering
// one finding is written in its place as an error record — the finding's
// id, target, service, status, auth and severity with the flag
// FlagWriteError and "could not be written: …" as its error — and the
// writer goes on with the next finding. Write returns nil in that case
// (the error record is the report; an error from Write would stop the
// scan); only I/O errors on the underlying writer are returned.

// FlagWriteError marks an error record that stands in for a finding a
// writer could not render.
const FlagWriteError = "write-error"

// testHookFinding, when set (tests only), runs inside every writer's
// per-finding protection, so tests can make rendering one finding fail.
var testHookFinding func(f *finding.Finding)

// FindingError is a failure to render one finding.
type FindingError struct {
	ID  string
	Err error
}

func (e *FindingError) Error() string {
	return "finding " + e.ID + " could not be written: " + e.Err.Error()
}

func (e *FindingError) Unwrap() error { return e.Err }

// protect runs render for f and turns a panic or an error into a
// *FindingError.
func protect(f *finding.Finding, render func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &FindingError{ID: f.ID, Err: panicError(r)}
		}
	}()
	if testHookFinding != nil {
		testHookFinding(f)
	}
	if err := render(); err != nil {
		return &FindingError{ID: f.ID, Err: err}
	}
	return nil
}

// panicError describes a recovered panic without quoting data: runtime
// errors (index out of range, nil map, ...) are code-generated messages;
// any other panic value is named by its type only, since it may hold text
// from a scanned server.
func panicError(r any) error {
	if re, ok := r.(runtime.Error); ok {
		return fmt.Errorf("panic: %s", re.Error())
	}
	return fmt.Errorf("panic: value of type %T", r)
}

// maxErrorText bounds the error text of an error record.
const maxErrorText = 300

// errorFinding is the record written in place of f: what identifies f and
// its verdict (so a CI gate on severity still sees an exposed store), no
// datasets, the flag FlagWriteError and the cause. Every string is
// checked, so the record itself cannot fail the schema or carry control
// characters.
func errorFinding(f *finding.Finding, cause error) finding.Finding {
	var fe *FindingError
	if errors.As(cause, &fe) {
		cause = fe.Err
	}
	msg := finding.VisibleText(cause.Error())
	if utf8.RuneCountInString(msg) > maxErrorText {
		msg = string([]rune(msg)[:maxErrorText-1]) + "…"
	}
	out := finding.Finding{
		Schema:     finding.Schema,
		ID:         finding.VisibleText(f.ID),
		Target:     finding.Target{Host: finding.VisibleText(f.Target.Host), Port: f.Target.Port, Hostname: finding.VisibleText(f.Target.Hostname)},
		Service:    finding.VisibleText(f.Service),
		Status:     finding.StatusUnknown,
		Auth:       finding.AuthUnknown,
		Severity:   finding.SeverityInfo,
		Datasets:   []finding.Dataset{},
		Classes:    []string{},
		Flags:      []string{FlagWriteError},
		Error:      "could not be written: " + msg,
		ObservedAt: f.ObservedAt,
	}
	if out.ID == "" {
		out.ID = finding.Fingerprint(f.Target, f.Service)
	}
	if f.Target.IsFile() && f.Target.Path != "" {
		// A file keeps its path (escaped) and loses what a file cannot have.
		out.Target = finding.FileTarget(finding.VisibleText(f.Target.Path))
	} else {
		// As minimalErrorLine: a record the schema accepts, never a target
		// that names nothing.
		if out.Target.Host == "" {
			out.Target.Host = "unknown"
		}
		if out.Target.Port < 1 || out.Target.Port > 65535 {
			out.Target.Port = 1
		}
	}
	if out.Service == "" {
		out.Service = "unknown"
	}
	switch f.Status {
	case finding.StatusExposed, finding.StatusProtected:
		out.Status = f.Status
	}
	switch f.Auth {
	case finding.AuthNone, finding.AuthDefaultCredentials, finding.AuthRequired:
		out.Auth = f.Auth
	}
	if f.Severity.Rank() > 0 {
		out.Severity = f.Severity
	}
	if y := out.ObservedAt.Year(); y < 1 || y > 9999 {
		out.ObservedAt = time.Unix(0, 0).UTC() // JSON cannot carry it
	}
	return out
}

// minimalErrorLine is the last resort when even the error record cannot
// be encoded: a hand-built JSON line in the finding contract.
func minimalErrorLine(f *finding.Finding) []byte {
	id := finding.VisibleText(f.ID)
	if id == "" {
		id = "unknown"
	}
	port := f.Target.Port
	if port < 1 || port > 65535 {
		port = 1
	}
	return []byte(`{"schema":"` + finding.Schema + `","id":` + strconv.QuoteToASCII(id) +
		`,"target":{"host":"unknown","port":` + strconv.Itoa(port) + `,"hostname":""},"service":"unknown",` +
		`"status":"unknown","auth":"unknown","severity":"info","datasets":[],"classes":[],"flags":["` + FlagWriteError + `"],` +
		`"error":"could not be written","observed_at":"1970-01-01T00:00:00Z"}` + "\n")
}

// escapeUnsafeJSON rewrites every rune finding.Unsafe names (bidi
// controls such as U+202E, C1 controls, DEL, zero-width and other format
// characters, line separators, U+FFFD) as a JSON \u escape. encoding/json
// already escapes C0 controls inside strings; the rest it writes raw. In
// a JSON document such runes can only stand inside strings (the syntax
// outside them is ASCII), so the result is the same JSON value — decoders
// see the same text — but its bytes hold nothing a terminal, a diff or an
// editor would interpret. Returns b itself when there is nothing to
// escape.
func escapeUnsafeJSON(b []byte) []byte { return EscapeUnsafeJSON(b) }

// EscapeUnsafeJSON is escapeUnsafeJSON, for other writers of JSON
// documents (incident reports).
func EscapeUnsafeJSON(b []byte) []byte {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				break
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if finding.Unsafe(r) {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if c == 0x7f {
				out = append(out, `\u007f`...)
			} else {
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if !finding.Unsafe(r) {
			out = append(out, b[i:i+n]...)
			i += n
			continue
		}
		i += n
		if r == utf8.RuneError && n == 1 {
			// Invalid UTF-8 cannot come out of encoding/json; be safe anyway.
			out = append(out, `\ufffd`...)
			continue
		}
		if r > 0xffff {
			r -= 0x10000
			out = appendU(out, 0xd800+(r>>10))
			out = appendU(out, 0xdc00+(r&0x3ff))
			continue
		}
		out = appendU(out, r)
	}
	return out
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// normalizeProtected is Normalize for the buffering writers (table,
// SARIF); if it fails, f is kept as it is and its rendering is protected
// later.
func normalizeProtected(f finding.Finding) finding.Finding {
	out := f
	if protect(&f, func() error { out = Normalize(f); return nil }) != nil {
		return f
	}
	return out
}
