package clickhouse

import (
	"fmt"
	"slices"
	"strings"
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

// TestServerBreakFlagged: max_result_bytes with result_overflow_mode=break
// ends the sample cleanly at a block boundary (18.16: no exception, no
// header, rows_before_limit_at_least = rows sent) once the result's
// in-memory size reaches the budget. A Memory table keeps each insert as
// its own block, and 20 Float64 zeros are 160 bytes in memory but ~120 as
// JSON, so the server cuts before the wire limit does: the sample has
// fewer rows than asked while the table holds more, and must be flagged
// sample-truncated (it was not). The same table read under the default
// budget, and a small table read whole, are not flagged.
func TestServerBreakFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{})
	cols := make([]string, 20)
	for i := range cols {
		cols[i] = fmt.Sprintf("%c Float64", 'a'+i) // one-letter names: short JSON
	}
	s.Query(t, "CREATE TABLE default.wide ("+strings.Join(cols, ", ")+") ENGINE = Memory")
	for range 10 {
		s.Query(t, "INSERT INTO default.wide SELECT "+strings.Repeat("0, ", 19)+"0 FROM system.numbers LIMIT 10")
	}
	s.Query(t, "CREATE TABLE default.small (email String) ENGINE = Memory")
	s.Query(t, "INSERT INTO default.small VALUES ('a@example.com'), ('b@example.com')")
	unchanged := probetest.Unchanged(t, s.Digest)

	b := probetest.Budget()
	b.SampleRecords = 100
	b.SampleBytes = 4000
	res, err := probetest.RunBudget(t, New(), s.Addr, s.HTTPPort, b)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	got := map[string]probe.Dataset{}
	for _, d := range res.Datasets {
		got[d.Name] = d
	}
	w := got["default.wide"]
	t.Logf("wide: sampled %d, flags %v", w.Sampled, w.Flags)
	if w.Sampled == 0 || w.Sampled >= 100 || w.Sampled%10 != 0 {
		t.Fatalf("wide sampled %d rows; the test wants a server-side cut at a block (10 rows) boundary", w.Sampled)
	}
	if !slices.Contains(w.Flags, probe.FlagSampleTruncated) {
		t.Errorf("wide: %d of 100 rows sampled (server break), flags %v: want %s", w.Sampled, w.Flags, probe.FlagSampleTruncated)
	}
	if sm := got["default.small"]; sm.Sampled != 2 || len(sm.Flags) != 0 {
		t.Errorf("small: sampled %d flags %v, want 2 and none", sm.Sampled, sm.Flags)
	}

	res = probetest.Probed(t, New(), s.Addr, s.HTTPPort, nil)
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagSampleTruncated) && d.Sampled >= probetest.Budget().SampleRecords {
			t.Errorf("%s: full sample of %d flagged %v", d.Name, d.Sampled, d.Flags)
		}
	}
	unchanged()
}
