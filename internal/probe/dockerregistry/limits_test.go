package dockerregistry

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
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestCatalogPastCapStaysExposed: a catalog page larger than the response
// cap used to fail parsing and leave an open registry "unknown" (issue 8
// item 6). It must stay exposed with the names read and a flag.
func TestCatalogPastCapStaysExposed(t *testing.T) {
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Docker-Distribution-Api-Version", "registry/2.0")
		switch r.URL.Path {
		case "/v2/":
			fmt.Fprint(w, "{}")
		case "/v2/_catalog":
			bw := bufio.NewWriter(w)
			probetest.WriteList(bw, `{"repositories":[`, 20000, func(w io.Writer, i int) { fmt.Fprintf(w, `"team/app-%06d"`, i) }, `]}`)
			bw.Flush()
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxResponseBytes = 64 << 10
		b.MaxListed = 100000
		b.SampleRecords = 0
	}, probe.FlagDatasetsTruncated)
	if n := len(res.Datasets); n < 1000 || n >= 20000 {
		t.Errorf("%d repositories kept, want the ones before the cut", n)
	}
}

// TestOversizedConfigFlagged is issue 8 item 10 against a real registry:
// an image configuration larger than the sample budget was dropped with
// only an evidence note; the repository must say record-too-large.
func TestOversizedConfigFlagged(t *testing.T) {
	r := testenv.StartRegistry(t, testenv.RegistryOptions{})
	r.PushImage(t, "team/big", "latest", []string{"NOTE=" + strings.Repeat("x", 4096)}, nil)
	res := probetest.Probed(t, New(), r.Addr, r.Port, func(b *probe.Budget) { b.SampleBytes = 512 })
	for _, d := range res.Datasets {
		if d.Name == "team/big" && slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			return
		}
	}
	t.Fatalf("team/big not flagged %s: %+v", probe.FlagRecordTooLarge, res.Datasets)
}
