package ftp

import (
	"bufio"
	"net"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestOversizedFileFlagged is issue 8 item 10: a sampleable file larger
// than the per-file read limit was skipped without a word. The dataset
// holding it must say record-too-large.
func TestOversizedFileFlagged(t *testing.T) {
	s := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true})
	probetest.OversizedFile(t, s.Root, "zz-huge-export.csv", maxFileSize)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, nil)
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}

// TestManySubdirsFlagged: a tree with more subdirectories than are listed
// must flag the result datasets-truncated, not only note it in evidence.
func TestManySubdirsFlagged(t *testing.T) {
	s := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true})
	probetest.ManySubdirs(t, s.Root, maxSubdirs+5)
	probetest.Exposed(t, New(), s.Addr, s.Port, nil, probe.FlagDatasetsTruncated)
}

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.Stall(t, func(c net.Conn) {
		c.Write([]byte("220 FTP server ready\r\n"))
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb {
			case "USER":
				c.Write([]byte("331 password please\r\n"))
			case "PASS":
				c.Write([]byte("230 logged in\r\n"))
			case "PWD":
				c.Write([]byte("257 \"/\" is the current directory\r\n"))
			default:
				return // silent from here on
			}
		}
	})
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Status != finding.StatusExposed || prov.Auth != finding.AuthNone {
		t.Errorf("provisional %+v", prov)
	}
}
