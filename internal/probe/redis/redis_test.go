package redis

import (
	"errors"

	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// server is a real redis-server started for one test.
type server struct {
	addr netip.Addr
	port int
	user string
	pass string
}

// startRedis runs redis-server on a fresh loopback address with extra
// config lines. port 0 picks a random (non-standard) port.
func startRedis(t *testing.T, port int, sentinel bool, extra ...string) *server {
	t.Helper()
	bin := testenv.Binary(t, "redis-server")
	cli := testenv.Binary(t, "redis-cli")
	_ = cli
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	dir := t.TempDir()
	conf := []string{
		"bind " + addr.String(),
		"port " + strconv.Itoa(port),
		"dir " + dir,
		"save \"\"",
		"appendonly no",
		"daemonize no",
		"logfile \"\"",
	}
	if !sentinel {
		conf = append(conf, "enable-debug-command yes", "databases 16")
	}
	conf = append(conf, extra...)
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{path}
	if sentinel {
		args = append(args, "--sentinel")
	}
	testenv.StartAndWait(t, "redis-server", exec.Command(bin, args...), addr, port, 15*time.Second)
	return &server{addr: addr, port: port}
}

// cli runs redis-cli against s; stdin, when set, holds one command a line.
func (s *server) cli(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	base := []string{"-h", s.addr.String(), "-p", strconv.Itoa(s.port), "--no-auth-warning"}
	if s.user != "" {
		base = append(base, "--user", s.user)
	}
	if s.pass != "" {
		base = append(base, "--pass", s.pass)
	}
	cmd := exec.Command(testenv.Binary(t, "redis-cli"), append(base, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// digest is the server's own dataset digest plus the keyspace line.
func (s *server) digest(t *testing.T) string {
	t.Helper()
	return s.cli(t, "", "DEBUG", "DIGEST") + s.cli(t, "", "INFO", "keyspace")
}

// commands are the commands the server has executed so far.
func (s *server) commands(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(s.cli(t, "", "INFO", "commandstats"), "\n") {
		if name, ok := strings.CutPrefix(line, "cmdstat_"); ok {
			n, _, _ := strings.Cut(name, ":")
			out[n] = true
		}
	}
	return out
}

const seedDB0 = `HSET user:1001 email alice.smith@example.com name "Alice Smith" phone "+44 20 7946 0958" token tok_9f86d081884c7d659a2feaa0c55ad015
HSET user:1002 email bob.jones@example.org name "Bob Jones" phone "+1 202 555 0143" token tok_3f79bb7b435b05321651daefd374cdc6
HSET user:1003 email carol@example.net name "Carol White" phone "+49 30 901820" token tok_2c26b46b68ffc68ff99b453c1d304134
SET session:8c1f '{"user":"alice","email":"alice.smith@example.com","login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}'
SET apikey:prod sk_live_51HxYzABCDEF0123456789
RPUSH devices:1001 "{\"mac\":\"00:1A:2B:3C:4D:5E\",\"ssid\":\"HomeWiFi-42\",\"model\":\"CamPro X2\"}"
SADD emails:newsletter dave@example.com erin@example.com
ZADD leaderboard 10 frank 20 grace
XADD events:login * user alice ip 203.0.113.7
`

const seedDB2 = `SELECT 2
SET note:1 "hello from db2"
HSET customer:9 email zoe@example.com name "Zoe Quinn"
`

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := startRedis(t, 6379, false, "protected-mode no")
	s.cli(t, seedDB0)
	s.cli(t, seedDB2)
	before, cmdsBefore := s.digest(t), s.commands(t)

	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status %s auth %s (%s)", res.Status, res.Auth, res.Error)
	}
	if res.Error != "" {
		t.Errorf("error: %s", res.Error)
	}
	if want := serverVersion(t); res.Product != "redis" || res.Version != want {
		t.Errorf("product %q version %q, want redis %q", res.Product, res.Version, want)
	}
	if res.Evidence["redis_mode"] != "standalone" {
		t.Errorf("evidence %v", res.Evidence)
	}
	want := map[string]int64{"db0": 9, "db2": 2}
	if len(res.Datasets) != len(want) {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	if res.Datasets[0].Name != "db0" {
		t.Errorf("largest dataset first, got %s", res.Datasets[0].Name)
	}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		if d.Kind != "keyspace" || d.Records == nil || *d.Records != want[d.Name] {
			t.Errorf("dataset %s kind %s records %v, want %d", d.Name, d.Kind, d.Records, want[d.Name])
		}
		if int64(d.Sampled) != want[d.Name] || len(d.Sample) != d.Sampled {
			t.Errorf("dataset %s sampled %d (%d records)", d.Name, d.Sampled, len(d.Sample))
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	for _, p := range []string{"email", "name", "phone", "token", "login_token", "user", "apikey:prod", "mac", "ssid", "model", "emails:newsletter", "ip", "_key"} {
		if !paths[p] {
			t.Errorf("sample lacks path %q (have %v)", p, paths)
		}
	}

	if after := s.digest(t); after != before {
		t.Fatalf("dataset changed by probe:\n%s\n%s", before, after)
	}
	readOnly := map[string]bool{"ping": true, "info": true, "select": true, "scan": true, "type": true,
		"strlen": true, "hlen": true, "scard": true, "get": true, "getrange": true, "hgetall": true,
		"hscan": true, "lrange": true, "smembers": true, "sscan": true, "zrange": true, "xrevrange": true,
		"debug": true}
	for c := range s.commands(t) {
		if !cmdsBefore[c] && !readOnly[c] {
			t.Errorf("probe ran non-read-only command %q", c)
		}
	}
}

func serverVersion(t *testing.T) string {
	out, err := exec.Command(testenv.Binary(t, "redis-server"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	_, v, _ := strings.Cut(string(out), "v=")
	v, _, _ = strings.Cut(v, " ")
	return v
}

func TestProtected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		conf      []string
		challenge string
		flag      string
	}{
		{"requirepass", []string{"protected-mode no", "requirepass s3cret-pass"}, "NOAUTH", ""},
		// The default user may PING and see INFO, but not read keys.
		{"acl-noperm", []string{"protected-mode no", "user default on nopass ~* &* -@all +ping +info +select",
			"user admin on >admin-pass ~* &* +@all"}, "NOPERM", "keyspace-visible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startRedis(t, 0, false, tt.conf...)
			s.user, s.pass = "admin", "admin-pass"
			if tt.challenge == "NOAUTH" {
				s.user, s.pass = "", "s3cret-pass"
			}
			s.cli(t, seedDB0)
			before := s.digest(t)
			res, err := probetest.Run(t, New(), s.addr, s.port)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
				t.Fatalf("status %s auth %s", res.Status, res.Auth)
			}
			if res.Evidence["auth_challenge"] != tt.challenge {
				t.Errorf("evidence %v", res.Evidence)
			}
			for _, d := range res.Datasets {
				if d.Sampled != 0 || len(d.Sample) != 0 {
					t.Errorf("protected server sampled %s", d.Name)
				}
			}
			if tt.flag != "" && !contains(res.Flags, tt.flag) {
				t.Errorf("flags %v lack %s", res.Flags, tt.flag)
			}
			if after := s.digest(t); after != before {
				t.Errorf("dataset changed by probe")
			}
		})
	}
}

// Protected mode refuses non-loopback clients only (Redis counts all of
// 127.0.0.0/8 as local), so a test server cannot show it here; the reply
// it sends is checked as the server words it.
func TestProtectedModeReply(t *testing.T) {
	msg := "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface."
	res := &probe.Result{}
	done, err := classifyPing(res, value{kind: kindError, str: msg})
	if !done || err != nil || res.Status != finding.StatusProtected || !contains(res.Flags, "protected-mode") {
		t.Fatalf("done %v err %v result %+v", done, err, res)
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	s := startRedis(t, 0, true, "protected-mode no")
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evidence["redis_mode"] != "sentinel" || !contains(res.Flags, "sentinel") {
		t.Fatalf("evidence %v flags %v", res.Evidence, res.Flags)
	}
	if res.Status == finding.StatusProtected || len(res.Datasets) != 0 {
		t.Fatalf("sentinel: status %s datasets %v", res.Status, res.Datasets)
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		b := probetest.Banner(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		_, err := probetest.Run(t, New(), b.Addr, b.Port)
		if !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("memcached", func(t *testing.T) {
		bin := testenv.Binary(t, "memcached")
		addr := testenv.Addr(t)
		port := testenv.FreePort(t, addr)
		cmd := exec.Command(bin, "-l", addr.String(), "-p", strconv.Itoa(port), "-U", "0", "-m", "8", "-u", "nobody")
		testenv.StartAndWait(t, "memcached", cmd, addr, port, 10*time.Second)
		_, err := probetest.Run(t, New(), addr, port)
		if !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
