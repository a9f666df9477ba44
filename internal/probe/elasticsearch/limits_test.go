package elasticsearch

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

// manyIndices is a hostile node: an open cluster whose _cat/indices answer
// has n rows (more than the response cap holds), and whose sample answer
// is one document of docBytes.
func manyIndices(n, docBytes int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/":
			fmt.Fprint(w, `{"name":"n1","cluster_name":"c","cluster_uuid":"u1","version":{"number":"7.10.2"},"tagline":"You Know, for Search"}`)
		case r.URL.Path == "/_cat/indices":
			bw := bufio.NewWriterSize(w, 64<<10)
			probetest.WriteList(bw, "[", n, func(w io.Writer, i int) {
				fmt.Fprintf(w, `{"health":"green","status":"open","index":"idx-%06d","uuid":"uuuuuuuuuuuuuuuuuuuuuu","docs.count":"%d","store.size":"%d"}`, i, i, 1000+i)
			}, "]")
			bw.Flush()
		case strings.HasSuffix(r.URL.Path, "/_count"):
			fmt.Fprint(w, `{"count":3}`)
		case strings.HasSuffix(r.URL.Path, "/_mapping"):
			fmt.Fprint(w, `{}`)
		case strings.HasSuffix(r.URL.Path, "/_search"):
			fmt.Fprintf(w, `{"hits":{"hits":[{"_source":{"note":"%s"}},{"_source":{"email":"a@b.example"}}]}}`, strings.Repeat("x", docBytes))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// TestManyIndicesStayExposed is issue 8 item 6: a listing past the response
// cap (70,000 indices at the default 8 MiB cap) used to fail parsing and
// report the open cluster as unknown. It must stay exposed, keep the rows
// read, and say the listing is incomplete.
func TestManyIndicesStayExposed(t *testing.T) {
	s := probetest.ServeHTTP(t, manyIndices(70000, 10))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, nil, probe.FlagDatasetsTruncated)
	if got := probetest.Budget().MaxListed; len(res.Datasets) != got {
		t.Errorf("%d datasets listed, want the listing limit %d", len(res.Datasets), got)
	}
	// Largest first among the rows read.
	if res.Datasets[0].Bytes == nil || *res.Datasets[0].Bytes < 1000+50000 {
		t.Errorf("first dataset %+v is not among the largest read", res.Datasets[0].Dataset)
	}
}

func TestParseCatIndicesCut(t *testing.T) {
	full := `[{"index":"a","docs.count":"1","store.size":"10"},{"index":"b","docs.count":"2","store.size":"20"},{"index":"c","docs.count":"3","store.size":"30"}]`
	for cutAt := 1; cutAt < len(full); cutAt++ {
		got, cut, err := parseCatIndices([]byte(full[:cutAt]))
		if err != nil {
			t.Fatalf("cut at %d: %v", cutAt, err)
		}
		if !cut {
			t.Fatalf("cut at %d: not reported as cut", cutAt)
		}
		if len(got) > 3 {
			t.Fatalf("cut at %d: %d rows", cutAt, len(got))
		}
	}
	got, cut, err := parseCatIndices([]byte(full))
	if err != nil || cut || len(got) != 3 {
		t.Fatalf("whole: %d rows cut=%v err=%v", len(got), cut, err)
	}
	// A wrongly typed row is skipped, not the rest of the list.
	got, cut, err = parseCatIndices([]byte(`[{"index":"a","docs.count":1},{"index":"b","docs.count":"2"}]`))
	if err != nil || cut || len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("odd row: %+v cut=%v err=%v", got, cut, err)
	}
	for _, bad := range []string{``, `{}`, `<html>`, `"x"`} {
		if _, _, err := parseCatIndices([]byte(bad)); err == nil {
			t.Errorf("parseCatIndices(%q) accepted", bad)
		}
	}
}

// TestOversizedDocumentFlagged is issue 8 item 10: a sampled document
// larger than the per-dataset byte budget was dropped without a word.
func TestOversizedDocumentFlagged(t *testing.T) {
	s := probetest.ServeHTTP(t, manyIndices(2, 2<<20))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, nil)
	for _, ds := range res.Datasets {
		if !slices.Contains(ds.Flags, probe.FlagRecordTooLarge) || !slices.Contains(ds.Flags, probe.FlagSampleTruncated) {
			t.Errorf("dataset %s flags %v, want %s and %s", ds.Name, ds.Flags, probe.FlagRecordTooLarge, probe.FlagSampleTruncated)
		}
	}
}
