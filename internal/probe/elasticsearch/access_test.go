package elasticsearch

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func observe(t *testing.T, n *testenv.SearchNode) *finding.Finding {
	t.Helper()
	res, err := probetest.Run(t, New(), n.Addr, n.Port)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	f := &finding.Finding{Target: finding.Target{Host: n.Addr.String(), Port: n.Port}, Service: "elasticsearch",
		Status: res.Status, Evidence: res.Evidence, ObservedAt: time.Now().UTC()}
	f.Finalize()
	if a := lifecycle.ParseAccess(f); a == nil || !a.Measurable || a.Own[probe.CounterQueries] == 0 {
		t.Fatalf("access evidence %+v", f.Evidence[probe.EvidenceAccess])
	}
	return f
}

// Issue 10: between two observations a second client runs 25 searches and
// reads 3 documents; the access delta reports at least 25 foreign queries
// (searches and document reads), none of leakwatch's own counts and
// sample searches; two probes in a row show no foreign queries.
func TestForeignAccess(t *testing.T) {
	n := seeded(t)
	ctx := context.Background()
	before, err := n.Client.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f1 := observe(t, n)
	f2 := observe(t, n)
	d := lifecycle.ForeignAccess(f1, f2, false)
	t.Logf("own only: %s %+v", d.Summary(), d.Counters)
	if !d.Measurable || *d.ForeignQueries != 0 || *d.ForeignConnections != 0 {
		t.Fatalf("leakwatch's own probe counted as foreign: %s %+v", d.Summary(), d.Counters)
	}

	// One search to learn three ids, 24 more, and 3 document reads.
	body, err := n.Client.Do(ctx, "GET", "/customers/_search?size=3&filter_path=hits.hits._id", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	var hits struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(body, &hits); err != nil || len(hits.Hits.Hits) != 3 {
		t.Fatalf("ids: %v %s", err, body)
	}
	for range 24 {
		if _, err := n.Client.Do(ctx, "GET", "/customers/_search?q=wifi_ssid:*&size=1", nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range hits.Hits.Hits {
		if _, err := n.Client.Do(ctx, "GET", "/customers/_doc/"+h.ID, nil, ""); err != nil {
			t.Fatal(err)
		}
	}
	f3 := observe(t, n)
	d = lifecycle.ForeignAccess(f2, f3, false)
	t.Logf("foreign: %s; counters %+v; datasets %v", d.Summary(), d.Counters, d.Datasets)
	if !d.Seen() || *d.ForeignQueries < 25 || *d.ForeignQueries > 28 {
		t.Errorf("foreign queries %d, want 28 (25 searches + 3 reads)", *d.ForeignQueries)
	}
	if c := d.Datasets["customers"]; c["search"] != 25 || c["get"] != 3 {
		t.Errorf("customers: %v, want 25 searches and 3 gets", c)
	}
	if _, ok := d.Datasets["products"]; ok {
		t.Errorf("products moved only by leakwatch: %v", d.Datasets)
	}
	after, err := n.Client.State(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before != after {
		t.Fatalf("node state changed by a probe:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
