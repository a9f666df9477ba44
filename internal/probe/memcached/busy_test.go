package memcached

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestBackToBackProbes: a probe closes its metadump after a few items, and
// the server's crawler goes on walking for that abandoned dump; a second
// probe right after meets "BUSY" and must retry (bounded backoff) instead
// of reporting a sampling error.
func TestBackToBackProbes(t *testing.T) {
	s := testenv.StartMemcached(t, testenv.MemcachedOptions{})
	s.Seed(t)
	var b strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&b, "set filler:%06d 0 0 32 noreply\r\n%032d\r\n", i, i)
	}
	s.Exchange(t, b.String()+"mn\r\n", "MN")
	budget := probetest.Budget()
	budget.SampleRecords = 5
	for i := range 4 {
		res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, budget)
		if err != nil {
			t.Fatalf("probe %d: %v", i, err)
		}
		if res.Status != finding.StatusExposed || res.Error != "" {
			t.Fatalf("probe %d: status %s error %q", i, res.Status, res.Error)
		}
		if len(res.Datasets) != 1 || res.Datasets[0].Sampled == 0 {
			t.Fatalf("probe %d: datasets %+v", i, res.Datasets)
		}
	}
}
