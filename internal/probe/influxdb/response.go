package influxdb

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// This file decodes InfluxDB 1.x /query answers: one JSON object with a
// result per statement, each holding series of columns and value rows; or,
// with chunked=true, one such object per line.

// maxLine bounds one chunk line.
const maxLine = 4 << 20

type queryResponse struct {
	Results []result `json:"results"`
	Error   string   `json:"error"`
}

type result struct {
	StatementID int      `json:"statement_id"`
	Series      []series `json:"series"`
	Error       string   `json:"error"`
}

type series struct {
	Name    string            `json:"name"`
	Tags    map[string]string `json:"tags"`
	Columns []string          `json:"columns"`
	Values  [][]any           `json:"values"`
}

var errNotInflux = errors.New("not an influxdb query response")

// decodeResponse decodes one /query answer.
func decodeResponse(b []byte) (*queryResponse, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var qr queryResponse
	if err := d.Decode(&qr); err != nil {
		return nil, fmt.Errorf("%w: %v", errNotInflux, err)
	}
	if qr.Error != "" {
		return nil, fmt.Errorf("query error: %s", qr.Error)
	}
	return &qr, nil
}

// decodeChunks decodes a chunked answer, one JSON object a line; a line cut
// by the read limit (truncated) or not decodable ends the answer.
func decodeChunks(b []byte, truncated bool) []*queryResponse {
	if truncated {
		i := bytes.LastIndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[:i]
	}
	var out []*queryResponse
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		qr, err := decodeResponse(line)
		if err != nil {
			break
		}
		out = append(out, qr)
	}
	return out
}

// records turns a series' rows into records: one per row, paths are the
// column names (tags of a grouped series are added to each row).
func (s series) records() []classify.Record {
	out := make([]classify.Record, 0, len(s.Values))
	for _, row := range s.Values {
		doc := make(map[string]any, len(s.Columns)+len(s.Tags))
		for k, v := range s.Tags {
			doc[k] = v
		}
		for i, c := range s.Columns {
			if i < len(row) {
				doc[c] = row[i]
			}
		}
		out = append(out, classify.FromJSON(doc))
	}
	return out
}

// maxCount is the largest count_* value of a `SELECT count(*)` row: the
// number of points of a measurement whose points all carry some field.
func (s series) maxCount() (int64, bool) {
	var best int64
	found := false
	for _, row := range s.Values {
		for i, c := range s.Columns {
			if i >= len(row) || c == "time" {
				continue
			}
			n, ok := row[i].(json.Number)
			if !ok {
				continue
			}
			v, err := n.Int64()
			if err != nil {
				continue
			}
			if !found || v > best {
				best, found = v, true
			}
		}
	}
	return best, found
}

// column returns the string values of one column.
func (s series) column(name string) []string {
	idx := -1
	for i, c := range s.Columns {
		if c == name {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	var out []string
	for _, row := range s.Values {
		if idx < len(row) {
			if v, ok := row[idx].(string); ok {
				out = append(out, v)
			}
		}
	}
	return out
}
