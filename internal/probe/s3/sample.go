package s3

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"path"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// maxObjectBytes is the largest object that is sampled; larger ones are
// skipped rather than read in part.
const maxObjectBytes = 64 << 10

// sampleable tells whether a key names a small text object worth reading.
func sampleable(key string, size int64) bool {
	if size <= 0 || size > maxObjectBytes {
		return false
	}
	switch strings.ToLower(path.Ext(key)) {
	case ".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".log", ".env", ".ini", ".conf",
		".cfg", ".properties", ".yaml", ".yml", ".xml", ".sql":
		return true
	}
	return false
}

// recordsFrom turns one object's content into at most max records, by the
// key's extension: JSON documents (an array gives one record per element),
// JSON lines, CSV/TSV rows under their header, key=value files, else the
// whole text as one value under the key.
func recordsFrom(key string, body []byte, max int) []classify.Record {
	if max <= 0 {
		return nil
	}
	var out []classify.Record
	switch strings.ToLower(path.Ext(key)) {
	case ".json":
		var doc any
		if json.Unmarshal(body, &doc) != nil {
			break
		}
		if arr, ok := doc.([]any); ok {
			for _, e := range arr {
				if len(out) >= max {
					break
				}
				out = append(out, classify.FromJSON(e))
			}
			return out
		}
		return []classify.Record{classify.FromJSON(doc)}
	case ".jsonl", ".ndjson":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 0, 4096), maxObjectBytes)
		for sc.Scan() && len(out) < max {
			if r, err := classify.FromJSONBytes(sc.Bytes()); err == nil {
				out = append(out, r)
			}
		}
		return out
	case ".csv", ".tsv":
		if recs := csvRecords(body, strings.EqualFold(path.Ext(key), ".tsv"), max); len(recs) > 0 {
			return recs
		}
	case ".env", ".ini", ".properties", ".conf", ".cfg":
		if r := keyValues(body); len(r.Values) > 0 {
			return []classify.Record{r}
		}
	}
	return []classify.Record{classify.FromText(path.Base(key), string(body))}
}

// csvRecords reads a header row and then one record per row.
func csvRecords(body []byte, tab bool, max int) []classify.Record {
	rd := csv.NewReader(bytes.NewReader(body))
	if tab {
		rd.Comma = '\t'
	}
	rd.FieldsPerRecord = -1
	rd.LazyQuotes = true
	header, err := rd.Read()
	if err != nil {
		return nil
	}
	var out []classify.Record
	for len(out) < max {
		row, err := rd.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			break
		}
		out = append(out, classify.FromRow(header, row))
	}
	return out
}

// keyValues reads "name=value" / "name: value" lines (dotenv, ini,
// properties); comments and sections are skipped.
func keyValues(body []byte) classify.Record {
	var r classify.Record
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		k = strings.TrimSpace(strings.TrimPrefix(k, "export "))
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			continue
		}
		r.Values = append(r.Values, classify.Value{Path: k, Text: strings.Trim(strings.TrimSpace(v), `"'`)})
	}
	return r
}
