package probetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// OversizedFile writes root/name: CSV text (an e-mail address and a secret
// a line) a little larger than size bytes, for a prober whose per-file
// read limit is size.
func OversizedFile(tb testing.TB, root, name string, size int) {
	tb.Helper()
	big := strings.Repeat("jane.doe@example.com,secret\n", size/28+100)
	if err := os.WriteFile(filepath.Join(root, name), []byte(big), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ManySubdirs makes n subdirectories zz-dir-00, zz-dir-01, … under root,
// each holding one small file a.txt.
func ManySubdirs(tb testing.TB, root string, n int) {
	tb.Helper()
	for i := range n {
		d := filepath.Join(root, fmt.Sprintf("zz-dir-%02d", i))
		if err := os.MkdirAll(d, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "a.txt"), []byte("x\n"), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// TreeUnchanged is Unchanged for a directory tree the store serves: it
// takes testenv.TreeDigest of root (leaving out names with the skip
// prefixes) now, and the check it returns fails the test when the tree
// has changed since.
func TreeUnchanged(tb testing.TB, root string, skip ...string) (check func()) {
	tb.Helper()
	return Unchanged(tb, func(tb testing.TB) string { return testenv.TreeDigest(tb, root, skip...) })
}
