package chroma

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// fakeChroma is a Chroma look-alike for behaviour no real server shows:
// gen generated collections, documents of doc text, a get that stalls.
type fakeChroma struct {
	gen   int
	doc   string
	stall bool
	mu    sync.Mutex
	gets  []int // limits asked for by get
}

func (f *fakeChroma) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	p := r.URL.Path
	switch {
	case p == "/api/v2/heartbeat":
		fmt.Fprint(w, `{"nanosecond heartbeat":1}`)
	case p == "/api/v2/version":
		fmt.Fprint(w, `"1.0.0"`)
	case p == "/api/v2/auth/identity":
		fmt.Fprint(w, `{"user_id":"","tenant":"default_tenant","databases":["default_database"]}`)
	case strings.HasSuffix(p, "/databases"):
		fmt.Fprint(w, `[{"name":"default_database"}]`)
	case strings.HasSuffix(p, "/collections"):
		probetest.WriteList(w, "[", f.gen, func(w io.Writer, i int) {
			fmt.Fprintf(w, `{"id":"c%06d","name":"coll_%06d","dimension":4}`, i, i)
		}, "]")
	case strings.HasSuffix(p, "/count"):
		fmt.Fprint(w, "40")
	case strings.HasSuffix(p, "/get"):
		if f.stall {
			<-r.Context().Done()
			return
		}
		var q struct {
			Limit int `json:"limit"`
		}
		_ = json.NewDecoder(r.Body).Decode(&q)
		f.mu.Lock()
		f.gets = append(f.gets, q.Limit)
		f.mu.Unlock()
		ids, docs := make([]string, q.Limit), make([]string, q.Limit)
		for i := range ids {
			ids[i], docs[i] = fmt.Sprintf("r%d", i), f.doc
		}
		json.NewEncoder(w).Encode(map[string]any{"ids": ids, "documents": docs, "metadatas": nil})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// TestListingPastCap: more collections than MaxListed stay exposed,
// listed up to the cap and flagged datasets-truncated.
func TestListingPastCap(t *testing.T) {
	s := probetest.ServeHTTP(t, &fakeChroma{gen: 3000, doc: "x"})
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.MaxListed = 5
		b.MaxDatasets = 1
	}, probe.FlagDatasetsTruncated)
	if len(res.Datasets) != 5 {
		t.Errorf("%d datasets, want 5", len(res.Datasets))
	}
}

// TestSampleHalving: a get answer past the sample budget is asked for
// again with half as many records until it fits (sample-truncated); a
// record alone past it is record-too-large, after a bounded number of
// tries.
func TestSampleHalving(t *testing.T) {
	f := &fakeChroma{gen: 1, doc: strings.Repeat("a", 100)}
	s := probetest.ServeHTTP(t, f)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 1000 })
	d := res.Datasets[0]
	if !slices.Contains(d.Flags, probe.FlagSampleTruncated) || d.Sampled == 0 || d.Sampled >= 40 {
		t.Errorf("flags %v sampled %d", d.Flags, d.Sampled)
	}
	f2 := &fakeChroma{gen: 1, doc: strings.Repeat("a", 5000)}
	s2 := probetest.ServeHTTP(t, f2)
	probetest.Flagged(t, New(), s2.Addr, s2.Port, func(b *probe.Budget) { b.SampleBytes = 1000 }, probe.FlagRecordTooLarge)
	f2.mu.Lock()
	defer f2.mu.Unlock()
	if len(f2.gets) > maxHalvings+1 || f2.gets[len(f2.gets)-1] != 1 {
		t.Errorf("gets asked for %v", f2.gets)
	}
}

// TestV1Only: a server that answers only the retired v1 API is identified
// (heartbeat and version), and not read.
func TestV1Only(t *testing.T) {
	s := probetest.ServeHTTP(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/heartbeat":
			fmt.Fprint(w, `{"nanosecond heartbeat":1}`)
		case "/api/v1/version":
			fmt.Fprint(w, `"0.5.23"`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	res := probetest.Probed(t, New(), s.Addr, s.Port, nil)
	if res.Version != "0.5.23" || res.Status != finding.StatusUnknown || res.Evidence["api"] != "/api/v1" {
		t.Errorf("version %q status %s evidence %v", res.Version, res.Status, res.Evidence)
	}
}

// TestStallAfterIdentification: a server that stalls on get still leaves
// the exposed result provisionally reported.
func TestStallAfterIdentification(t *testing.T) {
	s := probetest.ServeHTTP(t, &fakeChroma{gen: 2, stall: true})
	prov, _, _ := probetest.ProbeCut(t, New(), s.Addr, s.Port)
	if prov.Status != finding.StatusExposed {
		t.Errorf("provisional %s", prov.Status)
	}
}
