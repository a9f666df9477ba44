package etcd

import (
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

type server struct {
	addr netip.Addr
	port int
	user string // "name:password" once auth is on
}

// startEtcd runs a one-member etcd on a fresh loopback address; port 0
// picks a random client port.
func startEtcd(t *testing.T, port int) *server {
	t.Helper()
	bin := testenv.Binary(t, "etcd")
	testenv.Binary(t, "etcdctl")
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	peer := fmt.Sprintf("http://%s:%d", addr, testenv.FreePort(t, addr))
	client := fmt.Sprintf("http://%s:%d", addr, port)
	cmd := exec.Command(bin,
		"--name", "leakwatch-test", "--data-dir", t.TempDir(),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "leakwatch-test="+peer, "--log-level", "warn")
	testenv.StartAndWait(t, "etcd", cmd, addr, port, 20*time.Second)
	return &server{addr: addr, port: port}
}

func (s *server) ctl(t *testing.T, args ...string) string {
	t.Helper()
	base := []string{"--endpoints", fmt.Sprintf("http://%s:%d", s.addr, s.port), "--dial-timeout", "5s"}
	if s.user != "" {
		base = append(base, "--user", s.user)
	}
	cmd := exec.Command(testenv.Binary(t, "etcdctl"), append(base, args...)...)
	cmd.Env = append(cmd.Environ(), "ETCDCTL_API=3")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("etcdctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (s *server) seed(t *testing.T, kvs [][2]string) {
	t.Helper()
	for _, kv := range kvs {
		s.ctl(t, "put", kv[0], kv[1])
	}
}

// digest is every key and value with their revisions, and the store revision.
func (s *server) digest(t *testing.T) string {
	t.Helper()
	return s.ctl(t, "get", "", "--prefix", "-w", "json")
}

var flat = [][2]string{
	{"/users/1001", `{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`},
	{"/users/1002", `{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`},
	{"/users/1003", `{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`},
	{"/sessions/8c1f", `{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`},
	{"/config/db_password", "hunter2-Sup3rS3cret"},
	{"apikey", "sk_live_51HxYzABCDEF0123456789"},
	{"feature_flag", "on"},
}

var k8s = [][2]string{
	{"/registry/secrets/default/db", `{"kind":"Secret","data":{"password":"cGFzc3dvcmQ="},"metadata":{"name":"db"}}`},
	{"/registry/pods/default/web", `{"kind":"Pod","metadata":{"name":"web"}}`},
	{"/registry/pods/default/api", `{"kind":"Pod","metadata":{"name":"api"}}`},
	{"/registry/health", "ok"},
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		port  int
		seed  [][2]string
		want  map[string]int64
		paths []string
	}{
		{"flat", 2379, flat,
			map[string]int64{"/users/": 3, "/sessions/": 1, "/config/": 1, "(root)": 2},
			[]string{"email", "name", "phone", "login_token", "ip", "/config/db_password", "apikey", "_key"}},
		{"one-prefix", 0, k8s,
			map[string]int64{"/registry/pods/": 2, "/registry/secrets/": 1, "/registry/": 1},
			[]string{"kind", "data.password", "metadata.name", "/registry/health", "_key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startEtcd(t, tc.port)
			s.seed(t, tc.seed)
			before := s.digest(t)
			res, err := probetest.Run(t, New(), s.addr, s.port)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
				t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
			}
			if want := serverVersion(t); res.Product != "etcd" || res.Version != want {
				t.Errorf("product %q version %q want %q", res.Product, res.Version, want)
			}
			got := map[string]int64{}
			paths := map[string]bool{}
			for _, d := range res.Datasets {
				got[d.Name] = *d.Records
				if d.Sampled != int(*d.Records) {
					t.Errorf("%s: sampled %d of %d", d.Name, d.Sampled, *d.Records)
				}
				for _, r := range d.Sample {
					for _, v := range r.Values {
						paths[v.Path] = true
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("datasets %v, want %v", got, tc.want)
			}
			if d := res.Datasets[0]; *d.Records != 3 && *d.Records != 2 {
				t.Errorf("largest first: %s", d.Name)
			}
			for _, p := range tc.paths {
				if !paths[p] {
					t.Errorf("sample lacks %q (have %v)", p, paths)
				}
			}
			if after := s.digest(t); after != before {
				t.Fatalf("data changed by probe")
			}
		})
	}
}

func serverVersion(t *testing.T) string {
	out, err := exec.Command(testenv.Binary(t, "etcd"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(string(out), "etcd Version: "), "\n")
	return v
}

func TestProtected(t *testing.T) {
	t.Parallel()
	s := startEtcd(t, 0)
	s.seed(t, flat)
	s.ctl(t, "user", "add", "root:root-pass-123")
	s.ctl(t, "auth", "enable")
	s.user = "root:root-pass-123"
	before := s.digest(t)
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s auth %s (%s)", res.Status, res.Auth, res.Error)
	}
	if len(res.Datasets) != 0 || res.Version != serverVersion(t) {
		t.Fatalf("datasets %v version %q", res.Datasets, res.Version)
	}
	if !strings.Contains(fmt.Sprint(res.Evidence["auth_challenge"]), "user name is empty") {
		t.Errorf("evidence %v", res.Evidence)
	}
	if after := s.digest(t); after != before {
		t.Fatalf("data changed by probe")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http-404":  "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found",
		"http-json": "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"version\":\"1.2.3\"}\n",
		"redis":     "-ERR unknown command\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := probetest.Banner(t, banner)
			_, err := probetest.Run(t, New(), b.Addr, b.Port)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}
