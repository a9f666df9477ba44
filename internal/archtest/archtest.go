// Package archtest enforces leakwatch's import layers (ARCHITECTURE.md):
// a package may import packages of its own layer or of lower layers, never
// of a higher one. TestImportLayers runs the check on the tree with
// `go list`; Check is the checker itself, tested on synthetic graphs.
//
// Only the imports of non-test files are checked: tests may reach up (an
// engine test writes through output, an API test registers metrics), but
// code that ships may not. Test kits (testenv, probetest, storetest) sit
// above every shipping layer, so no shipping package can import one.
//
// A package that matches no layer fails the check: a new package is placed
// in a layer here, on purpose, when it is added.
package archtest

import (
	"fmt"
	"slices"
	"strings"
)

// Module is leakwatch's module path.
const Module = "github.com/leakwatch/leakwatch"

// Layer is one rank of the import order. Packages are module-relative
// paths: "internal/finding" is that package alone, "internal/probe/..." is
// every package below internal/probe (not internal/probe itself). When
// several patterns match a package, the longest wins, so an exact path can
// lift one sub-package out of its parent's layer.
type Layer struct {
	Name     string
	Packages []string
}

// Layers are leakwatch's layers, lowest first. Keep ARCHITECTURE.md's list
// in step with this one.
var Layers = []Layer{
	{"leaf", []string{"internal/metrics", "internal/limits", "internal/sqldump"}},
	{"domain", []string{"internal/finding", "internal/lifecycle", "internal/scope"}},
	{"classify+config", []string{"internal/classify", "internal/classify/...", "internal/config"}},
	{"probe", []string{"internal/probe"}},
	{"probers", []string{"internal/probe/..."}},
	{"engine+sweep", []string{"internal/engine", "internal/sweep"}},
	{"store+output", []string{"internal/store", "internal/store/...", "internal/output", "internal/report"}},
	{"pipelines", []string{"internal/scan", "internal/monitor", "internal/cluster"}},
	{"front-ends", []string{"internal/alert", "internal/api", "internal/dashboard"}},
	{"commands", []string{"cmd/..."}},
	{"test kits", []string{"internal/testenv", "internal/probe/probetest", "internal/store/storetest"}},
	{"tools", []string{"tools/...", "testenv/...", "internal/archtest"}},
}

// Package is one package of the module and what its non-test files import
// (full import paths; imports outside the module are ignored).
type Package struct {
	ImportPath string
	Imports    []string
}

// Violation is one broken rule.
type Violation struct {
	From, To string // module-relative paths; To is empty for "in no layer"
	Msg      string
}

func (v Violation) String() string { return v.Msg }

// Check returns every violation of layers by pkgs of module: an import of a
// higher layer, a package in no layer, and a layer pattern that matches no
// package (a stale entry). The result is sorted.
func Check(module string, layers []Layer, pkgs []Package) []Violation {
	var out []Violation
	rank := func(rel string) (int, bool) {
		best, bestLen := -1, -1
		for i, l := range layers {
			for _, pat := range l.Packages {
				if match(pat, rel) && len(pat) > bestLen {
					best, bestLen = i, len(pat)
				}
			}
		}
		return best, best >= 0
	}
	// A pattern is used if some package matches it (even if a longer
	// pattern of another layer won).
	used := map[string]bool{}
	for _, p := range pkgs {
		rel, ok := relative(module, p.ImportPath)
		if !ok {
			continue
		}
		for _, l := range layers {
			for _, pat := range l.Packages {
				if match(pat, rel) {
					used[pat] = true
				}
			}
		}
	}
	for _, p := range pkgs {
		from, ok := relative(module, p.ImportPath)
		if !ok {
			continue
		}
		fr, ok := rank(from)
		if !ok {
			out = append(out, Violation{From: from, Msg: fmt.Sprintf("%s is in no layer: add it to archtest.Layers (and ARCHITECTURE.md)", from)})
			continue
		}
		for _, imp := range p.Imports {
			to, ok := relative(module, imp)
			if !ok {
				continue
			}
			tr, ok := rank(to)
			if !ok || tr <= fr {
				continue // an unplaced import is reported as its own package
			}
			out = append(out, Violation{From: from, To: to, Msg: fmt.Sprintf(
				"%s (layer %d %s) imports %s (layer %d %s): a lower layer must not import a higher one",
				from, fr, layers[fr].Name, to, tr, layers[tr].Name)})
		}
	}
	for _, l := range layers {
		for _, pat := range l.Packages {
			if !used[pat] {
				out = append(out, Violation{From: pat, Msg: fmt.Sprintf("layer %s: %s matches no package (moved or removed?)", l.Name, pat)})
			}
		}
	}
	slices.SortFunc(out, func(a, b Violation) int { return strings.Compare(a.Msg, b.Msg) })
	return out
}

// relative strips module from an import path; ok is false outside it.
func relative(module, path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// match reports whether rel matches pat ("a/b" exactly, "a/b/..." below).
func match(pat, rel string) bool {
	if dir, ok := strings.CutSuffix(pat, "/..."); ok {
		return strings.HasPrefix(rel, dir+"/")
	}
	return pat == rel
}
