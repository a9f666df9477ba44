package testenv

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// EtcdOptions configure StartEtcd.
type EtcdOptions struct {
	// Addr and Port of the client URL (zero: a fresh loopback address, a
	// free port); the peer URL gets a free port on the same address.
	Addr netip.Addr
	Port int
}

// Etcd is a real one-member etcd (Debian etcd-server) started for a test.
type Etcd struct {
	Addr netip.Addr
	Port int
	// User is "name:password" once auth is on (EnableAuth).
	User string
}

// StartEtcd runs etcd in a temp data dir; it is stopped when the test ends.
func StartEtcd(tb testing.TB, o EtcdOptions) *Etcd {
	tb.Helper()
	bin := Binary(tb, "etcd")
	Binary(tb, "etcdctl")
	e := &Etcd{}
	e.Addr, e.Port = Listen(tb, o.Addr, o.Port)
	peer := fmt.Sprintf("http://%s:%d", e.Addr, FreePort(tb, e.Addr))
	client := fmt.Sprintf("http://%s:%d", e.Addr, e.Port)
	cmd := exec.Command(bin,
		"--name", "leakwatch-test", "--data-dir", tb.TempDir(),
		"--listen-client-urls", client, "--advertise-client-urls", client,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "leakwatch-test="+peer, "--log-level", "warn")
	StartAndWait(tb, "etcd", cmd, e.Addr, e.Port, 20*time.Second)
	return e
}

// Ctl runs etcdctl (v3 API) against e.
func (e *Etcd) Ctl(tb testing.TB, args ...string) string {
	tb.Helper()
	base := []string{"--endpoints", fmt.Sprintf("http://%s:%d", e.Addr, e.Port), "--dial-timeout", "5s"}
	if e.User != "" {
		base = append(base, "--user", e.User)
	}
	cmd := exec.Command(Binary(tb, "etcdctl"), append(base, args...)...)
	cmd.Env = append(cmd.Environ(), "ETCDCTL_API=3")
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("etcdctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Seed puts the key/value pairs.
func (e *Etcd) Seed(tb testing.TB, kvs [][2]string) {
	tb.Helper()
	for _, kv := range kvs {
		e.Ctl(tb, "put", kv[0], kv[1])
	}
}

// EnableAuth adds root with password, turns authentication on and uses
// root from then on.
func (e *Etcd) EnableAuth(tb testing.TB, password string) {
	tb.Helper()
	e.Ctl(tb, "user", "add", "root:"+password)
	e.Ctl(tb, "auth", "enable")
	e.User = "root:" + password
}

// Digest is every key and value with their revisions, and the store
// revision.
func (e *Etcd) Digest(tb testing.TB) string {
	tb.Helper()
	return e.Ctl(tb, "get", "", "--prefix", "-w", "json")
}

// EtcdFlat is an application's configuration store: users, sessions, a
// password and an API key.
var EtcdFlat = [][2]string{
	{"/users/1001", `{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`},
	{"/users/1002", `{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`},
	{"/users/1003", `{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`},
	{"/sessions/8c1f", `{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`},
	{"/config/db_password", "hunter2-Sup3rS3cret"},
	{"apikey", "sk_live_51HxYzABCDEF0123456789"},
	{"feature_flag", "on"},
}

// EtcdSecrets are raw values of EtcdFlat no leakwatch output may contain.
var EtcdSecrets = []string{"alice.smith@example.com", "hunter2-Sup3rS3cret", "sk_live_51HxYzABCDEF0123456789", "+44 20 7946 0958"}

// EtcdK8s is a Kubernetes-shaped store under /registry/.
var EtcdK8s = [][2]string{
	{"/registry/secrets/default/db", `{"kind":"Secret","data":{"password":"cGFzc3dvcmQ="},"metadata":{"name":"db"}}`},
	{"/registry/pods/default/web", `{"kind":"Pod","metadata":{"name":"web"}}`},
	{"/registry/pods/default/api", `{"kind":"Pod","metadata":{"name":"api"}}`},
	{"/registry/health", "ok"},
}

// EtcdVersion is the installed etcd's version.
func EtcdVersion(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command(Binary(tb, "etcd"), "--version").Output()
	if err != nil {
		tb.Fatal(err)
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(string(out), "etcd Version: "), "\n")
	return v
}
