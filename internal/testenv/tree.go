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

// FileTreeCounts are the files SeedFileTree puts in each folder at most
// one level deep (relative to its root; hidden files and deeper levels not
// counted).
var FileTreeCounts = map[string]int64{"/": 3, "/backups": 2, "/pub": 1}

// FileTreeSecrets are raw seeded values no leakwatch output may contain.
var FileTreeSecrets = []string{"alice.martin@example.com", "Winter2024!db", "IiosxfC6nH7/pTznyaaVJiRxtA9CdXiZlJZ9ILP2", "$2y$10$abcdefghijklmnopqrstuv"}

// SeedFileTree writes personal-data-shaped files (CSV, text, .env) and a
// large binary under root, three levels deep.
func SeedFileTree(t testing.TB, root string) {
	t.Helper()
	WriteFile(t, filepath.Join(root, "customers.csv"), "email,full_name,phone\n"+
		"alice.martin@example.com,Alice Martin,+1 555 0100\nbob.oneil@example.org,Bob O'Neil,+1 555 0101\n")
	WriteFile(t, filepath.Join(root, "readme.txt"), "contact: ops@example.com\n")
	WriteFile(t, filepath.Join(root, "firmware.bin"), strings.Repeat("\x7fELF", 30000)) // > 64 KiB, never read
	WriteFile(t, filepath.Join(root, "backups", "users.csv"), "username,email,password_hash\n"+
		"carol,carol@example.net,$2y$10$abcdefghijklmnopqrstuv\n")
	WriteFile(t, filepath.Join(root, "backups", ".env"), "DB_PASSWORD=Winter2024!db\nAWS_SECRET_ACCESS_KEY=IiosxfC6nH7/pTznyaaVJiRxtA9CdXiZlJZ9ILP2\n")
	WriteFile(t, filepath.Join(root, "backups", "old", "deep.csv"), "email\nzed@example.com\n")
	WriteFile(t, filepath.Join(root, "pub", "notes.txt"), "nothing here\n")
}
