package sqlite

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// TestFilesPrivate: the history database and its -wal and -shm files are
// created 0600 whatever the umask, because the history says where every
// exposed store is and what it holds.
func TestFilesPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	var logs bytes.Buffer
	path := filepath.Join(t.TempDir(), "lw.db")
	s := open(t, path, store.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()
	// A write makes sure the WAL and shared-memory files exist.
	run, err := s.BeginScan(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	f := finding.Finding{Service: "redis", Status: finding.StatusExposed, Target: finding.Target{Host: "127.0.0.1", Port: 6379}, ObservedAt: time.Now()}
	f.Finalize()
	if _, err := s.RecordObservation(ctx, run.ID, lifecycle.FromFinding(&f, "lab")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if logs.Len() != 0 {
		t.Errorf("warned about a private database: %s", logs.String())
	}
}

// TestLooseFileWarns: an existing database that others can read is
// reported (not silently used, not changed behind the owner's back).
func TestLooseFileWarns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lw.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	open(t, path, store.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "history database is readable or writable by others") || !strings.Contains(got, path) {
		t.Fatalf("no warning about a 0644 database: %q", got)
	}
}
