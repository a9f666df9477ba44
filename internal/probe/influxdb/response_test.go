package influxdb

import (
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

func FuzzDecode(f *testing.F) {
	for _, s := range []string{showDatabases, counts, chunks, `{"error":"x"}`, "HTTP/1.1 200 OK"} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, b []byte, truncated bool) {
		if qr, err := decodeResponse(b); err == nil {
			for _, r := range qr.Results {
				for _, s := range r.Series {
					_ = s.records()
					_, _ = s.maxCount()
					_ = s.column("name")
				}
			}
		}
		for _, qr := range decodeChunks(b, truncated) {
			for _, r := range qr.Results {
				for _, s := range r.Series {
					_ = s.records()
				}
			}
		}
	})
}
