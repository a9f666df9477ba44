package testenv

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// FTPOptions configure StartVsftpd.
type FTPOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Anonymous allows anonymous logins (otherwise only local users, via
	// PAM).
	Anonymous bool
	// PasvAddr is the address named in PASV replies ("": the server's own).
	PasvAddr string
}

// FTP is a real vsftpd (Debian package) started for a test, serving Root
// read-only.
type FTP struct {
	Addr netip.Addr
	Port int
	Root string
}

// StartVsftpd runs vsftpd in the foreground with a temp config, serving a
// root seeded with personal-data-shaped files (SeedFileTree); it is stopped
// when the test ends.
func StartVsftpd(t testing.TB, o FTPOptions) *FTP {
	t.Helper()
	bin := Binary(t, "vsftpd")
	dir := t.TempDir()
	s := &FTP{Root: filepath.Join(dir, "root")}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	anonymous, pasvAddr := o.Anonymous, o.PasvAddr
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
	SeedFileTree(t, s.Root)
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
	StartAndWait(t, "vsftpd", exec.Command(bin, cpath), s.Addr, s.Port, 15*time.Second)
	return s
}
