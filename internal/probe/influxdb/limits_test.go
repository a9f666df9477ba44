package influxdb

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// TestDatabasesPastCapStayExposed: a SHOW DATABASES answer larger than the
// response cap used to fail decoding and leave an open server "unknown"
// (issue 8 item 6); a point larger than the sample budget was dropped
// without a flag (item 10).
func TestDatabasesPastCapStayExposed(t *testing.T) {
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Influxdb-Version", "1.6.7")
		if r.URL.Path == "/ping" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		q := r.URL.Query().Get("q")
		switch {
		case q == "SHOW DATABASES":
			bw := bufio.NewWriter(w)
			probetest.WriteList(bw, `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[`, 5000, func(w io.Writer, i int) { fmt.Fprintf(w, `["db_%05d"]`, i) }, `]}]}]}`)
			bw.Flush()
		case strings.HasPrefix(q, "SHOW MEASUREMENTS"):
			fmt.Fprint(w, `{"results":[{"statement_id":0,"series":[{"name":"measurements","columns":["name"],"values":[["m"]]}]}]}`)
		case strings.HasPrefix(q, "SELECT * FROM"):
			fmt.Fprintf(w, `{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","note"],"values":[["2020-01-01T00:00:00Z","%s"]]}]}]}`+"\n", strings.Repeat("x", 8192))
		default:
			fmt.Fprint(w, `{"results":[{"statement_id":0}]}`)
		}
	}))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxResponseBytes = 16 << 10
		b.SampleBytes = 1024
		b.MaxListed = 5
		b.MaxDatasets = 2
	}, probe.FlagDatasetsTruncated)
	if len(res.Datasets) == 0 {
		t.Fatal("no datasets")
	}
	for _, d := range res.Datasets[:min(2, len(res.Datasets))] {
		if !slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			t.Errorf("dataset %s flags %v, want %s", d.Name, d.Flags, probe.FlagRecordTooLarge)
		}
	}
}
