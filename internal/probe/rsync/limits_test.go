package rsync

import (
	"os"
	"path/filepath"
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
	big := strings.Repeat("jane.doe@example.com,secret\n", (maxFileSize/28)+100)
	if err := os.WriteFile(filepath.Join(s.Dir, "files", "zz-huge-export.csv"), []byte(big), 0o644); err != nil {
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
