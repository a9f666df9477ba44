package memcached

import (
	"bufio"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"

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
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if len(res.Datasets) != 1 || !slices.Contains(res.Datasets[0].Flags, probe.FlagRecordTooLarge) {
		t.Fatalf("datasets %+v, want the cache flagged %s", res.Datasets, probe.FlagRecordTooLarge)
	}
}
