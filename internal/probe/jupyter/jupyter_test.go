package jupyter

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

type server struct {
	Addr netip.Addr
	Port int
	Dir  string
}

// startJupyter runs the real Debian jupyter-notebook with its state
// (config, runtime, data) in a temp dir. token "" means no auth at all.
func startJupyter(t *testing.T, token string, seed func(dir string)) *server {
	t.Helper()
	bin := testenv.Binary(t, "jupyter-notebook")
	home := t.TempDir()
	s := &server{Addr: testenv.Addr(t), Dir: filepath.Join(home, "notebooks")}
	s.Port = testenv.FreePort(t, s.Addr)
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seed(s.Dir)
	cmd := exec.Command(bin, "--no-browser", "--allow-root",
		"--ip="+s.Addr.String(), fmt.Sprintf("--port=%d", s.Port), "--port-retries=0",
		"--NotebookApp.token="+token, "--NotebookApp.password=",
		"--notebook-dir="+s.Dir)
	cmd.Env = append(os.Environ(), "HOME="+home,
		"JUPYTER_CONFIG_DIR="+filepath.Join(home, "cfg"),
		"JUPYTER_DATA_DIR="+filepath.Join(home, "data"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(home, "rt"),
		"IPYTHONDIR="+filepath.Join(home, "ipython"))
	testenv.StartAndWait(t, "jupyter-notebook", cmd, s.Addr, s.Port, 40*time.Second)
	return s
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const seedNotebook = `{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Churn analysis\n", "Owner: alice.martin@example.com"]},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [],
   "source": ["import boto3\n", "s3 = boto3.client('s3', aws_access_key_id='AKIAIOSFODNN7EXAMPLE',\n", "    aws_secret_access_key='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY')"]}
 ],
 "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
 "nbformat": 4, "nbformat_minor": 5
}`

func seedOpen(t *testing.T) func(string) {
	return func(dir string) {
		write(t, filepath.Join(dir, "analysis.ipynb"), seedNotebook)
		write(t, filepath.Join(dir, "customers.csv"), "email,full_name,phone\n"+
			"alice.martin@example.com,Alice Martin,+1 555 0100\nbob.oneil@example.org,Bob O'Neil,+1 555 0101\n"+
			"carol@example.net,\"Jones, Carol\",+44 20 7946 0000\n")
		write(t, filepath.Join(dir, "notes.txt"), "call dave@example.com about the export\n")
		write(t, filepath.Join(dir, ".env"), "SECRET=hidden-by-default\n")
		write(t, filepath.Join(dir, "data", "export.csv"), "user_email,token\neve@example.com,tok_8f2a\nfrank@example.com,tok_99b1\n")
		write(t, filepath.Join(dir, "data", "prod.env"), "DB_PASSWORD=Winter2024!db\nAPI_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a\n")
		write(t, filepath.Join(dir, "data", "deeper", "never.csv"), "email\nzed@example.com\n")
	}
}

func treeDigest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	_ = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return err
	})
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %v %d\n", p, st.Mode(), st.ModTime().UnixNano())
		if !st.IsDir() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestJupyter(t *testing.T) {
	open := startJupyter(t, "", seedOpen(t))
	locked := startJupyter(t, "c0ffee-test-token", seedOpen(t))
	p := New()

	t.Run("open", func(t *testing.T) {
		before := treeDigest(t, open.Dir)
		res, err := probetest.Run(t, p, open.Addr, open.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
			t.Fatalf("status %s/%s (%s), want exposed/none", res.Status, res.Auth, res.Error)
		}
		if res.Product != "jupyter-notebook" || !strings.HasPrefix(res.Version, "6.") {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		if len(res.Flags) != 1 || res.Flags[0] != "code-execution" {
			t.Errorf("flags %v", res.Flags)
		}
		f := finding.Finding{Status: res.Status, Flags: res.Flags}
		if finding.Assess(&f) != finding.SeverityCritical {
			t.Errorf("severity %s", finding.Assess(&f))
		}
		if res.Evidence["kernels"] != 0 || res.Evidence["sessions"] != 0 {
			t.Errorf("evidence %v", res.Evidence)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := map[string]int64{"/": 3, "/data": 2}
		if len(ds) != len(want) {
			t.Errorf("datasets %v", res.Datasets)
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n || d.Kind != "directory" {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		paths := func(d probe.Dataset) map[string]int {
			m := map[string]int{}
			for _, r := range d.Sample {
				for _, v := range r.Values {
					m[v.Path]++
				}
			}
			return m
		}
		root := paths(ds["/"])
		if root["cell_source"] != 2 || root["email"] != 3 || root["full_name"] != 3 || root["line"] != 1 {
			t.Errorf("root sample paths %v", root)
		}
		var keySeen bool
		for _, r := range ds["/"].Sample {
			for _, v := range r.Values {
				if v.Path == "cell_source" && strings.Contains(v.Text, "AKIAIOSFODNN7EXAMPLE") {
					keySeen = true
				}
			}
		}
		if !keySeen {
			t.Error("notebook cell with the AWS key not sampled")
		}
		data := paths(ds["/data"])
		if data["user_email"] != 2 || data["DB_PASSWORD"] != 1 || data["API_TOKEN"] != 1 {
			t.Errorf("data sample paths %v", data)
		}
		if after := treeDigest(t, open.Dir); after != before {
			t.Error("notebook tree changed during the probe")
		}
	})

	t.Run("token", func(t *testing.T) {
		before := treeDigest(t, locked.Dir)
		res, err := probetest.Run(t, p, locked.Addr, locked.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s, want protected/required", res.Status, res.Auth)
		}
		if len(res.Datasets) != 0 || len(res.Flags) != 0 {
			t.Errorf("datasets %v flags %v on a protected server", res.Datasets, res.Flags)
		}
		if res.Version == "" {
			t.Error("version missing (GET /api answers without a token)")
		}
		if after := treeDigest(t, locked.Dir); after != before {
			t.Error("notebook tree changed during the probe")
		}
	})
}

func TestNotJupyter(t *testing.T) {
	s := probetest.Banner(t, "HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")
	_, err := probetest.Run(t, New(), s.Addr, s.Port)
	if !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("err %v, want not-this-service", err)
	}
	s = probetest.Banner(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"status\": \"healthy\"}")
	_, err = probetest.Run(t, New(), s.Addr, s.Port)
	if !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("json api: err %v, want not-this-service", err)
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}
