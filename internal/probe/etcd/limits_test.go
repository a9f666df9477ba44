package etcd

import (
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedValueFlagged is issue 8 item 10 against a real etcd: a
// value larger than the sample budget was left out without a word.
func TestOversizedValueFlagged(t *testing.T) {
	s := testenv.StartEtcd(t, testenv.EtcdOptions{})
	s.Seed(t, [][2]string{{"/dumps/full", strings.Repeat("x", 8192)}, {"/dumps/b", strings.Repeat("y", 8192)}, {"/loose", strings.Repeat("z", 8192)}})
	b := probetest.Budget()
	b.SampleBytes = 1024
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	flagged := 0
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagRecordTooLarge) {
			flagged++
		}
	}
	if flagged == 0 {
		t.Fatalf("no dataset flagged %s: %+v", probe.FlagRecordTooLarge, res.Datasets)
	}
}
