package rsync

import (
	"bufio"
	"fmt"
	"net"
	"path/filepath"
	"slices"
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
	s := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	probetest.OversizedFile(t, filepath.Join(s.Dir, "files"), "zz-huge-export.csv", maxFileSize)
	probetest.WantDatasetFlag(t, probetest.Exposed(t, New(), s.Addr, s.Port, nil), probe.FlagRecordTooLarge)
}

// TestModuleListCapFlagged: a real daemon listing two modules ("files",
// "payroll") to a probe whose listing budget is one line keeps the first
// and flags the result datasets-truncated; the second module was dropped
// without a word before.
func TestModuleListCapFlagged(t *testing.T) {
	s := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.MaxListed = 1 }, probe.FlagDatasetsTruncated)
	if res.Evidence["modules"] != 1 || res.Evidence["module_list_truncated"] != true {
		t.Errorf("module list cut at 1 line: evidence %v", res.Evidence)
	}

	// The default budget reads both modules: no cut.
	res = probetest.Probed(t, New(), s.Addr, s.Port, nil)
	if res.Evidence["modules"] != 2 || res.Evidence["module_list_truncated"] != nil {
		t.Errorf("default budget: evidence %v flags %v", res.Evidence, res.Flags)
	}
}

// TestFileListCapFlagged: a module with more files than the listing
// budget left gives datasets without counts; the result says so with
// datasets-truncated (before, the cut only left the counts empty).
func TestFileListCapFlagged(t *testing.T) {
	s := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	// The module list (2 lines) fits in 3; the tree does not.
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.MaxListed = 3 }, probe.FlagDatasetsTruncated)
	if res.Evidence["module_list_truncated"] != nil || res.Evidence["listing_truncated:files"] != true {
		t.Errorf("file listing cut at 3 entries: evidence %v", res.Evidence)
	}
	if res = probetest.Probed(t, New(), s.Addr, s.Port, nil); slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("default budget: flags %v", res.Flags)
	}
}

// TestManyModulesFlagged: a daemon listing more modules than are requested
// (maxModules) gives a result flagged datasets-truncated, not only a note
// in the evidence.
func TestManyModulesFlagged(t *testing.T) {
	srv := probetest.Stall(t, func(c net.Conn) {
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
	res := probetest.Probed(t, New(), srv.Addr, srv.Port, nil)
	if res.Status != finding.StatusProtected || res.Evidence["modules"] != maxModules+5 {
		t.Errorf("status %s evidence %v", res.Status, res.Evidence)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("flags %v, want %s", res.Flags, probe.FlagDatasetsTruncated)
	}
}

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	srv := probetest.Stall(t, func(c net.Conn) {
		c.Write([]byte("@RSYNCD: 31.0\n"))
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil { // client greeting
			return
		}
		what, err := br.ReadString('\n')
		if err != nil {
			return
		}
		if strings.TrimSpace(what) == "#list" {
			c.Write([]byte("pub\tpublic files\n@RSYNCD: EXIT\n"))
			return
		}
		c.Write([]byte("@RSYNCD: OK\n")) // then no file list
	})
	prov, _, _ := probetest.ProbeCut(t, New(), srv.Addr, srv.Port)
	if prov.Product != "rsync" || prov.Status != finding.StatusExposed || prov.Auth != finding.AuthNone {
		t.Errorf("provisional %+v", prov)
	}
}
