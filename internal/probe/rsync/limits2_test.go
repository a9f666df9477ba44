package rsync

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestModuleListCapFlagged: a real daemon listing two modules ("files",
// "payroll") to a probe whose listing budget is one line keeps the first
// and flags the result datasets-truncated; the second module was dropped
// without a word before.
func TestModuleListCapFlagged(t *testing.T) {
	s := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	b := probetest.Budget()
	b.MaxListed = 1
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Evidence["modules"] != 1 {
		t.Errorf("status %s evidence %v", res.Status, res.Evidence)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) || res.Evidence["module_list_truncated"] != true {
		t.Errorf("module list cut at 1 line: flags %v evidence %v", res.Flags, res.Evidence)
	}

	// The default budget reads both modules: no cut.
	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evidence["modules"] != 2 || res.Evidence["module_list_truncated"] != nil {
		t.Errorf("default budget: evidence %v flags %v", res.Evidence, res.Flags)
	}
}

// TestFileListCapFlagged: a module with more files than the listing
// budget left gives datasets without counts; the result says so with
// datasets-truncated (before, the cut only left the counts empty).
func TestFileListCapFlagged(t *testing.T) {
	s := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	b := probetest.Budget()
	b.MaxListed = 3 // the module list (2 lines) fits; the tree does not
	res, err := probetest.RunBudget(t, New(), s.Addr, s.Port, b)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Evidence["module_list_truncated"] != nil {
		t.Fatalf("status %s evidence %v", res.Status, res.Evidence)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) || res.Evidence["listing_truncated:files"] != true {
		t.Errorf("file listing cut at 3 entries: flags %v evidence %v", res.Flags, res.Evidence)
	}
	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("default budget: flags %v err %v", res.Flags, err)
	}
}
