//go:build !linux

package output

import "os"

// isTTY falls back to the character-device check where TCGETS is not
// available.
func isTTY(fd uintptr) bool {
	st, err := os.NewFile(fd, "").Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
