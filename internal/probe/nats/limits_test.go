package nats

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedMessageFlagged is issue 8 item 10 against a real NATS
// server: a stored message larger than the sample budget was dropped
// without a word.
func TestOversizedMessageFlagged(t *testing.T) {
	s := testenv.StartNATS(t, testenv.NATSOptions{})
	s.Seed(t)
	b := probetest.Budget()
	b.SampleBytes = 4 // every seeded message is larger
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			return
		}
	}
	t.Fatalf("no dataset flagged %s: %+v", probe.FlagRecordTooLarge, res.Datasets)
}
