package testenv

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
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
	// CA trusts the server's certificate (EximOptions.TLS).
	CA *x509.CertPool
}

// EximOptions configure StartExim.
type EximOptions struct {
	// TLS offers STARTTLS with a fresh self-signed certificate (Exim.CA).
	TLS bool
	// User and Password, if set, are required (AUTH PLAIN, after STARTTLS).
	User, Password string
}

// StartExim starts Exim, or skips (fails under CI) without it.
func StartExim(tb testing.TB, o EximOptions) *Exim {
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
	tlsConf := "tls_advertise_hosts ="
	if o.TLS {
		certFile, keyFile, pool := selfSigned(tb, dir, m.Addr)
		m.CA = pool
		tlsConf = fmt.Sprintf("tls_advertise_hosts = *\ntls_certificate = %s\ntls_privatekey = %s", certFile, keyFile)
	}
	rcptAuth, auth := "", ""
	if o.User != "" {
		rcptAuth = "  deny message = authentication required\n       !authenticated = *\n"
		auth = fmt.Sprintf(`begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{%s}}{eq{$auth3}{%s}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if def:tls_in_cipher}
`, o.User, o.Password)
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
%[4]s
begin acl
acl_rcpt:
%[5]s  accept domains = +local_domains
  deny message = relay not permitted
begin routers
local:
  driver = accept
  domains = +local_domains
  transport = mbox
begin transports
mbox:
  driver = appendfile
  file = %[6]s
  user = Debian-exim
  group = Debian-exim
  mode = 0644
begin retry
* * F,1m,5s
%[7]s`, m.Addr, m.Port, dir, tlsConf, rcptAuth, m.Mailbox, auth)
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

// selfSigned writes a certificate for addr and its key, readable by Exim,
// and returns a pool that trusts it.
func selfSigned(tb testing.TB, dir string, addr netip.Addr) (certFile, keyFile string, pool *x509.CertPool) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mta.leakwatch.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{addr.AsSlice()},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, blk := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: kder}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(blk), 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
