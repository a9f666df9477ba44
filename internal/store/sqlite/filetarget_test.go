package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// TestFileTargetRefused: a finding about a local file (leakwatch classify)
// never enters the history — it has no address to re-check, close or
// alert on — so the store refuses its observation and keeps nothing.
func TestFileTargetRefused(t *testing.T) {
	ctx := context.Background()
	s := open(t, filepath.Join(t.TempDir(), "leakwatch.db"), store.Options{})
	f := &finding.Finding{Target: finding.FileTarget("/srv/exports/users.csv"), Service: "file",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	f.Finalize()
	_, err := s.RecordObservation(ctx, "scan-1", lifecycle.FromFinding(f, "default"))
	if err == nil || !strings.Contains(err.Error(), "network services only") {
		t.Fatalf("file observation recorded: %v", err)
	}
	fs, err := s.ListFindings(ctx, store.FindingFilter{})
	if err != nil || len(fs) != 0 {
		t.Errorf("history after a refused file observation: %v, %v", fs, err)
	}
}
