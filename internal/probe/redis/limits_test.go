package redis

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedValueFlagged is issue 8 item 10 against a real Redis: a
// value larger than the per-value limit is read in part only, and the
// dataset must say so.
func TestOversizedValueFlagged(t *testing.T) {
	s := testenv.StartRedis(t, testenv.RedisOptions{Config: []string{"protected-mode no"}})
	c, err := net.Dial("tcp", net.JoinHostPort(s.Addr.String(), fmt.Sprint(s.Port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	big := strings.Repeat("x", maxValue+1000)
	fmt.Fprintf(c, "*3\r\n$3\r\nSET\r\n$8\r\nzz-dump1\r\n$%d\r\n%s\r\n", len(big), big)
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.HasPrefix(line, "+OK") {
		t.Fatalf("set: %q %v", line, err)
	}
	res := probetest.Probed(t, New(), s.Addr, s.Port, nil)
	probetest.WantDatasetFlag(t, res, probe.FlagSampleTruncated)
}
