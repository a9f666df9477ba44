//go:build unix

package sweep

import (
	"fmt"
	"syscall"
)

// RaiseFDLimit raises the soft limit on open files to the hard limit and
// returns the soft limit now in force. (Go already does this at start-up on
// most systems; calling it again is cheap and covers embedders that lowered
// it.) A failure to raise leaves the old limit, which is returned with the
// error.
func RaiseFDLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("sweep: read file limit: %w", err)
	}
	if lim.Cur >= lim.Max {
		return uint64(lim.Cur), nil
	}
	old := lim.Cur
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return uint64(old), fmt.Errorf("sweep: raise file limit to %d: %w", lim.Max, err)
	}
	return uint64(lim.Cur), nil
}
