package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
)

// writeSafeJSON writes v as one JSON document (indented when indent is
// set) with every rune finding.Unsafe names — terminal controls, C1
// controls, bidi overrides — written as a \u escape, as the scan output
// and reports write theirs. Commands print JSON to terminals too, and its
// strings come from scanned networks (dataset names, versions) and from
// NATS (worker names, sites): json.Encoder leaves C1 and bidi runes raw.
func writeSafeJSON(w io.Writer, v any, indent bool) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(output.EscapeUnsafeJSON(b.Bytes()))
	return err
}

// visibleLines is s with every unsafe rune but its line breaks written as
// a visible escape (finding.VisibleText): errors name files, hosts and
// datasets that others chose, and go to a terminal.
func visibleLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = finding.VisibleText(l)
	}
	return strings.Join(lines, "\n")
}
