package etcd

import (
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
	res := probetest.Probed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 1024 })
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}
