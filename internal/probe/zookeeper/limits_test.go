package zookeeper

import (
	"fmt"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestManyChildrenKept: a children list longer than maxChildren used to be
// a protocol error, and the root listing failing left an open ensemble
// "unknown" (issue 8 item 6). The first maxChildren names are kept, flagged.
func TestManyChildrenKept(t *testing.T) {
	var e encoder
	e.i32(7)
	e.i64(9)
	e.i32(0)
	const n = maxChildren + 5000
	e.i32(n)
	for i := range n {
		e.str(fmt.Sprintf("n%d", i))
	}
	e.b = append(e.b, make([]byte, statLen)...)
	r, err := parseReply(e.b, opGetChildren2)
	if err != nil {
		t.Fatalf("parseReply: %v", err)
	}
	if !r.childrenCut || len(r.children) != maxChildren {
		t.Fatalf("cut=%v children=%d, want the first %d and cut", r.childrenCut, len(r.children), maxChildren)
	}
	// Negative counts other than -1 stay protocol errors.
	var bad encoder
	bad.i32(7)
	bad.i64(9)
	bad.i32(0)
	bad.i32(-5)
	if _, err := parseReply(bad.b, opGetChildren2); err == nil {
		t.Fatal("negative children count accepted")
	}
}

// TestOversizedValueFlagged is issue 8 item 10 against a real ensemble:
// znode data larger than the sample budget was left out without a word.
func TestOversizedValueFlagged(t *testing.T) {
	s := testenv.StartZooKeeper(t, testenv.ZooKeeperOptions{})
	s.Seed(t, "")
	// every seeded value is larger
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 4 })
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}
