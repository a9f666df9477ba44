package rsync

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

type daemon struct {
	Addr netip.Addr
	Port int
	Dir  string
}

// startRsyncd runs the real rsync daemon in the foreground with a temp
// config. modules is the module section text; %s in it is the temp dir.
func startRsyncd(t *testing.T, modules string, seed func(dir string)) *daemon {
	t.Helper()
	bin := testenv.Binary(t, "rsync")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := &daemon{Addr: testenv.Addr(t), Dir: dir}
	d.Port = testenv.FreePort(t, d.Addr)
	seed(dir)
	if err := os.WriteFile(filepath.Join(dir, "secrets"), []byte("alice:correct-horse-battery\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("use chroot = no\npid file = %[1]s/rsyncd.pid\nlog file = %[1]s/rsyncd.log\n", dir) +
		strings.ReplaceAll(modules, "%s", dir)
	cpath := filepath.Join(dir, "rsyncd.conf")
	if err := os.WriteFile(cpath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--daemon", "--no-detach", "--config="+cpath,
		"--address="+d.Addr.String(), fmt.Sprintf("--port=%d", d.Port))
	testenv.StartAndWait(t, "rsyncd", cmd, d.Addr, d.Port, 15*time.Second)
	return d
}

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func seed(t *testing.T) func(string) {
	return func(dir string) {
		root := filepath.Join(dir, "files")
		write(t, filepath.Join(root, "customers.csv"), "email,full_name,phone\n"+
			"alice.martin@example.com,Alice Martin,+1 555 0100\nbob.oneil@example.org,Bob O'Neil,+1 555 0101\n")
		write(t, filepath.Join(root, "readme.txt"), "contact: ops@example.com\n")
		write(t, filepath.Join(root, "firmware.bin"), strings.Repeat("\x7fELF", 30000))
		write(t, filepath.Join(root, "backups", "users.csv"), "username,email,password_hash\n"+
			"carol,carol@example.net,$2y$10$abcdefghijklmnopqrstuv\n")
		write(t, filepath.Join(root, "backups", ".env"), "DB_PASSWORD=Winter2024!db\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
		write(t, filepath.Join(root, "backups", "old", "deep.csv"), "email\nzed@example.com\n")
		write(t, filepath.Join(root, "pub", "notes.txt"), "nothing here\n")
		write(t, filepath.Join(dir, "private", "payroll.csv"), "email,salary\nhr@example.com,1\n")
	}
}

const (
	openModules = `[files]
  path = %s/files
  comment = nightly exports
  read only = yes
[payroll]
  path = %s/private
  comment = HR only
  auth users = alice
  secrets file = %s/secrets
[unlisted]
  path = %s/private
  list = no
`
	lockedModules = `[payroll]
  path = %s/private
  auth users = alice
  secrets file = %s/secrets
[exports]
  path = %s/files
  auth users = alice:ro
  secrets file = %s/secrets
`
)

func treeDigest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	_ = filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err == nil && !strings.HasPrefix(filepath.Base(p), "rsyncd.") {
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

func TestRsyncd(t *testing.T) {
	open := startRsyncd(t, openModules, seed(t))
	locked := startRsyncd(t, lockedModules, seed(t))
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
		if res.Product != "rsync" || res.Evidence["protocol"] == "" {
			t.Errorf("product %q evidence %v", res.Product, res.Evidence)
		}
		if res.Evidence["modules"] != 2 || fmt.Sprint(res.Evidence["modules_auth_required"]) != "[payroll]" {
			t.Errorf("module evidence %v", res.Evidence)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := map[string]int64{"files": 3, "files/backups": 2, "files/pub": 1}
		if len(ds) != len(want) {
			t.Errorf("datasets %v", res.Datasets)
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		if d := ds["files"]; d.Kind != "module" || d.Bytes == nil || *d.Bytes < 120000 {
			t.Errorf("module dataset %+v", d.Dataset)
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
		if root := paths(ds["files"]); root["email"] != 2 || root["full_name"] != 2 || root["contact"] != 1 {
			t.Errorf("root sample %v (%v)", root, res.Evidence)
		}
		if bk := paths(ds["files/backups"]); bk["password_hash"] != 1 || bk["DB_PASSWORD"] != 1 {
			t.Errorf("backups sample %v (%v)", bk, res.Evidence)
		}
		if after := treeDigest(t, open.Dir); after != before {
			t.Error("module tree changed during the probe")
		}
	})

	t.Run("auth-users", func(t *testing.T) {
		res, err := probetest.Run(t, p, locked.Addr, locked.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s (%s), want protected/required", res.Status, res.Auth, res.Error)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets on a protected daemon: %v", res.Datasets)
		}
		if fmt.Sprint(res.Evidence["modules_auth_required"]) != "[payroll exports]" {
			t.Errorf("evidence %v", res.Evidence)
		}
	})
}

func TestNotRsync(t *testing.T) {
	for name, banner := range map[string]string{
		"ftp":  "220 (vsFTPd 3.0.3)\r\n",
		"http": "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"ssh":  "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := probetest.Banner(t, banner)
			_, err := probetest.Run(t, New(), s.Addr, s.Port)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err %v, want not-this-service", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}
