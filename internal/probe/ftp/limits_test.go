package ftp

import (
	"fmt"
	"os"
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
	s := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true})
	big := strings.Repeat("jane.doe@example.com,secret\n", (maxFileSize/28)+100)
	if err := os.WriteFile(filepath.Join(s.Root, "zz-huge-export.csv"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := probetest.Check(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed {
		t.Fatalf("status %s (error %q), want exposed", res.Status, res.Error)
	}
	probetest.WantDatasetFlag(t, res, probe.FlagRecordTooLarge)
}

// TestManySubdirsFlagged: a tree with more subdirectories than are listed
// must flag the result datasets-truncated, not only note it in evidence.
func TestManySubdirsFlagged(t *testing.T) {
	s := testenv.StartVsftpd(t, testenv.FTPOptions{Anonymous: true})
	for i := range maxSubdirs + 5 {
		d := filepath.Join(s.Root, fmt.Sprintf("zz-dir-%02d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "a.txt"), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := probetest.Check(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Fatalf("status %s flags %v, want exposed with %s", res.Status, res.Flags, probe.FlagDatasetsTruncated)
	}
}
