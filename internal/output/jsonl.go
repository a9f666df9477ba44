package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// JSONLWriter streams findings in the leakwatch.finding/v1 contract: one
// JSON object a line, fields in the struct's order, no HTML escaping, each
// line written with a single Write call on the underlying writer. It is
// safe for concurrent use.
type JSONLWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    bytes.Buffer
	enc    *json.Encoder
	closed bool
}

var _ Writer = (*JSONLWriter)(nil)

// NewJSONLWriter writes JSONL to w.
func NewJSONLWriter(w io.Writer) *JSONLWriter {
	jw := &JSONLWriter{w: w}
	jw.enc = json.NewEncoder(&jw.buf)
	jw.enc.SetEscapeHTML(false)
	return jw
}

// Write emits one finding as one line. A finding that cannot be rendered
// (a panic or an encoding error) is written as an error record instead and
// Write returns nil (see FlagWriteError); only an error of the underlying
// writer is returned. Runes that could mislead a reader (bidi controls,
// C1 controls, ...) are written as \u escapes.
func (jw *JSONLWriter) Write(f finding.Finding) error {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	if jw.closed {
		return fmt.Errorf("output: jsonl: write after close")
	}
	line := encodeLine(&jw.buf, jw.enc, &f, func(f *finding.Finding) any { return Normalize(*f) })
	if _, err := jw.w.Write(line); err != nil {
		return fmt.Errorf("output: write jsonl: %w", err)
	}
	return nil
}

// encodeLine renders shape(f) with enc into buf, protected: if that fails,
// it renders shape(error record) and, failing that too, a minimal
// hand-built record. The result is one line with unsafe runes escaped.
func encodeLine(buf *bytes.Buffer, enc *json.Encoder, f *finding.Finding, shape func(*finding.Finding) any) []byte {
	buf.Reset()
	err := protect(f, func() error { return enc.Encode(shape(f)) })
	if err != nil {
		ef := errorFinding(f, err)
		buf.Reset()
		if protect(&ef, func() error { return enc.Encode(shape(&ef)) }) != nil {
			buf.Reset()
			buf.Write(minimalErrorLine(f))
		}
	}
	return escapeUnsafeJSON(buf.Bytes())
}

// Close ends the stream (every line was written as it came); later Writes
// fail, as with every writer.
func (jw *JSONLWriter) Close() error {
	jw.mu.Lock()
	defer jw.mu.Unlock()
	jw.closed = true
	return nil
}

// WriteJSONL writes findings as JSONL.
func WriteJSONL(w io.Writer, findings []finding.Finding) error {
	return WriteAll(FormatJSONL, w, Options{}, findings)
}

// Normalize returns a copy of f shaped for the contract without changing
// what was decided about it: schema and id are filled when empty, nil
// lists that the contract requires become empty lists (so they encode as
// [] rather than null), and every number is bounded by finding.Sanitize
// (a no-op for findings that went through finding.Finalize; it protects
// findings that come from a store, an API client or a hand-built test).
// Severity and class union are left as they are; finding.Finalize computes
// those. f itself is not changed.
func Normalize(f finding.Finding) finding.Finding {
	if f.Schema == "" {
		f.Schema = finding.Schema
	}
	if f.ID == "" {
		f.ID = finding.Fingerprint(f.Target, f.Service)
	}
	if f.Classes == nil {
		f.Classes = []string{}
	}
	ds := make([]finding.Dataset, len(f.Datasets))
	for i, d := range f.Datasets {
		cs := make([]finding.ClassCount, len(d.Classes))
		for j, c := range d.Classes {
			if c.Examples == nil {
				c.Examples = []string{}
			}
			cs[j] = c
		}
		d.Classes = cs
		ds[i] = d
	}
	f.Datasets = ds
	f.Sanitize()
	return f
}
