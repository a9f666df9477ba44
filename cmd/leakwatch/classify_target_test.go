package main

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
)

// TestClassifyFileTargets: `leakwatch classify DIR` reports one finding per
// file whose target is that file — {"kind":"file","path":ABSOLUTE PATH},
// no host, no port — with the same id in every run, whatever the working
// directory or the spelling of the argument; stdin is path "-"; SARIF
// points at the file URI, OCSF's resource is the file, the table shows the
// path with a hostile file name's escapes made visible.
func TestClassifyFileTargets(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(t.TempDir(), "key")
	evil := "n\x1b]0;pwned\x07\u202eotes.txt"
	files := map[string]string{
		"users.jsonl": `{"email":"jane.doe@gmail.com"}` + "\n",
		evil:          "DB_PASSWORD=s3cr3tPassw0rd\n",
	}
	for name, body := range files {
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	abs, err := filepath.Abs(dir)
	must(t, err)
	wantPaths := []string{filepath.Join(abs, evil), filepath.Join(abs, "users.jsonl")}
	slices.Sort(wantPaths)

	run := func(args ...string) map[string]finding.Finding {
		t.Helper()
		code, out, errOut := runCLI(t, "", append([]string{"classify", "--key-file", key, "--format", "jsonl"}, args...)...)
		if code != exitExposed {
			t.Fatalf("classify %v: exit %d; %s", args, code, errOut)
		}
		if strings.Contains(out, `"host"`) || strings.Contains(out, `"port"`) || strings.Contains(out, "localhost") {
			t.Errorf("a file finding carries a network target:\n%s", out)
		}
		byPath := map[string]finding.Finding{}
		for _, f := range decodeFindingList(t, out) { // validates against the schema
			if !f.Target.IsFile() || f.Target.Validate() != nil || f.Service != "file" {
				t.Errorf("target %+v service %q", f.Target, f.Service)
			}
			if f.ID != finding.Fingerprint(f.Target, "file") {
				t.Errorf("%s: id %s is not the path's fingerprint", f.Target.Path, f.ID)
			}
			byPath[f.Target.Path] = f
		}
		return byPath
	}
	first := run(dir)
	var got []string
	for p := range first {
		got = append(got, p)
	}
	slices.Sort(got)
	if !slices.Equal(got, wantPaths) {
		t.Fatalf("targets %q, want %q", got, wantPaths)
	}
	if f := first[filepath.Join(abs, "users.jsonl")]; !slices.Equal(f.Classes, []string{"email"}) || f.Datasets[0].Name != "users.jsonl" {
		t.Errorf("users.jsonl finding: classes %v datasets %+v", f.Classes, f.Datasets)
	}
	if f := first[filepath.Join(abs, evil)]; !slices.Contains(f.Classes, "password") {
		t.Errorf("%q finding: classes %v", evil, f.Classes)
	}
	// The same ids from another working directory, a relative spelling and
	// a single file.
	t.Chdir(filepath.Dir(abs))
	again := run("./" + filepath.Base(abs) + "/")
	single := run(filepath.Join(filepath.Base(abs), "..", filepath.Base(abs), "users.jsonl"))
	for p, f := range first {
		if again[p].ID != f.ID {
			t.Errorf("%q: id %s, then %s", p, f.ID, again[p].ID)
		}
	}
	if u := filepath.Join(abs, "users.jsonl"); len(single) != 1 || single[u].ID != first[u].ID {
		t.Errorf("users.jsonl alone: %v, want id %s", single, first[u].ID)
	}
	if first[wantPaths[0]].ID == first[wantPaths[1]].ID {
		t.Error("two files, one id")
	}

	// stdin is the path "-".
	code, out, _ := runCLI(t, `{"email":"jane.doe@gmail.com"}`+"\n", "classify", "--key-file", key, "--format", "jsonl", "-")
	if fs := decodeFindingList(t, out); code != exitExposed || len(fs) != 1 || fs[0].Target != finding.FileTarget("-") {
		t.Errorf("stdin: exit %d, %s", code, out)
	}

	// SARIF: each result's artifact is its file's URI.
	code, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "sarif", abs)
	var log struct {
		Runs []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string } `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	must(t, json.Unmarshal([]byte(out), &log))
	var uris []string
	for _, r := range log.Runs[0].Results {
		if r.RuleID != "LW008" {
			t.Errorf("file result under rule %s", r.RuleID)
		}
		uris = append(uris, r.Locations[0].PhysicalLocation.ArtifactLocation.URI)
	}
	slices.Sort(uris)
	var wantURIs []string
	for _, p := range wantPaths {
		wantURIs = append(wantURIs, (&url.URL{Scheme: "file", Path: p}).String())
	}
	slices.Sort(wantURIs)
	if code != exitExposed || !slices.Equal(uris, wantURIs) {
		t.Errorf("SARIF artifact URIs %q, want %q", uris, wantURIs)
	}

	// OCSF: the resource is the file.
	_, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "ocsf", filepath.Join(abs, "users.jsonl"))
	var ev struct {
		Resources []struct {
			Type string
			Data struct{ Path string }
		} `json:"resources"`
	}
	must(t, json.Unmarshal([]byte(out), &ev))
	if ev.Resources[0].Type != "File" || ev.Resources[0].Data.Path != filepath.Join(abs, "users.jsonl") {
		t.Errorf("OCSF resource: %s", out)
	}

	// Table: the path, its controls visible, never raw.
	_, out, _ = runCLI(t, "", "classify", "--key-file", key, "--format", "table", abs)
	if !strings.Contains(out, filepath.Join(abs, "users.jsonl")) || !strings.Contains(out, `n\x1b]0;pwned\x07\u202eotes.txt`) || !strings.Contains(out, "2 files: 2 exposed") {
		t.Errorf("table:\n%s", out)
	}
	for _, f := range []string{"jsonl", "sarif", "ocsf", "table"} {
		_, out, _ := runCLI(t, "", "classify", "--key-file", key, "--format", f, abs)
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("%s output holds a raw control of the file name", f)
		}
		if f == "jsonl" {
			if err := output.ValidateJSONL(strings.NewReader(out)); err != nil {
				t.Error(err)
			}
		}
	}
}
