package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TreeDigest hashes every path under root with its mode, modification time
// and (for files) contents, so a test can prove a file-serving target was
// left untouched. Entries whose base name starts with one of skip are left
// out (a server's own config and logs).
func TreeDigest(tb testing.TB, root string, skip ...string) string {
	tb.Helper()
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		for _, s := range skip {
			if strings.HasPrefix(filepath.Base(p), s) {
				return nil
			}
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		tb.Fatalf("digest %s: %v", root, err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintf(h, "%s %v %d\n", p, st.Mode(), st.ModTime().UnixNano())
		if !st.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// WriteFile writes content to path (mode 0644), creating its folders.
func WriteFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
