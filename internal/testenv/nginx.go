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

	"golang.org/x/crypto/bcrypt"
)

// NginxSite is one server block of a test nginx: it listens on Addr:Port;
// Body is the inside of the server { } block (locations, auth, proxy).
type NginxSite struct {
	Addr netip.Addr
	Port int
	Body string
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
		fmt.Fprintf(&servers, "  server {\n    listen %s:%d;\n%s\n  }\n", s.Addr, s.Port, s.Body)
	}
	conf := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 256; }
http {
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
