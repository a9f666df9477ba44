// Package textrec turns small text files read by probers (CSV exports,
// .env files, notes, logs) into classify records.
package textrec

import (
	"encoding/csv"
	"errors"
	"io"
	"path"
	"regexp"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// Sampled lists file extensions whose content is worth sampling.
var Sampled = map[string]bool{
	".csv": true, ".tsv": true, ".txt": true, ".env": true, ".json": true, ".log": true,
	".sql": true, ".conf": true, ".cfg": true, ".ini": true, ".yml": true, ".yaml": true,
	".xml": true, ".properties": true,
}

// IsSampled tells whether a file name has a text-like extension (or is a
// dotenv file such as ".env.production").
func IsSampled(name string) bool {
	base := strings.ToLower(path.Base(name))
	return Sampled[path.Ext(base)] || base == ".env" || strings.HasPrefix(base, ".env.")
}

// FromFile picks a parser by file name: CSV/TSV rows with their header,
// otherwise one record per line.
func FromFile(name, text string, max int) []classify.Record {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return FromCSV(text, ',', max)
	case ".tsv":
		return FromCSV(text, '\t', max)
	}
	return FromLines(text, max)
}

// FromCSV turns delimited text with a header row into records.
func FromCSV(text string, comma rune, max int) []classify.Record {
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = comma
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	header, err := r.Read()
	if err != nil {
		return nil
	}
	var out []classify.Record
	for len(out) < max {
		row, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			break
		}
		out = append(out, classify.FromRow(header, row))
	}
	return out
}

var envLineRE = regexp.MustCompile(`^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]\s*(.*)$`)

// FromLines turns text into one record per non-empty, non-comment line;
// KEY=VALUE (or KEY: VALUE) lines become a value under KEY, others a value
// under "line".
func FromLines(text string, max int) []classify.Record {
	var out []classify.Record
	for _, line := range strings.Split(text, "\n") {
		if len(out) >= max {
			break
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if m := envLineRE.FindStringSubmatch(line); m != nil && m[2] != "" {
			out = append(out, classify.FromText(m[1], strings.Trim(m[2], `"'`)))
			continue
		}
		out = append(out, classify.FromText("line", line))
	}
	return out
}
