// Package storeopen opens a store.Store from one string, as given on a
// command line or in the config file:
//
//	postgres://user@127.0.0.1:5432/leakwatch?sslmode=disable   PostgreSQL
//	postgresql://...                                           PostgreSQL
//	sqlite:/var/lib/leakwatch/leakwatch.db                     SQLite
//	/var/lib/leakwatch/leakwatch.db, ./lw.db                   SQLite (a path)
//	"" (empty)                                                 SQLite at DefaultPath()
package storeopen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/postgres"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
)

// EnvDB names the environment variable that overrides the default store.
const EnvDB = "LEAKWATCH_DB"

// Open opens (and migrates) the store that spec names.
func Open(ctx context.Context, spec string, opts store.Options) (store.Store, error) {
	if spec == "" {
		spec = os.Getenv(EnvDB)
	}
	if spec == "" {
		p, err := DefaultPath()
		if err != nil {
			return nil, err
		}
		spec = p
	}
	switch {
	case IsPostgres(spec):
		return postgres.Open(ctx, spec, opts)
	case strings.HasPrefix(spec, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(spec, "sqlite:"), "//"), opts)
	case strings.Contains(spec, "://"):
		return nil, fmt.Errorf("store: unsupported store URL %q (want postgres://, sqlite: or a file path)", redact(spec))
	}
	return sqlite.Open(ctx, spec, opts)
}

// IsPostgres tells whether spec is a PostgreSQL URL.
func IsPostgres(spec string) bool {
	return strings.HasPrefix(spec, "postgres://") || strings.HasPrefix(spec, "postgresql://")
}

// redact hides a password in a URL for error messages.
func redact(spec string) string {
	at := strings.LastIndex(spec, "@")
	scheme := strings.Index(spec, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return spec
	}
	userinfo := spec[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return spec[:scheme+3] + userinfo[:i] + ":***" + spec[at:]
	}
	return spec
}

// Describe names a store for logs without its password.
func Describe(spec string) string { return redact(spec) }

// DefaultPath is where the SQLite history lives when nothing is given:
// $XDG_STATE_HOME/leakwatch/leakwatch.db, or ~/.local/state/leakwatch/
// leakwatch.db on Unix-like systems, or the user config dir elsewhere
// (%AppData%\leakwatch on Windows, ~/Library/Application Support/leakwatch
// on macOS).
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "leakwatch", "leakwatch.db"), nil
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "darwin" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "state", "leakwatch", "leakwatch.db"), nil
		}
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("store: no default location for the database (use --db): %w", err)
	}
	return filepath.Join(dir, "leakwatch", "leakwatch.db"), nil
}
