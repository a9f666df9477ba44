package zookeeper

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	zkJar = "/usr/share/java/zookeeper.jar"
	zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
)

type server struct {
	addr netip.Addr
	port int
}

// startZooKeeper runs a standalone ZooKeeper (Debian's zookeeper.jar) on a
// fresh loopback address with a small heap; port 0 picks a random port.
func startZooKeeper(t *testing.T, port int, extra ...string) *server {
	t.Helper()
	java := testenv.Binary(t, "java")
	if _, err := os.Stat(zkJar); err != nil {
		testenv.Unavailable(t, "zookeeper not installed (%s)", zkJar)
	}
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	dir := t.TempDir()
	cfg := append([]string{
		"dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + strconv.Itoa(port),
		"clientPortAddress=" + addr.String(),
		"admin.enableServer=false",
		"4lw.commands.whitelist=srvr,mntr",
		"tickTime=2000",
	}, extra...)
	write(t, filepath.Join(dir, "zoo.cfg"), strings.Join(cfg, "\n")+"\n")
	write(t, filepath.Join(dir, "log4j.properties"), "log4j.rootLogger=WARN, C\nlog4j.appender.C=org.apache.log4j.ConsoleAppender\nlog4j.appender.C.layout=org.apache.log4j.PatternLayout\n")
	cmd := exec.Command(java, "-Xmx64m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true",
		"-cp", dir+":"+zkJar, "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	testenv.StartAndWait(t, "zookeeper", cmd, addr, port, 30*time.Second)
	return &server{addr: addr, port: port}
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cli runs zkCli.sh with one command a line on stdin. zkCli may run
// lines before its session is up (ConnectionLoss); the commands used here
// are idempotent, so such a run is repeated.
func (s *server) cli(t *testing.T, lines ...string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(zkCli, "-server", fmt.Sprintf("%s:%d", s.addr, s.port))
		all := append(append([]string{warmup}, lines...), "quit")
		cmd.Stdin = strings.NewReader(strings.Join(all, "\n") + "\n")
		cmd.Env = append(os.Environ(), "JVMFLAGS=-Xmx64m")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("zkCli: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "ConnectionLoss") || attempt == 4 {
			return string(out)
		}
	}
}

const warmup = "ls /zookeeper"

// seed creates the seed tree, lists it to check every znode is there, and
// then runs more (e.g. ACL changes), all in one zkCli run.
func (s *server) seed(t *testing.T, auth string, more ...string) {
	t.Helper()
	lines := append(append([]string{auth}, seed...), "ls -R /")
	out := s.cli(t, append(lines, more...)...)
	for _, p := range seedPaths {
		if !strings.Contains(out, "\n"+p+"\n") {
			t.Fatalf("seed: %s missing:\n%s", p, out)
		}
	}
}

var seed = []string{
	"create /app",
	"create /app/users",
	`create /app/users/1001 '{"email":"alice.smith@example.com","name":"Alice Smith","token":"tok_9f86d081884c7d659a2feaa0c55ad015"}'`,
	`create /app/users/1002 '{"email":"bob.jones@example.org","name":"Bob Jones","token":"tok_3f79bb7b435b05321651daefd374cdc6"}'`,
	"create /app/config",
	"create /app/config/db_password hunter2-Sup3rS3cret",
	"create /services",
	`create /services/api '{"host":"api.internal.example","ip":"203.0.113.7","api_key":"sk_live_51HxYzABCDEF0123456789"}'`,
}

var seedPaths = []string{"/app", "/app/users", "/app/users/1001", "/app/users/1002", "/app/config", "/app/config/db_password", "/services", "/services/api"}

// digest lists the tree and every znode's data and Stat with zkCli.
func (s *server) digest(t *testing.T, auth ...string) string {
	t.Helper()
	lines := append([]string{}, auth...)
	lines = append(lines, "ls -R /")
	for _, p := range seedPaths {
		lines = append(lines, "get -s "+p)
	}
	out := s.cli(t, lines...)
	// Keep the tree listing, data and Stat lines only: zkCli's session
	// chatter differs per run.
	keep := regexp.MustCompile(`^(/|\{|hunter2|null$|[a-zA-Z]+ = )`)
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if keep.MatchString(l) {
			b.WriteString(l + "\n")
		}
	}
	if strings.Count(b.String(), "mZxid = ") != len(seedPaths) {
		t.Fatalf("digest incomplete:\n%s", out)
	}
	return b.String()
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := startZooKeeper(t, 2181)
	s.seed(t, "")
	before := s.digest(t)
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
	if res.Product != "zookeeper" || res.Version != "3.8.0" || res.Evidence["mode"] != "standalone" {
		t.Errorf("product %q version %q evidence %v", res.Product, res.Version, res.Evidence)
	}
	want := map[string][2]int64{"/app": {6, 3}, "/services": {2, 1}}
	if len(res.Datasets) != len(want) || res.Datasets[0].Name != "/app" {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		w := want[d.Name]
		if d.Kind != "path" || d.Records == nil || *d.Records != w[0] || int64(d.Sampled) != w[1] {
			t.Errorf("%s: kind %s records %v sampled %d, want %v", d.Name, d.Kind, d.Records, d.Sampled, w)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	for _, p := range []string{"email", "name", "token", "/app/config/db_password", "ip", "api_key", "_key"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
	if after := s.digest(t); after != before {
		t.Fatalf("tree changed by probe:\n%s\n---\n%s", before, after)
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	const auth = "addauth digest admin:admin-pass-123"
	for _, tc := range []struct {
		name string
		acl  []string
		flag string
	}{
		{"subtrees", []string{"setAcl -R /app auth:admin:cdrwa", "setAcl -R /services auth:admin:cdrwa"}, "tree-visible"},
		{"root", []string{"setAcl -R / auth:admin:cdrwa"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startZooKeeper(t, 0)
			s.seed(t, auth, tc.acl...)
			before := s.digest(t, auth)
			res, err := probetest.Run(t, New(), s.addr, s.port)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
				t.Fatalf("status %s auth %s (%s)", res.Status, res.Auth, res.Error)
			}
			for _, d := range res.Datasets {
				if d.Sampled != 0 || d.Records != nil {
					t.Errorf("%s read: %+v", d.Name, d.Dataset)
				}
			}
			if tc.flag != "" && !contains(res.Flags, tc.flag) {
				t.Errorf("flags %v", res.Flags)
			}
			if after := s.digest(t, auth); after != before {
				t.Fatalf("tree changed by probe:\n%s\n---\n%s", before, after)
			}
		})
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		b := probetest.Banner(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		if _, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("memcached", func(t *testing.T) {
		bin := testenv.Binary(t, "memcached")
		addr := testenv.Addr(t)
		port := testenv.FreePort(t, addr)
		testenv.StartAndWait(t, "memcached", exec.Command(bin, "-l", addr.String(), "-p", strconv.Itoa(port), "-U", "0", "-m", "8", "-u", "nobody"), addr, port, 10*time.Second)
		start := time.Now()
		if _, err := probetest.Run(t, New(), addr, port); !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
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
