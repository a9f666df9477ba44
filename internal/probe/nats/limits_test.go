package nats

import (
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
	// every seeded message is larger
	res := probetest.Probed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 4 })
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}
