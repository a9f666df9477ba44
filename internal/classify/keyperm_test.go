package classify

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyFileLooseWarns: a key file that others can read is reported on
// load; a private one (as LoadOrCreateKey creates it) is not.
func TestKeyFileLooseWarns(t *testing.T) {
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, nil)))
	defer slog.SetDefault(prev)

	path := filepath.Join(t.TempDir(), "key")
	if _, err := LoadOrCreateKey(path); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 || logs.Len() != 0 {
		t.Fatalf("mode %v, logs %q", fi.Mode().Perm(), logs.String())
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(path); err != nil {
		t.Fatal(err)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "key file is readable") || !strings.Contains(got, path) {
		t.Fatalf("no warning about a 0640 key file: %q", got)
	}
}
