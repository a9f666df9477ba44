package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestImportLayers fails when a package of the tree imports one of a higher
// layer, sits in no layer, or when a layer names a package that is gone.
func TestImportLayers(t *testing.T) {
	pkgs := listPackages(t)
	if len(pkgs) < 20 {
		t.Fatalf("go list found %d packages of %s; expected the whole tree", len(pkgs), Module)
	}
	for _, v := range Check(Module, Layers, pkgs) {
		t.Error(v)
	}
}

// listPackages runs `go list -e -json ./...` over the module and returns its
// packages with the imports of their non-test files.
func listPackages(t *testing.T) []Package {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(gobin, "list", "-e", "-json=ImportPath,Imports", Module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p Package
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// graph builds packages of module example.org/m from "from: to to ..."
// lines; paths under internal/, cmd/ and tools/ are module-relative, others
// (std, other modules) pass through.
func graph(lines ...string) []Package {
	full := func(rel string) string {
		for _, dir := range []string{"internal/", "cmd/", "tools/"} {
			if strings.HasPrefix(rel, dir) {
				return "example.org/m/" + rel
			}
		}
		return rel
	}
	var pkgs []Package
	for _, l := range lines {
		from, tos, _ := strings.Cut(l, ":")
		p := Package{ImportPath: full(strings.TrimSpace(from))}
		for _, to := range strings.Fields(tos) {
			p.Imports = append(p.Imports, full(to))
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

var testLayers = []Layer{
	{"leaf", []string{"internal/metrics"}},
	{"domain", []string{"internal/finding", "internal/lifecycle"}},
	{"probe", []string{"internal/probe"}},
	{"probers", []string{"internal/probe/..."}},
	{"front-ends", []string{"internal/store", "internal/api"}},
	{"commands", []string{"cmd/..."}},
	{"test kits", []string{"internal/testenv", "internal/probe/probetest"}},
	{"tools", []string{"tools/..."}},
}

// clean is a graph that obeys testLayers.
var clean = []string{
	"internal/metrics: fmt",
	"internal/finding: encoding/json",
	"internal/lifecycle: internal/finding", // same layer
	"internal/probe: internal/finding github.com/other/mod",
	"internal/probe/redis: internal/probe internal/finding",
	"internal/probe/all: internal/probe/redis", // same layer
	"internal/probe/probetest: internal/probe internal/testenv",
	"internal/testenv: net",
	"internal/store: internal/lifecycle internal/metrics",
	"internal/api: internal/store",
	"cmd/leakwatch: internal/api internal/probe/all internal/metrics",
	"tools/bench: internal/probe/probetest internal/store",
}

func msgs(vs []Violation) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Msg)
	}
	return out
}

func TestCheckCleanGraph(t *testing.T) {
	if vs := Check("example.org/m", testLayers, graph(clean...)); len(vs) != 0 {
		t.Fatalf("clean graph: %q", msgs(vs))
	}
}

// TestCheckInjectedViolations injects one broken rule at a time into the
// clean graph and expects exactly that violation.
func TestCheckInjectedViolations(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func([]string) []string
		want   string
	}{
		{"domain imports store (the old lifecycle→monitor shape)",
			add("internal/lifecycle: internal/finding internal/store"),
			"internal/lifecycle (layer 1 domain) imports internal/store (layer 4 front-ends): a lower layer must not import a higher one"},
		{"leaf imports domain (metrics reading the store's types)",
			add("internal/metrics: internal/finding"),
			"internal/metrics (layer 0 leaf) imports internal/finding (layer 1 domain): a lower layer must not import a higher one"},
		{"prober imports a test kit",
			add("internal/probe/redis: internal/probe internal/testenv"),
			"internal/probe/redis (layer 3 probers) imports internal/testenv (layer 6 test kits): a lower layer must not import a higher one"},
		{"command imports a test kit",
			add("cmd/leakwatch: internal/api internal/probe/probetest"),
			"cmd/leakwatch (layer 5 commands) imports internal/probe/probetest (layer 6 test kits): a lower layer must not import a higher one"},
		{"probe imports a prober",
			add("internal/probe: internal/finding internal/probe/redis"),
			"internal/probe (layer 2 probe) imports internal/probe/redis (layer 3 probers): a lower layer must not import a higher one"},
		{"package in no layer",
			add("internal/newthing: internal/finding"),
			"internal/newthing is in no layer: add it to archtest.Layers (and ARCHITECTURE.md)"},
		{"stale layer entry",
			drop("internal/api"),
			"layer front-ends: internal/api matches no package (moved or removed?)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := msgs(Check("example.org/m", testLayers, graph(tc.change(slices.Clone(clean))...)))
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("violations:\n%s\nwant exactly:\n%s", strings.Join(got, "\n"), tc.want)
			}
		})
	}
}

// add replaces the line of the same package (or appends it).
func add(line string) func([]string) []string {
	return func(g []string) []string {
		from, _, _ := strings.Cut(line, ":")
		for i, l := range g {
			if f, _, _ := strings.Cut(l, ":"); f == from {
				g[i] = line
				return g
			}
		}
		return append(g, line)
	}
}

// drop removes a package and every import of it.
func drop(pkg string) func([]string) []string {
	return func(g []string) []string {
		var out []string
		for _, l := range g {
			from, tos, _ := strings.Cut(l, ":")
			if from == pkg {
				continue
			}
			var keep []string
			for _, to := range strings.Fields(tos) {
				if to != pkg {
					keep = append(keep, to)
				}
			}
			out = append(out, from+": "+strings.Join(keep, " "))
		}
		return out
	}
}

// TestLongestPatternWins: an exact path lifts a sub-package out of its
// parent's "/..." layer, whichever layer is listed first.
func TestLongestPatternWins(t *testing.T) {
	g := graph(append(slices.Clone(clean),
		// probetest is a test kit though internal/probe/... are probers:
		// importing it from a prober is upward.
		"internal/probe/mongodb: internal/probe/probetest")...)
	got := msgs(Check("example.org/m", testLayers, g))
	want := "internal/probe/mongodb (layer 3 probers) imports internal/probe/probetest (layer 6 test kits): a lower layer must not import a higher one"
	if len(got) != 1 || got[0] != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pat, rel string
		want     bool
	}{
		{"internal/probe", "internal/probe", true},
		{"internal/probe", "internal/probe/redis", false},
		{"internal/probe/...", "internal/probe", false},
		{"internal/probe/...", "internal/probe/redis", true},
		{"internal/probe/...", "internal/probe/redis/sub", true},
		{"internal/probe/...", "internal/prober", false},
		{"internal/probe/...", "internal/probex/a", false},
	} {
		if got := match(tc.pat, tc.rel); got != tc.want {
			t.Errorf("match(%q, %q) = %v, want %v", tc.pat, tc.rel, got, tc.want)
		}
	}
}
