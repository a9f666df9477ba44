package ftp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
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
	Root string
}

// startVsftpd runs the real Debian vsftpd in the foreground with a temp
// config. pasvAddr "" means the server's own address.
func startVsftpd(t *testing.T, anonymous bool, pasvAddr string, seed func(string)) *server {
	t.Helper()
	bin := testenv.Binary(t, "vsftpd")
	dir := t.TempDir()
	s := &server{Addr: testenv.Addr(t), Root: filepath.Join(dir, "root")}
	s.Port = testenv.FreePort(t, s.Addr)
	for _, d := range []string{filepath.Dir(dir), dir, s.Root} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	if seed != nil {
		seed(s.Root)
	}
	if pasvAddr == "" {
		pasvAddr = s.Addr.String()
	}
	pasvMin := 20000 + rand.IntN(40000)
	yes := func(b bool) string {
		if b {
			return "YES"
		}
		return "NO"
	}
	conf := fmt.Sprintf(`listen=YES
listen_ipv6=NO
listen_address=%s
listen_port=%d
background=NO
seccomp_sandbox=NO
anonymous_enable=%s
anon_root=%s
no_anon_password=NO
local_enable=%s
pam_service_name=vsftpd
write_enable=NO
anon_upload_enable=NO
anon_mkdir_write_enable=NO
pasv_enable=YES
pasv_address=%s
pasv_min_port=%d
pasv_max_port=%d
connect_from_port_20=NO
xferlog_enable=NO
vsftpd_log_file=%s/vsftpd.log
delay_failed_login=0
secure_chroot_dir=%s/empty
`, s.Addr, s.Port, yes(anonymous), s.Root, yes(!anonymous), pasvAddr, pasvMin, pasvMin+20, dir, dir)
	cpath := filepath.Join(dir, "vsftpd.conf")
	if err := os.WriteFile(cpath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartAndWait(t, "vsftpd", exec.Command(bin, cpath), s.Addr, s.Port, 15*time.Second)
	return s
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

func seedFiles(t *testing.T) func(string) {
	return func(root string) {
		write(t, filepath.Join(root, "customers.csv"), "email,full_name,phone\n"+
			"alice.martin@example.com,Alice Martin,+1 555 0100\nbob.oneil@example.org,Bob O'Neil,+1 555 0101\n")
		write(t, filepath.Join(root, "readme.txt"), "contact: ops@example.com\n")
		write(t, filepath.Join(root, "firmware.bin"), strings.Repeat("\x7fELF", 30000)) // > 64 KiB, never read
		write(t, filepath.Join(root, "backups", "users.csv"), "username,email,password_hash\n"+
			"carol,carol@example.net,$2y$10$abcdefghijklmnopqrstuv\n")
		write(t, filepath.Join(root, "backups", ".env"), "DB_PASSWORD=Winter2024!db\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n")
		write(t, filepath.Join(root, "backups", "old", "deep.csv"), "email\nzed@example.com\n")
		write(t, filepath.Join(root, "pub", "notes.txt"), "nothing here\n")
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

func samplePaths(d probe.Dataset) map[string]int {
	m := map[string]int{}
	for _, r := range d.Sample {
		for _, v := range r.Values {
			m[v.Path]++
		}
	}
	return m
}

func TestVsftpd(t *testing.T) {
	open := startVsftpd(t, true, "", seedFiles(t))
	locked := startVsftpd(t, false, "", seedFiles(t))
	// The PASV address names another loopback host: the prober must not
	// follow it.
	other := testenv.Addr(t)
	foreign := startVsftpd(t, true, other.String(), seedFiles(t))

	checkOpen := func(t *testing.T, p *Prober, channel string) {
		before := treeDigest(t, open.Root)
		res, err := probetest.Run(t, p, open.Addr, open.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
			t.Fatalf("status %s/%s (%s), want exposed/none", res.Status, res.Auth, res.Error)
		}
		if res.Error != "" {
			t.Errorf("error %s", res.Error)
		}
		if res.Product != "vsftpd" || !strings.HasPrefix(res.Version, "3.") {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		if res.Evidence["data_channel"] != channel {
			t.Errorf("data channel %v, want %s", res.Evidence["data_channel"], channel)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := map[string]int64{"/": 3, "/backups": 2, "/pub": 1}
		if len(ds) != len(want) {
			t.Errorf("datasets %d, want %d", len(ds), len(want))
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n || d.Kind != "directory" {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		if d := ds["/"]; d.Bytes == nil || *d.Bytes < 120000 {
			t.Errorf("root bytes %v", d.Bytes)
		}
		root := samplePaths(ds["/"])
		if root["email"] != 2 || root["full_name"] != 2 || root["contact"] != 1 {
			t.Errorf("root sample %v", root)
		}
		bk := samplePaths(ds["/backups"])
		if bk["password_hash"] != 1 || bk["DB_PASSWORD"] != 1 || bk["AWS_SECRET_ACCESS_KEY"] != 1 {
			t.Errorf("backups sample %v", bk)
		}
		if after := treeDigest(t, open.Root); after != before {
			t.Error("served tree changed during the probe")
		}
	}
	t.Run("open-epsv", func(t *testing.T) { checkOpen(t, New(), "epsv") })
	t.Run("open-pasv", func(t *testing.T) { checkOpen(t, &Prober{forcePASV: true}, "pasv") })

	t.Run("foreign-pasv", func(t *testing.T) {
		res, err := probetest.Run(t, &Prober{forcePASV: true}, foreign.Addr, foreign.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed {
			t.Fatalf("status %s, want exposed (login works)", res.Status)
		}
		if len(res.Datasets) != 0 || !strings.Contains(res.Error, "refused") || res.Evidence["pasv_foreign_address"] != true {
			t.Errorf("datasets %v error %q evidence %v", res.Datasets, res.Error, res.Evidence)
		}
	})

	t.Run("protected", func(t *testing.T) {
		// PAM (pam_unix) answers a failed login after ~2 s ± 25%: give the
		// PASS reply the production IO timeout, not the test's 2 s.
		env := probetest.Env(locked.Addr, locked.Port)
		env.Budget.IOTimeout = probe.DefaultBudget().IOTimeout
		env = probe.NewEnv(env.Target, env.Budget, nil)
		ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
		defer cancel()
		res, err := New().Probe(ctx, env)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s (%s), want protected/required", res.Status, res.Auth, res.Error)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets on a protected server: %v", res.Datasets)
		}
		if res.Product != "vsftpd" {
			t.Errorf("product %q", res.Product)
		}
	})
}

func TestNotFTP(t *testing.T) {
	for name, banner := range map[string]string{
		"smtp": "220 mail.example.com ESMTP Exim 4.96 Sat, 28 Nov 2026 16:00:00 +0000\r\n",
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
