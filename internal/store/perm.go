package store

import (
	"io/fs"
	"log/slog"
)

// Loose tells whether a file mode lets the group or others read or write
// it: the key file and the SQLite history are the owner's alone (0600).
func Loose(mode fs.FileMode) bool { return mode.Perm()&0o077 != 0 }

// WarnIfLoose logs a warning (to logger, or slog.Default()) when the file
// at path, described by what, can be read or written by group or others.
// It reports whether it warned.
func WarnIfLoose(logger *slog.Logger, what, path string, mode fs.FileMode) bool {
	if !Loose(mode) {
		return false
	}
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn(what+" is readable or writable by others; restrict it with chmod 600",
		"path", path, "mode", mode.Perm().String())
	return true
}
