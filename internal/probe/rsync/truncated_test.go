package rsync

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
)

// TestManyModulesFlagged: a daemon listing more modules than are requested
// (maxModules) gives a result flagged datasets-truncated, not only a note
// in the evidence.
func TestManyModulesFlagged(t *testing.T) {
	addr, port := stallServer(t, func(c net.Conn) {
		c.Write([]byte("@RSYNCD: 31.0\n"))
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil {
			return
		}
		what, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(what) == "#list" {
			var b strings.Builder
			for i := range maxModules + 5 {
				fmt.Fprintf(&b, "mod%02d\tmodule %d\n", i, i)
			}
			b.WriteString("@RSYNCD: EXIT\n")
			c.Write([]byte(b.String()))
			return
		}
		c.Write([]byte("@RSYNCD: AUTHREQD challenge\n"))
	})
	res, err := probetest.Run(t, New(), addr, port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Evidence["modules"] != maxModules+5 {
		t.Errorf("status %s evidence %v", res.Status, res.Evidence)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("flags %v, want %s", res.Flags, probe.FlagDatasetsTruncated)
	}
}
