package mqtt

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestSampleCutFlagged is issue 8 item 10 against a real mosquitto:
// retained payloads left out of a topic's sample for the byte budget were
// dropped without a word.
func TestSampleCutFlagged(t *testing.T) {
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{})
	s.Seed(t)
	b := probetest.Budget()
	for _, sb := range []int64{300, 120} {
		b.SampleBytes = sb
		res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		for _, d := range res.Datasets {
			if slices.Contains(d.Flags, probe.FlagSampleTruncated) || slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
				return
			}
		}
		t.Logf("budget %d: flags %v, datasets %d", sb, res.Flags, len(res.Datasets))
	}
	t.Fatal("no dataset flagged for payloads left out of its sample")
}
