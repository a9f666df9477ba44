package storeopen

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/store"
)

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, spec := range []string{filepath.Join(dir, "a.db"), "sqlite:" + filepath.Join(dir, "b.db")} {
		s, err := Open(context.Background(), spec, store.Options{})
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if v, err := s.SchemaVersion(context.Background()); err != nil || v < 1 {
			t.Errorf("%s: version %d %v", spec, v, err)
		}
		s.Close()
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/tmp/xdg-state")
	p, err := DefaultPath()
	if err != nil || p != "/tmp/xdg-state/leakwatch/leakwatch.db" {
		t.Errorf("%s %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/alice")
	if p, _ := DefaultPath(); p != "/home/alice/.local/state/leakwatch/leakwatch.db" {
		t.Errorf("default %s", p)
	}
	// The environment variable wins over the default location.
	t.Setenv(EnvDB, filepath.Join(t.TempDir(), "env.db"))
	s, err := Open(context.Background(), "", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestUnsupported(t *testing.T) {
	_, err := Open(context.Background(), "mysql://root:hunter2@127.0.0.1/x", store.Options{})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "unsupported") {
		t.Errorf("err %v", err)
	}
	if got := Describe("postgres://lw:s3cret@127.0.0.1/lw"); got != "postgres://lw:***@127.0.0.1/lw" {
		t.Errorf("describe %s", got)
	}
}
