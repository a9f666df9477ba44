package elasticsearch

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// Issue 10: between two observations a second client runs 25 searches and
// reads 3 documents; the access delta reports at least 25 foreign queries
// (searches and document reads), none of leakwatch's own counts and
// sample searches; two probes in a row show no foreign queries.
func TestForeignAccess(t *testing.T) {
	n := seeded(t)
	ctx := context.Background()
	unchanged := probetest.Unchanged(t, digest(n))
	f2, d := probetest.ObserveDelta(t, New(), n.Addr, n.Port, probetest.Observe(t, New(), n.Addr, n.Port))
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
	_, d = probetest.ObserveDelta(t, New(), n.Addr, n.Port, f2)
	if !d.Seen() || *d.ForeignQueries < 25 || *d.ForeignQueries > 28 {
		t.Errorf("foreign queries %d, want 28 (25 searches + 3 reads)", *d.ForeignQueries)
	}
	if c := d.Datasets["customers"]; c["search"] != 25 || c["get"] != 3 {
		t.Errorf("customers: %v, want 25 searches and 3 gets", c)
	}
	if _, ok := d.Datasets["products"]; ok {
		t.Errorf("products moved only by leakwatch: %v", d.Datasets)
	}
	unchanged()
}
