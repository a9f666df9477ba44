// Command mutate is a small mutation tester for Go packages.
//
// For each package directory given it parses the non-test Go files, lists
// mutation sites (flipped comparisons, negated if conditions, && ↔ ||,
// the integer constants 0 ↔ 1, removed early returns), and runs the
// package's own tests once per mutant. A mutant whose tests still pass
// "survived": no test notices that change of behaviour.
//
// Source files are never written: each mutant is a copy of one file in a
// temporary directory, handed to the go command with -overlay, so other
// builds of the same tree never see a mutated file.
//
//	go run ./tools/mutate -n 40 ./internal/classify ./internal/scope=100
//
// Flags: -n samples N mutants per package (0: all; dir=N overrides it for
// one package), chosen by a hash of
// each mutant's identity and -seed, so the same mutants are chosen again
// after unrelated edits; -timeout bounds one test run; -only keeps the
// mutants whose "file:line" or description matches a regular expression;
// -list prints the mutants without running anything; -equivalent names a
// file of mutants known to be equivalent (reported apart, not scored).
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

type edit struct {
	off, end int
	text     string
}

type mutant struct {
	Pkg   string // package directory as given
	File  string // absolute path
	Line  int
	Func  string
	Desc  string
	Src   string // the source line, trimmed
	edits []edit
	key   string
	// ID identifies the mutant across runs: file, function, mutation,
	// source line and the occurrence of that combination.
	ID string

	Result string // killed, survived, not-viable, timeout, equivalent
	Reason string // for equivalent: why
	Took   time.Duration
}

func (m *mutant) pos() string {
	return fmt.Sprintf("%s:%d", relPath(m.File), m.Line)
}

var cwd, _ = os.Getwd()

func relPath(p string) string {
	if r, err := filepath.Rel(cwd, p); err == nil && !strings.HasPrefix(r, "..") {
		return r
	}
	return p
}

func main() {
	n := flag.Int("n", 0, "mutants sampled per package (0: all)")
	seed := flag.String("seed", "leakwatch", "sampling seed")
	timeout := flag.Duration("timeout", 90*time.Second, "timeout of one package test run")
	only := flag.String("only", "", "regular expression: keep mutants whose file:line or description matches")
	list := flag.Bool("list", false, "list the (sampled) mutants, run nothing")
	jobs := flag.Int("j", 1, "mutants tested at once")
	equiv := flag.String("equivalent", "", "file of known-equivalent mutants (file|func|description|source line|reason)")
	jsonOut := flag.String("json", "", "write every mutant's result as JSON to this file")
	run := flag.String("run", "", "passed to go test -run")
	skip := flag.String("skip", "", "passed to go test -skip (e.g. a flaky test of someone else's)")
	survivorsOf := flag.String("survivors-of", "", "JSON report of an earlier run (-json): test only the mutants that survived it")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: mutate [flags] ./pkg/dir ...")
		os.Exit(2)
	}
	var onlyRE *regexp.Regexp
	if *only != "" {
		onlyRE = regexp.MustCompile(*only)
	}
	known, err := loadEquivalent(*equiv)
	if err != nil {
		fatal(err)
	}
	var again map[string]bool
	if *survivorsOf != "" {
		if again, err = loadSurvivors(*survivorsOf); err != nil {
			fatal(err)
		}
	}
	tmp, err := os.MkdirTemp("", "mutate-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(tmp)
	// Interrupted: remove the copies, then stop (the go commands started
	// share the process group and get the signal too).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		os.RemoveAll(tmp)
		os.Exit(130)
	}()

	type pkgReport struct {
		dir                                         string
		sites, sampled                              int
		killed, survived, notViable, timedOut, eqvt int
		baseline                                    time.Duration
		muts                                        []*mutant
	}
	var reports []*pkgReport
	var all []*mutant
	for _, arg := range flag.Args() {
		dir, sample := arg, *n
		if d, v, ok := strings.Cut(arg, "="); ok {
			if _, err := fmt.Sscan(v, &sample); err != nil {
				fatal(fmt.Errorf("%s: want dir=N", arg))
			}
			dir = d
		}
		muts, err := collect(dir)
		if err != nil {
			fatal(err)
		}
		pr := &pkgReport{dir: dir, sites: len(muts)}
		if onlyRE != nil {
			kept := muts[:0]
			for _, m := range muts {
				if onlyRE.MatchString(m.pos()) || onlyRE.MatchString(m.Desc) {
					kept = append(kept, m)
				}
			}
			muts = kept
		}
		if again != nil {
			kept := muts[:0]
			for _, m := range muts {
				if again[m.ID] {
					kept = append(kept, m)
				}
			}
			muts = kept
		}
		for _, m := range muts {
			h := sha256.Sum256([]byte(*seed + "\x00" + m.key))
			m.key = fmt.Sprintf("%016x", binary.BigEndian.Uint64(h[:8])) + m.key
		}
		sort.Slice(muts, func(i, j int) bool { return muts[i].key < muts[j].key })
		if sample > 0 && len(muts) > sample {
			muts = muts[:sample]
		}
		sort.SliceStable(muts, func(i, j int) bool {
			if muts[i].File != muts[j].File {
				return muts[i].File < muts[j].File
			}
			return muts[i].Line < muts[j].Line
		})
		pr.sampled = len(muts)
		pr.muts = muts
		reports = append(reports, pr)
		if *list {
			for _, m := range muts {
				fmt.Printf("%s\t%s\t%s\t%s\t%s\n", m.pos(), m.Func, m.Desc, m.Src, m.ID)
			}
			continue
		}
		// Baseline: the unmutated package must pass, and its time sets
		// the expectations.
		start := time.Now()
		res, out := test(dir, "", *timeout, *run, *skip)
		pr.baseline = time.Since(start)
		if res != "survived" {
			fmt.Fprintf(os.Stderr, "%s: tests fail without mutation (%s); skipped\n%s\n", dir, res, tail(out, 2000))
			pr.sampled = 0
			pr.muts = nil
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: %d mutation sites, %d sampled, baseline %.1fs\n", dir, pr.sites, len(muts), pr.baseline.Seconds())

		var wg sync.WaitGroup
		sem := make(chan struct{}, max(*jobs, 1))
		var mu sync.Mutex
		done := 0
		for i, m := range muts {
			r, ok := known[m.ID]
			if !ok {
				r, ok = known[m.eqKey()]
			}
			if ok {
				m.Result, m.Reason = "equivalent", r
				continue
			}
			wg.Add(1)
			sem <- struct{}{}
			go func(i int, m *mutant) {
				defer func() { <-sem; wg.Done() }()
				start := time.Now()
				m.Result = runMutant(tmp, i, m, *timeout, *run, *skip)
				m.Took = time.Since(start)
				mu.Lock()
				done++
				fmt.Fprintf(os.Stderr, "  [%d/%d] %-10s %s %s (%.1fs)\n", done, len(muts), m.Result, m.pos(), m.Desc, m.Took.Seconds())
				mu.Unlock()
			}(i, m)
		}
		wg.Wait()
		for _, m := range muts {
			switch m.Result {
			case "killed":
				pr.killed++
			case "timeout":
				pr.timedOut++
			case "survived":
				pr.survived++
			case "not-viable":
				pr.notViable++
			case "equivalent":
				pr.eqvt++
			}
		}
		all = append(all, muts...)
	}
	if *list {
		return
	}

	fmt.Println("mutation report")
	fmt.Printf("%-28s %6s %7s %6s %7s %8s %10s %5s %7s\n", "package", "sites", "sampled", "killed", "timeout", "survived", "not-viable", "equiv", "score")
	var tk, ts int
	for _, pr := range reports {
		k := pr.killed + pr.timedOut
		score := "-"
		if k+pr.survived > 0 {
			score = fmt.Sprintf("%.1f%%", 100*float64(k)/float64(k+pr.survived))
		}
		tk += k
		ts += pr.survived
		fmt.Printf("%-28s %6d %7d %6d %7d %8d %10d %5d %7s\n", pr.dir, pr.sites, pr.sampled, pr.killed, pr.timedOut, pr.survived, pr.notViable, pr.eqvt, score)
	}
	if tk+ts > 0 {
		fmt.Printf("%-28s %65.1f%%\n", "ALL", 100*float64(tk)/float64(tk+ts))
	}
	fmt.Println("\nscore = (killed + timeout) / (killed + timeout + survived); not-viable (does not compile) and known-equivalent mutants are not scored")
	fmt.Println("\nsurviving mutants")
	for _, m := range all {
		if m.Result == "survived" {
			fmt.Printf("  %s: %s [%s] %s\n", m.pos(), m.Desc, m.Func, m.Src)
		}
	}
	var eq []*mutant
	for _, m := range all {
		if m.Result == "equivalent" {
			eq = append(eq, m)
		}
	}
	if len(eq) > 0 {
		fmt.Println("\nequivalent mutants (not scored)")
		for _, m := range eq {
			fmt.Printf("  %s: %s [%s] — %s\n", m.pos(), m.Desc, m.Func, m.Reason)
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(all, "", " ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fatal(err)
		}
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "mutate:", err)
	os.Exit(1)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// eqKey identifies a mutant independently of line numbers.
func (m *mutant) eqKey() string {
	return filepath.Base(m.File) + "|" + m.Func + "|" + m.Desc + "|" + m.Src
}

func loadEquivalent(path string) (map[string]string, error) {
	out := map[string]string{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, " | ")
		if len(parts) != 5 {
			return nil, fmt.Errorf("%s: want 5 ' | '-separated fields: %q", path, l)
		}
		// "mutation #n" names one occurrence of that mutation on the line
		// (in source order); without it the entry covers them all.
		key := strings.Join(parts[:4], "|")
		if d, n, ok := strings.Cut(parts[2], " #"); ok {
			key = strings.Join([]string{parts[0], parts[1], d, parts[3]}, "|") + "#" + n
		}
		out[key] = parts[4]
	}
	return out, sc.Err()
}

// loadSurvivors reads the surviving mutants of a -json report.
func loadSurvivors(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ms []*mutant
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := map[string]bool{}
	for _, m := range ms {
		if m.Result == "survived" {
			out[m.ID] = true
		}
	}
	return out, nil
}

// runMutant writes the mutated copy of one file and tests the package
// with it overlaid.
func runMutant(tmp string, i int, m *mutant, timeout time.Duration, run, skip string) string {
	src, err := os.ReadFile(m.File)
	if err != nil {
		return "not-viable"
	}
	mut, err := apply(src, m.edits)
	if err != nil {
		return "not-viable"
	}
	dir := filepath.Join(tmp, fmt.Sprint(i))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	copyPath := filepath.Join(dir, filepath.Base(m.File))
	if err := os.WriteFile(copyPath, mut, 0o644); err != nil {
		fatal(err)
	}
	ov, _ := json.Marshal(map[string]map[string]string{"Replace": {m.File: copyPath}})
	ovPath := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		fatal(err)
	}
	res, _ := test(m.Pkg, ovPath, timeout, run, skip)
	return res
}

// test runs the package's tests; "survived" means they passed.
func test(dir, overlay string, timeout time.Duration, run, skip string) (string, string) {
	args := []string{"test", "-count=1", "-vet=off", "-p=1", "-timeout", timeout.String()}
	if overlay != "" {
		args = append(args, "-overlay", overlay)
	}
	if run != "" {
		args = append(args, "-run", run)
	}
	if skip != "" {
		args = append(args, "-skip", skip)
	}
	args = append(args, dir)
	ctx, cancel := context.WithTimeout(context.Background(), timeout+60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	s := out.String()
	switch {
	case err == nil:
		return "survived", s
	case ctx.Err() != nil || strings.Contains(s, "panic: test timed out"):
		return "timeout", s
	case strings.Contains(s, "[build failed]") || strings.Contains(s, "[setup failed]"):
		return "not-viable", s
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return "killed", s
	}
	return "not-viable", s
}

func apply(src []byte, edits []edit) ([]byte, error) {
	sort.Slice(edits, func(i, j int) bool { return edits[i].off > edits[j].off })
	out := append([]byte(nil), src...)
	for _, e := range edits {
		if e.off < 0 || e.end > len(out) || e.off > e.end {
			return nil, fmt.Errorf("edit out of range")
		}
		out = append(out[:e.off], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, nil
}

// collect lists every mutation site of the package in dir.
func collect(dir string) ([]*mutant, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	var muts []*mutant
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		path := filepath.Join(abs, name)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(src[:min(len(src), 400)], []byte("Code generated")) {
			continue
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		muts = append(muts, sites(dir, path, src, fset, f)...)
	}
	// Make keys unique (the same mutation on two identical lines of one
	// function).
	seen := map[string]int{}
	for _, m := range muts {
		k := m.eqKey()
		seen[k]++
		m.ID = fmt.Sprintf("%s#%d", k, seen[k])
		m.key = m.ID
	}
	return muts, nil
}

var flipCmp = map[token.Token]token.Token{
	token.EQL: token.NEQ, token.NEQ: token.EQL,
	token.LSS: token.LEQ, token.LEQ: token.LSS,
	token.GTR: token.GEQ, token.GEQ: token.GTR,
}

func sites(dir, path string, src []byte, fset *token.FileSet, f *ast.File) []*mutant {
	var out []*mutant
	lines := bytes.Split(src, []byte("\n"))
	add := func(fn string, pos token.Pos, desc string, edits ...edit) {
		p := fset.Position(pos)
		line := ""
		if p.Line-1 < len(lines) {
			line = strings.TrimSpace(string(lines[p.Line-1]))
		}
		out = append(out, &mutant{Pkg: dir, File: path, Line: p.Line, Func: fn, Desc: desc, Src: line, edits: edits})
	}
	off := func(p token.Pos) int { return fset.Position(p).Offset }

	for _, decl := range f.Decls {
		fd, ok := decl.(*ast.FuncDecl)
		fn := "(package)"
		var root ast.Node = decl
		if ok {
			fn = fd.Name.Name
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				fn = recvName(fd.Recv.List[0].Type) + "." + fn
			}
			if fd.Body == nil {
				continue
			}
			root = fd.Body
		}
		ast.Inspect(root, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ArrayType:
				return false // lengths: changing them does not compile or means nothing
			case *ast.BinaryExpr:
				if to, ok := flipCmp[x.Op]; ok {
					add(fn, x.OpPos, fmt.Sprintf("%s → %s", x.Op, to), edit{off(x.OpPos), off(x.OpPos) + len(x.Op.String()), to.String()})
				}
				switch x.Op {
				case token.LAND:
					add(fn, x.OpPos, "&& → ||", edit{off(x.OpPos), off(x.OpPos) + 2, "||"})
				case token.LOR:
					add(fn, x.OpPos, "|| → &&", edit{off(x.OpPos), off(x.OpPos) + 2, "&&"})
				}
			case *ast.BasicLit:
				if x.Kind == token.INT && (x.Value == "0" || x.Value == "1") {
					to := map[string]string{"0": "1", "1": "0"}[x.Value]
					add(fn, x.Pos(), fmt.Sprintf("constant %s → %s", x.Value, to), edit{off(x.Pos()), off(x.End()), to})
				}
			case *ast.IfStmt:
				// Negation of a lone ==/!= is the same mutant as its flip.
				if b, ok := ast.Unparen(x.Cond).(*ast.BinaryExpr); !ok || (b.Op != token.EQL && b.Op != token.NEQ) {
					add(fn, x.Cond.Pos(), "negate if condition", edit{off(x.Cond.Pos()), off(x.Cond.Pos()), "!("}, edit{off(x.Cond.End()), off(x.Cond.End()), ")"})
				}
				if x.Else == nil && len(x.Body.List) > 0 {
					if _, ok := x.Body.List[len(x.Body.List)-1].(*ast.ReturnStmt); ok {
						add(fn, x.Pos(), "remove early return", edit{off(x.Pos()), off(x.End()), "{}"})
					}
				}
			}
			return true
		})
	}
	return out
}

func recvName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return recvName(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvName(t.X)
	case *ast.IndexListExpr:
		return recvName(t.X)
	}
	return "?"
}
