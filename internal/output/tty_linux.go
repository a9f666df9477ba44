//go:build linux

package output

import "golang.org/x/sys/unix"

// isTTY asks the terminal driver (TCGETS): only a terminal answers, so a
// character device like /dev/null is not one.
func isTTY(fd uintptr) bool {
	_, err := unix.IoctlGetTermios(int(fd), unix.TCGETS)
	return err == nil
}
