package clickhouse

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestCatalogCutFlagged: a table catalog longer than the listing budget,
// or cut at the response cap, flags the result datasets-truncated and
// stays exposed with what was read.
func TestCatalogCutFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{})
	s.Seed(t)
	for _, tc := range []struct {
		name   string
		budget func(*probe.Budget)
		max    int
	}{
		{"listing budget", func(b *probe.Budget) { b.MaxListed = 2 }, 2},
		{"response cap", func(b *probe.Budget) { b.MaxResponseBytes = 150 }, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := probetest.Budget()
			tc.budget(&b)
			res, err := probetest.RunBudget(t, New(), s.Addr, s.HTTPPort, b)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusExposed || !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
				t.Errorf("status %s flags %v error %q", res.Status, res.Flags, res.Error)
			}
			if len(res.Datasets) == 0 || len(res.Datasets) > tc.max || len(res.Datasets) >= len(testenv.ClickHouseSeedRows)+2 {
				t.Errorf("%d datasets", len(res.Datasets))
			}
		})
	}
	res, err := probetest.Run(t, New(), s.Addr, s.HTTPPort)
	if err != nil || slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("default budget: flags %v err %v", res.Flags, err)
	}
}
