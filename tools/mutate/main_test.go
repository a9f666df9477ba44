package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const sample = `package p

func f(a, b int, ok bool) int {
	if a < b && ok {
		return 1
	}
	if a == 0 || !ok {
		return 0
	}
	var x [1]int
	_ = x
	return a
}
`

// TestSitesAndEdits: each operator finds its sites, each mutant's edit
// gives the expected line, and the copy is the only thing changed.
func TestSitesAndEdits(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.go")
	if err := os.WriteFile(path, []byte(sample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "p_test.go"), []byte("package p\nfunc g() bool { return 1 < 2 }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	muts, err := collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range muts {
		if filepath.Base(m.File) != "p.go" {
			t.Errorf("mutant in %s: test files are not mutated", m.File)
		}
		out, err := apply([]byte(sample), m.edits)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(out), "\n")
		key := m.Desc + "@" + string(rune('0'+m.Line))
		if _, dup := got[key]; dup {
			key += "'"
		}
		got[key] = strings.TrimSpace(lines[m.Line-1])
		if !strings.HasSuffix(m.ID, "#1") && !strings.HasSuffix(m.ID, "#2") {
			t.Errorf("ID %q has no occurrence", m.ID)
		}
	}
	want := map[string]string{
		"< → <=@4":              "if a <= b && ok {",
		"&& → ||@4":             "if a < b || ok {",
		"negate if condition@4": "if !(a < b && ok) {",
		"remove early return@4": "{}",
		"constant 1 → 0@5":      "return 0",
		"== → !=@7":             "if a != 0 || !ok {",
		"|| → &&@7":             "if a == 0 && !ok {",
		"constant 0 → 1@7":      "if a == 1 || !ok {",
		"negate if condition@7": "if !(a == 0 || !ok) {",
		"remove early return@7": "{}",
		"constant 0 → 1@8":      "return 1",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected mutant %s: %q (array lengths are not mutated)", k, got[k])
		}
	}
	b, _ := os.ReadFile(path)
	if string(b) != sample {
		t.Errorf("the source file changed")
	}
	ids := []string{}
	for _, m := range muts {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != len(muts) {
		t.Errorf("mutant IDs are not unique: %v", ids)
	}
}

func TestLoadEquivalentFile(t *testing.T) {
	known, err := loadEquivalent("equivalent.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(known) == 0 {
		t.Fatal("no equivalent mutants read")
	}
	for k, why := range known {
		if file, _, _ := strings.Cut(k, "|"); !strings.HasSuffix(file, ".go") || why == "" || strings.Contains(k, " #") {
			t.Errorf("entry %q: %q", k, why)
		}
	}
	one := filepath.Join(t.TempDir(), "one.txt")
	os.WriteFile(one, []byte("a.go | f | == → != #2 | x == y | why\n"), 0o644)
	if k, err := loadEquivalent(one); err != nil || k["a.go|f|== → !=|x == y#2"] != "why" {
		t.Errorf("occurrence entry read as %v, %v", k, err)
	}
	bad := filepath.Join(t.TempDir(), "eq.txt")
	os.WriteFile(bad, []byte("a | b | c\n"), 0o644)
	if _, err := loadEquivalent(bad); err == nil {
		t.Error("a line of three fields was accepted")
	}
}
