package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RsyncOptions configure StartRsyncd.
type RsyncOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Open lists an open module "files" (with a password-protected
	// "payroll" and an unlisted one); otherwise every module needs a user.
	Open bool
}

// Rsyncd is a real rsync daemon (Debian rsync) started for a test; Dir
// holds its modules (files/ is SeedFileTree's tree).
type Rsyncd struct {
	Addr netip.Addr
	Port int
	Dir  string
}

// StartRsyncd runs the rsync daemon in the foreground with a temp config
// and seeded modules; it is stopped when the test ends.
func StartRsyncd(t testing.TB, o RsyncOptions) *Rsyncd {
	t.Helper()
	bin := Binary(t, "rsync")
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	d := &Rsyncd{Dir: dir}
	d.Addr, d.Port = Listen(t, o.Addr, o.Port)
	SeedFileTree(t, filepath.Join(dir, "files"))
	WriteFile(t, filepath.Join(dir, "private", "payroll.csv"), "email,salary\nhr@example.com,1\n")
	modules := rsyncLockedModules
	if o.Open {
		modules = rsyncOpenModules
	}
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
	StartAndWait(t, "rsyncd", cmd, d.Addr, d.Port, 15*time.Second)
	return d
}

const (
	rsyncOpenModules = `[files]
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
	rsyncLockedModules = `[payroll]
  path = %s/private
  auth users = alice
  secrets file = %s/secrets
[exports]
  path = %s/files
  auth users = alice:ro
  secrets file = %s/secrets
`
)
