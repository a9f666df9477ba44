package mysql

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestLimitsFlagged: rows left unread because the sample byte budget was
// reached flag the dataset sample-truncated, and tables past MaxListed
// flag the result datasets-truncated — a limit never drops data silently.
func TestLimitsFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	s.Seed(t)
	b := probetest.Budget()
	b.SampleBytes = 300
	b.MaxListed = 2
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed {
		t.Fatalf("status %s (error %q)", res.Status, res.Error)
	}
	if len(res.Datasets) != 2 || !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("%d datasets, flags %v; want 2 and %s", len(res.Datasets), res.Flags, probe.FlagDatasetsTruncated)
	}
	cut := 0
	for _, d := range res.Datasets {
		short := d.Sampled > 0 && d.Records != nil && int64(d.Sampled) < *d.Records
		if short != slices.Contains(d.Flags, probe.FlagSampleTruncated) {
			t.Errorf("%s: sampled %d of %v, flags %v", d.Name, d.Sampled, *d.Records, d.Flags)
		}
		if short {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no sample was cut by a %d-byte budget: %+v", b.SampleBytes, res.Datasets)
	}

	// The default budget reads the seeded tables whole: no flag.
	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagSampleTruncated) {
			t.Errorf("%s flagged under the default budget: %v", d.Name, d.Flags)
		}
	}
}
