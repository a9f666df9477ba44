package memcached

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedItemFlagged is issue 8 item 10 against a real memcached: an
// item larger than the per-value limit was left out without a word.
func TestOversizedItemFlagged(t *testing.T) {
	s := testenv.StartMemcached(t, testenv.MemcachedOptions{})
	s.Seed(t)
	c, err := net.Dial("tcp", net.JoinHostPort(s.Addr.String(), fmt.Sprint(s.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := strings.Repeat("x", maxValue+1000)
	fmt.Fprintf(c, "set zz-huge-session 0 0 %d\r\n%s\r\n", len(big), big)
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "STORED") {
		t.Fatalf("set: %q %v", line, err)
	}
	res := probetest.Probed(t, New(), s.Addr, s.Port, nil)
	if len(res.Datasets) != 1 || !slices.Contains(res.Datasets[0].Flags, probe.FlagRecordTooLarge) {
		t.Fatalf("datasets %+v, want the cache flagged %s", res.Datasets, probe.FlagRecordTooLarge)
	}
}

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
