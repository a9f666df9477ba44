package influxdb

import (
	"bytes"
	"encoding/json"
	"testing"
)

const showDatabases = `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["_internal"],["telemetry"]]}]}]}`

const counts = `{"results":[{"statement_id":0,"series":[{"name":"logins","columns":["time","count_email","count_name"],"values":[["1970-01-01T00:00:00Z",25,24]]}]},{"statement_id":1,"error":"boom"}]}`

const chunks = `{"results":[{"statement_id":0,"series":[{"name":"logins","tags":{"host":"a"},"columns":["time","email"],"values":[["2023-11-14T22:13:20Z","user0@example.com"]]}],"partial":true}]}
{"results":[{"statement_id":0,"series":[{"name":"logins","columns":["time","email"],"values":[["2023-11-14T22:13:21Z","user1@example.com"]]}]}]}
{"results":[{"statement_id":0,"ser`

func TestDecode(t *testing.T) {
	qr, err := decodeResponse([]byte(showDatabases))
	if err != nil {
		t.Fatal(err)
	}
	if got := qr.Results[0].Series[0].column("name"); len(got) != 2 || got[1] != "telemetry" {
		t.Errorf("databases %v", got)
	}
	qr, err = decodeResponse([]byte(counts))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := qr.Results[0].Series[0].maxCount(); !ok || n != 25 {
		t.Errorf("count %d %v", n, ok)
	}
	if _, err := decodeResponse([]byte(`{"error":"authorization failed"}`)); err == nil {
		t.Error("error answer decoded")
	}
	cs := decodeChunks([]byte(chunks), true)
	if len(cs) != 2 {
		t.Fatalf("%d chunks", len(cs))
	}
	recs := cs[0].Results[0].Series[0].records()
	if len(recs) != 1 || len(recs[0].Values) != 3 {
		t.Errorf("records %+v", recs)
	}
}

// FuzzDecode: a decoded answer yields one record per row, a column at most
// one value per row, a count that is one of the row's numbers; a truncated
// chunked answer decodes exactly as its part before the last newline, and
// never to more answers than it has lines.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{showDatabases, counts, chunks, `{"error":"x"}`, "HTTP/1.1 200 OK"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, truncated bool) {
		checkSeries := func(s series) {
			if n := len(s.records()); n != len(s.Values) {
				t.Fatalf("%d records of %d rows", n, len(s.Values))
			}
			for _, c := range s.Columns {
				if n := len(s.column(c)); n > len(s.Values) {
					t.Fatalf("column %q: %d values of %d rows", c, n, len(s.Values))
				}
			}
			if n, ok := s.maxCount(); ok && !rowHasNumber(s, n) {
				t.Fatalf("count %d is in no row", n)
			}
		}
		if qr, err := decodeResponse(b); err == nil {
			if qr.Error != "" {
				t.Fatal("an error answer decoded")
			}
			for _, r := range qr.Results {
				for _, s := range r.Series {
					checkSeries(s)
				}
			}
		}
		got := decodeChunks(b, truncated)
		if lines := bytes.Count(b, []byte("\n")) + 1; len(got) > lines {
			t.Fatalf("%d answers from %d lines", len(got), lines)
		}
		if truncated {
			want := 0
			if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
				want = len(decodeChunks(b[:i], false))
			}
			if len(got) != want {
				t.Fatalf("truncated: %d answers, %d before the last newline", len(got), want)
			}
		}
		for _, qr := range got {
			for _, r := range qr.Results {
				for _, s := range r.Series {
					checkSeries(s)
				}
			}
		}
	})
}

// rowHasNumber tells whether some non-time cell of s is the integer n.
func rowHasNumber(s series, n int64) bool {
	for _, row := range s.Values {
		for i, c := range s.Columns {
			if i < len(row) && c != "time" {
				if v, ok := row[i].(json.Number); ok {
					if x, err := v.Int64(); err == nil && x == n {
						return true
					}
				}
			}
		}
	}
	return false
}
