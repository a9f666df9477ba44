package alert

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// mta is a real Exim (Debian exim4-daemon-light) on a loopback address,
// delivering every accepted message for example.org to one mbox file.
type mta struct {
	addr    netip.Addr
	port    int
	mailbox string
	dir     string
	ca      *x509.CertPool
}

type mtaOptions struct {
	// tls offers STARTTLS with a fresh self-signed certificate.
	tls bool
	// user/password, if set, are required (AUTH PLAIN, after STARTTLS).
	user, password string
}

func startExim(t *testing.T, o mtaOptions) *mta {
	t.Helper()
	bin := testenv.Binary(t, "exim4")
	exUser, err := user.Lookup("Debian-exim")
	if err != nil {
		testenv.Unavailable(t, "exim4 system user Debian-exim: %v", err)
	}
	uid, _ := strconv.Atoi(exUser.Uid)
	gid, _ := strconv.Atoi(exUser.Gid)
	dir := t.TempDir()
	m := &mta{addr: testenv.Addr(t), dir: dir, mailbox: filepath.Join(dir, "mail", "mailbox")}
	m.port = testenv.FreePort(t, m.addr)
	for _, d := range []string{"spool", "log", "mail"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tlsConf := "tls_advertise_hosts ="
	if o.tls {
		certFile, keyFile, pool := selfSigned(t, dir, m.addr)
		m.ca = pool
		tlsConf = fmt.Sprintf("tls_advertise_hosts = *\ntls_certificate = %s\ntls_privatekey = %s", certFile, keyFile)
	}
	rcptAuth, auth := "", ""
	if o.user != "" {
		rcptAuth = "  deny message = authentication required\n       !authenticated = *\n"
		auth = fmt.Sprintf(`begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{%s}}{eq{$auth3}{%s}}}}
  server_set_id = $auth2
  server_advertise_condition = ${if def:tls_in_cipher}
`, o.user, o.password)
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
%[7]s`, m.addr, m.port, dir, tlsConf, rcptAuth, m.mailbox, auth)
	confFile := filepath.Join(dir, "exim.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Exim drops to its own user for a -C config: it must reach the files.
	for _, p := range []string{filepath.Dir(dir), dir} {
		_ = os.Chmod(p, 0o755)
	}
	_ = filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		if p == confFile {
			return nil // Exim wants its config owned by root
		}
		return os.Chown(p, uid, gid)
	})
	cmd := exec.Command(bin, "-C", confFile, "-bdf", "-oX", strconv.Itoa(m.port), "-oP", filepath.Join(dir, "exim.pid"))
	testenv.StartAndWait(t, "exim4", cmd, m.addr, m.port, 15*time.Second)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log", "mainlog"))
			t.Logf("exim mainlog:\n%s", b)
		}
	})
	return m
}

// selfSigned writes a certificate for addr and its key, readable by Exim.
func selfSigned(t *testing.T, dir string, addr netip.Addr) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
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
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", kder)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// messages waits for n messages in the mbox and parses them.
func (m *mta) messages(t *testing.T, n int) []*mail.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		b, _ := os.ReadFile(m.mailbox)
		parts := splitMbox(b)
		if len(parts) >= n {
			var out []*mail.Message
			for _, p := range parts {
				msg, err := mail.ReadMessage(bytes.NewReader(p))
				if err != nil {
					t.Fatalf("parse delivered message: %v\n%s", err, p)
				}
				out = append(out, msg)
			}
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailbox holds %d messages after 15s, want %d", len(parts), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// splitMbox splits an mbox file at its "From " separator lines.
func splitMbox(b []byte) [][]byte {
	var out [][]byte
	for _, chunk := range bytes.Split(b, []byte("\nFrom ")) {
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 && len(bytes.TrimSpace(chunk)) > 0 {
			out = append(out, chunk[i+1:])
		}
	}
	return out
}

func body(t *testing.T, m *mail.Message) string {
	t.Helper()
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestEmailToRealMTA(t *testing.T) {
	t.Parallel()
	m := startExim(t, mtaOptions{})
	e := NewEmail(EmailOptions{
		Name: "mail", Host: m.addr.String(), Port: m.port, TLS: TLSStartTLS,
		From: "leakwatch <leakwatch@example.org>", To: []string{"Security <security@example.org>", "ops@example.org"},
	})
	open, closed := testAlert(lifecycle.EventOpened), testAlert(lifecycle.EventClosed)
	for _, a := range []Alert{open, closed} {
		if err := e.Notify(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	// Two recipients each: four deliveries into the one mailbox.
	msgs := m.messages(t, 4)
	subjects := map[string]int{}
	for _, msg := range msgs {
		subjects[msg.Header.Get("Subject")]++
	}
	wantOpen := "[leakwatch] [critical] opened: redis on 127.0.0.5:6379"
	wantClosed := "[leakwatch] [critical] closed: redis on 127.0.0.5:6379"
	if subjects[wantOpen] != 2 || subjects[wantClosed] != 2 {
		t.Errorf("subjects %v", subjects)
	}
	first := msgs[0]
	if first.Header.Get("X-Leakwatch-Event") != "opened" || first.Header.Get("X-Leakwatch-Finding") != open.Finding.ID || first.Header.Get(HeaderDelivery) != "dedup-opened" {
		t.Errorf("headers %v", first.Header)
	}
	if !strings.Contains(first.Header.Get("Received"), "Exim") {
		t.Errorf("not delivered by Exim? Received: %q", first.Header.Get("Received"))
	}
	b := body(t, first)
	for _, want := range []string{"opened: redis on 127.0.0.5:6379 is exposed", "Finding:   " + open.Finding.ID, "2 datasets, 2,412 records", "Classes:   email", "database db0: 2,400 records (email)", "Scope:     lab, owner alice@example.org, team platform"} {
		if !strings.Contains(b, want) {
			t.Errorf("body lacks %q:\n%s", want, b)
		}
	}
	assertNoRaw(t, "email body", []byte(b))
	var closedBody string
	for _, msg := range msgs {
		if msg.Header.Get("Subject") == wantClosed {
			closedBody = body(t, msg)
		}
	}
	if !strings.Contains(closedBody, "Closed at:") || !strings.Contains(closedBody, "proof: ") {
		t.Errorf("closed body:\n%s", closedBody)
	}
}

func TestEmailStartTLSAuth(t *testing.T) {
	t.Parallel()
	m := startExim(t, mtaOptions{tls: true, user: "leakwatch", password: "pa55-w0rd"})
	opts := EmailOptions{
		Name: "mail", Host: m.addr.String(), Port: m.port, TLS: TLSRequireStartTLS,
		TLSConfig: &tls.Config{RootCAs: m.ca, MinVersion: tls.VersionTLS12},
		From:      "leakwatch@example.org", To: []string{"security@example.org"},
		Username: "leakwatch", Password: "pa55-w0rd",
	}
	if err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened)); err != nil {
		t.Fatal(err)
	}
	msgs := m.messages(t, 1)
	if rcv := msgs[0].Header.Get("Received"); !strings.Contains(rcv, "TLS") && !strings.Contains(rcv, "esmtpsa") {
		t.Errorf("message not received over TLS with auth: %q", rcv)
	}
	// A wrong password is refused by the server: a permanent failure.
	opts.Password = "wrong"
	err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened))
	if err == nil || !IsPermanent(err) {
		t.Errorf("wrong password: %v (permanent %v)", err, IsPermanent(err))
	}
	// Without a trusted certificate, STARTTLS fails before any secret is sent.
	opts.Password, opts.TLSConfig = "pa55-w0rd", nil
	if err := NewEmail(opts).Notify(context.Background(), testAlert(lifecycle.EventOpened)); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("untrusted certificate: %v", err)
	}
}

func TestEmailRequireStartTLSRefusesPlain(t *testing.T) {
	t.Parallel()
	m := startExim(t, mtaOptions{})
	e := NewEmail(EmailOptions{Name: "mail", Host: m.addr.String(), Port: m.port, TLS: TLSRequireStartTLS,
		From: "leakwatch@example.org", To: []string{"security@example.org"}})
	err := e.Notify(context.Background(), testAlert(lifecycle.EventOpened))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("err %v", err)
	}
	// Relaying elsewhere is refused by the MTA: permanent (5xx).
	e = NewEmail(EmailOptions{Name: "mail", Host: m.addr.String(), Port: m.port, TLS: TLSNone,
		From: "leakwatch@example.org", To: []string{"someone@elsewhere.test"}})
	if err := e.Notify(context.Background(), testAlert(lifecycle.EventOpened)); !IsPermanent(err) {
		t.Errorf("relay: %v", err)
	}
}
