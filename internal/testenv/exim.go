package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"net/netip"
)

// Exim is a real Exim MTA (Debian exim4-daemon-light) on a loopback
// address that accepts plain SMTP for example.org and appends every
// message, as received, to one mbox file.
type Exim struct {
	Addr netip.Addr
	Port int
	// Mailbox is the mbox file every accepted message ends in.
	Mailbox string
	// Dir holds the config, spool and logs.
	Dir string
}

// StartExim starts Exim, or skips (fails under CI) without it.
func StartExim(tb testing.TB) *Exim {
	tb.Helper()
	bin := Binary(tb, "exim4")
	exUser, err := user.Lookup("Debian-exim")
	if err != nil {
		Unavailable(tb, "exim4 system user Debian-exim: %v", err)
	}
	uid, _ := strconv.Atoi(exUser.Uid)
	gid, _ := strconv.Atoi(exUser.Gid)
	dir := ServerDir(tb, "leakwatch-exim-")
	m := &Exim{Dir: dir, Mailbox: filepath.Join(dir, "mail", "mailbox")}
	m.Addr, m.Port = Listen(tb, netip.Addr{}, 0)
	for _, d := range []string{"spool", "log", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`keep_environment =
primary_hostname = mta.leakwatch.test
local_interfaces = <; %[1]s
daemon_smtp_ports = %[2]d
spool_directory = %[3]s/spool
log_file_path = %[3]s/log/%%slog
pid_file_path = %[3]s/exim.pid
domainlist local_domains = example.org
acl_smtp_rcpt = acl_rcpt
host_lookup =
rfc1413_hosts =
tls_advertise_hosts =
begin acl
acl_rcpt:
  accept domains = +local_domains
  deny message = relay not permitted
begin routers
local:
  driver = accept
  domains = +local_domains
  transport = mbox
begin transports
mbox:
  driver = appendfile
  file = %[4]s
  user = Debian-exim
  group = Debian-exim
  mode = 0644
begin retry
* * F,1m,5s
`, m.Addr, m.Port, dir, m.Mailbox)
	confFile := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	_ = filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if p == confFile {
			return nil // Exim wants its config owned by root
		}
		return os.Chown(p, uid, gid)
	})
	cmd := exec.Command(bin, "-C", confFile, "-bdf", "-oX", strconv.Itoa(m.Port), "-oP", filepath.Join(dir, "exim.pid"))
	StartAndWait(tb, "exim4", cmd, m.Addr, m.Port, 15*time.Second)
	tb.Cleanup(func() {
		if tb.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log", "mainlog"))
			tb.Logf("exim mainlog:\n%s", tail(string(b), 4000))
		}
	})
	return m
}
