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
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// NginxSite is one server block of a test nginx: it listens on Addr:Port;
// Body is the inside of the server { } block (locations, auth, proxy).
type NginxSite struct {
	Addr netip.Addr
	Port int
	Body string
	// TLS serves the site over HTTPS with a fresh self-signed certificate.
	TLS bool
}

// Nginx runs one real nginx (Debian package) serving sites, in the
// foreground, with every path under a temp dir; it is stopped when the test
// ends. dir holds its config and temp files.
func Nginx(tb testing.TB, dir string, sites ...NginxSite) {
	tb.Helper()
	bin := Binary(tb, "nginx")
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		tb.Fatal(err)
	}
	var servers strings.Builder
	for _, s := range sites {
		if !s.Addr.IsLoopback() {
			tb.Fatalf("testenv: nginx site %s is not loopback", s.Addr)
		}
		tls := ""
		if s.TLS {
			cert, key := SelfSignedCert(tb, dir)
			tls = fmt.Sprintf(" ssl;\n    ssl_certificate %s;\n    ssl_certificate_key %s", cert, key)
		}
		fmt.Fprintf(&servers, "  server {\n    listen %s:%d%s;\n%s\n  }\n", s.Addr, s.Port, tls, s.Body)
	}
	// Workers run as root, like the master: a test's files sit in
	// root-only temp dirs.
	conf := fmt.Sprintf(`user root root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fastcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
%[2]s}
`, dir, servers.String())
	cpath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cpath, []byte(conf), 0o644); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-e", "stderr", "-p", dir, "-c", cpath, "-g", "daemon off;")
	StartAndWait(tb, "nginx", cmd, sites[0].Addr, sites[0].Port, 15*time.Second)
	for _, s := range sites[1:] {
		if err := WaitTCP(s.Addr, s.Port, 10*time.Second); err != nil {
			tb.Fatal(err)
		}
	}
}

// Htpasswd writes an htpasswd file with one bcrypt user and returns its path.
func Htpasswd(tb testing.TB, dir, user, password string) string {
	tb.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, "htpasswd-"+user)
	if err := os.WriteFile(p, []byte(user+":"+string(h)+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// SelfSignedCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// its key into dir and returns their paths.
func SelfSignedCert(tb testing.TB, dir string) (certPath, keyPath string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "leakwatch-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	certPath, keyPath = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		tb.Fatal(err)
	}
	return certPath, keyPath
}
