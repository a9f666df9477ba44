package testenv

import (
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
)

const (
	zkJar = "/usr/share/java/zookeeper.jar"
	zkCli = "/usr/share/zookeeper/bin/zkCli.sh"
)

// ZooKeeperOptions configure StartZooKeeper.
type ZooKeeperOptions struct {
	// Addr and Port of the client port (zero: a fresh loopback address, a
	// free port).
	Addr netip.Addr
	Port int
	// Config holds extra zoo.cfg lines.
	Config []string
}

// ZooKeeper is a real standalone ZooKeeper (Debian zookeeperd) started for
// a test.
type ZooKeeper struct {
	Addr netip.Addr
	Port int
}

// StartZooKeeper runs a standalone ZooKeeper (Debian's zookeeper.jar) with
// a small heap; it is stopped when the test ends.
func StartZooKeeper(t testing.TB, o ZooKeeperOptions) *ZooKeeper {
	t.Helper()
	java := Binary(t, "java")
	if _, err := os.Stat(zkJar); err != nil {
		Unavailable(t, "zookeeper not installed (%s)", zkJar)
	}
	addr, port := Listen(t, o.Addr, o.Port)
	dir := t.TempDir()
	cfg := append([]string{
		"dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + strconv.Itoa(port),
		"clientPortAddress=" + addr.String(),
		"admin.enableServer=false",
		"4lw.commands.whitelist=srvr,mntr",
		"tickTime=2000",
	}, o.Config...)
	WriteFile(t, filepath.Join(dir, "zoo.cfg"), strings.Join(cfg, "\n")+"\n")
	WriteFile(t, filepath.Join(dir, "log4j.properties"), "log4j.rootLogger=WARN, C\nlog4j.appender.C=org.apache.log4j.ConsoleAppender\nlog4j.appender.C.layout=org.apache.log4j.PatternLayout\n")
	cmd := exec.Command(java, "-Xmx64m", "-XX:+UseSerialGC", "-Dzookeeper.jmx.log4j.disable=true",
		"-cp", dir+":"+zkJar, "org.apache.zookeeper.server.quorum.QuorumPeerMain", filepath.Join(dir, "zoo.cfg"))
	StartAndWait(t, "zookeeper", cmd, addr, port, 30*time.Second)
	return &ZooKeeper{Addr: addr, Port: port}
}

// CLI runs zkCli.sh with one command a line on stdin. zkCli may run
// lines before its session is up (ConnectionLoss); the commands used here
// are idempotent, so such a run is repeated.
func (s *ZooKeeper) CLI(t testing.TB, lines ...string) string {
	t.Helper()
	for attempt := 0; ; attempt++ {
		cmd := exec.Command(zkCli, "-server", fmt.Sprintf("%s:%d", s.Addr, s.Port))
		all := append(append([]string{zkWarmup}, lines...), "quit")
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

const zkWarmup = "ls /zookeeper"

// Seed creates ZooKeeperSeed (after the auth line, if any), lists it to
// check every znode is there, and then runs more (e.g. ACL changes), all in
// one zkCli run.
func (s *ZooKeeper) Seed(t testing.TB, auth string, more ...string) {
	t.Helper()
	lines := append(append([]string{auth}, ZooKeeperSeed...), "ls -R /")
	out := s.CLI(t, append(lines, more...)...)
	for _, p := range zkSeedPaths {
		if !strings.Contains(out, "\n"+p+"\n") {
			t.Fatalf("seed: %s missing:\n%s", p, out)
		}
	}
}

// ZooKeeperSeed are the zkCli commands that create the seed tree: 6
// znodes under /app (3 with data), 2 under /services (1 with data).
var ZooKeeperSeed = []string{
	"create /app",
	"create /app/users",
	`create /app/users/1001 '{"email":"alice.smith@example.com","name":"Alice Smith","token":"tok_9f86d081884c7d659a2feaa0c55ad015"}'`,
	`create /app/users/1002 '{"email":"bob.jones@example.org","name":"Bob Jones","token":"tok_3f79bb7b435b05321651daefd374cdc6"}'`,
	"create /app/config",
	"create /app/config/db_password hunter2-Sup3rS3cret",
	"create /services",
	`create /services/api '{"host":"api.internal.example","ip":"203.0.113.7","api_key":"sk_live_51HxYzABCDEF0123456789"}'`,
}

var zkSeedPaths = []string{"/app", "/app/users", "/app/users/1001", "/app/users/1002", "/app/config", "/app/config/db_password", "/services", "/services/api"}

// ZooKeeperSecrets are raw seeded values no leakwatch output may contain.
var ZooKeeperSecrets = []string{"alice.smith@example.com", "tok_9f86d081884c7d659a2feaa0c55ad015", "hunter2-Sup3rS3cret", "sk_live_51HxYzABCDEF0123456789"}

// Digest lists the tree and every znode's data and Stat with zkCli.
func (s *ZooKeeper) Digest(t testing.TB, auth ...string) string {
	t.Helper()
	lines := append([]string{}, auth...)
	lines = append(lines, "ls -R /")
	for _, p := range zkSeedPaths {
		lines = append(lines, "get -s "+p)
	}
	out := s.CLI(t, lines...)
	// Keep the tree listing, data and Stat lines only: zkCli's session
	// chatter differs per run.
	keep := regexp.MustCompile(`^(/|\{|hunter2|null$|[a-zA-Z]+ = )`)
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if keep.MatchString(l) {
			b.WriteString(l + "\n")
		}
	}
	if strings.Count(b.String(), "mZxid = ") != len(zkSeedPaths) {
		t.Fatalf("digest incomplete:\n%s", out)
	}
	return b.String()
}
