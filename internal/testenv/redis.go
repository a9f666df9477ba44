package testenv

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisOptions configure StartRedis.
type RedisOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Sentinel runs redis-server --sentinel.
	Sentinel bool
	// Password, if set, is the requirepass of the default user.
	Password string
	// Config holds extra redis.conf lines (e.g. "protected-mode no").
	Config []string
}

// Redis is a real redis-server (Debian package) started for a test.
type Redis struct {
	Addr netip.Addr
	Port int
	// User and Pass are what CLI authenticates with (empty: none).
	User, Pass string
}

// StartRedis runs redis-server without persistence; it is stopped when the
// test ends.
func StartRedis(tb testing.TB, o RedisOptions) *Redis {
	tb.Helper()
	bin := Binary(tb, "redis-server")
	Binary(tb, "redis-cli")
	r := &Redis{Pass: o.Password}
	r.Addr, r.Port = Listen(tb, o.Addr, o.Port)
	dir := tb.TempDir()
	conf := []string{
		"bind " + r.Addr.String(),
		"port " + strconv.Itoa(r.Port),
		"dir " + dir,
		"save \"\"",
		"appendonly no",
		"daemonize no",
		"logfile \"\"",
	}
	if !o.Sentinel {
		conf = append(conf, "enable-debug-command yes", "databases 16")
	}
	if o.Password != "" {
		conf = append(conf, "requirepass "+o.Password)
	}
	conf = append(conf, o.Config...)
	path := filepath.Join(dir, "redis.conf")
	if err := os.WriteFile(path, []byte(strings.Join(conf, "\n")+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	args := []string{path}
	if o.Sentinel {
		args = append(args, "--sentinel")
	}
	StartAndWait(tb, "redis-server", exec.Command(bin, args...), r.Addr, r.Port, 15*time.Second)
	return r
}

// CLI runs redis-cli against r; stdin, when set, holds one command a line.
func (r *Redis) CLI(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	base := []string{"-h", r.Addr.String(), "-p", strconv.Itoa(r.Port), "--no-auth-warning"}
	if r.User != "" {
		base = append(base, "--user", r.User)
	}
	if r.Pass != "" {
		base = append(base, "--pass", r.Pass)
	}
	cmd := exec.Command(Binary(tb, "redis-cli"), append(base, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-cli %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// Digest is the server's own dataset digest plus the keyspace line.
func (r *Redis) Digest(tb testing.TB) string {
	tb.Helper()
	return r.CLI(tb, "", "DEBUG", "DIGEST") + r.CLI(tb, "", "INFO", "keyspace")
}

// Commands are the commands the server has executed so far.
func (r *Redis) Commands(tb testing.TB) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	for _, line := range strings.Split(r.CLI(tb, "", "INFO", "commandstats"), "\n") {
		if name, ok := strings.CutPrefix(line, "cmdstat_"); ok {
			n, _, _ := strings.Cut(name, ":")
			out[n] = true
		}
	}
	return out
}

// RedisSeedKeys are the key counts Seed leaves per database.
var RedisSeedKeys = map[string]int64{"db0": 9, "db2": 2}

const redisSeedDB0 = `HSET user:1001 email alice.smith@example.com name "Alice Smith" phone "+44 20 7946 0958" token tok_9f86d081884c7d659a2feaa0c55ad015
HSET user:1002 email bob.jones@example.org name "Bob Jones" phone "+1 202 555 0143" token tok_3f79bb7b435b05321651daefd374cdc6
HSET user:1003 email carol@example.net name "Carol White" phone "+49 30 901820" token tok_2c26b46b68ffc68ff99b453c1d304134
SET session:8c1f '{"user":"alice","email":"alice.smith@example.com","login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}'
SET apikey:prod sk_live_51HxYzABCDEF0123456789
RPUSH devices:1001 "{\"mac\":\"00:1A:2B:3C:4D:5E\",\"ssid\":\"HomeWiFi-42\",\"model\":\"CamPro X2\"}"
SADD emails:newsletter dave@example.com erin@example.com
ZADD leaderboard 10 frank 20 grace
XADD events:login * user alice ip 203.0.113.7
`

const redisSeedDB2 = `SELECT 2
SET note:1 "hello from db2"
HSET customer:9 email zoe@example.com name "Zoe Quinn"
`

// RedisSecrets are raw seeded values no leakwatch output may contain.
var RedisSecrets = []string{"alice.smith@example.com", "tok_9f86d081884c7d659a2feaa0c55ad015", "sk_live_51HxYzABCDEF0123456789", "+44 20 7946 0958", "zoe@example.com"}

// Seed writes personal-data-shaped keys of every type into db0 and db2
// (RedisSeedKeys).
func (r *Redis) Seed(tb testing.TB) {
	tb.Helper()
	r.CLI(tb, redisSeedDB0)
	r.CLI(tb, redisSeedDB2)
}

// RedisVersion is the installed redis-server's version.
func RedisVersion(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command(Binary(tb, "redis-server"), "--version").Output()
	if err != nil {
		tb.Fatal(err)
	}
	_, v, _ := strings.Cut(string(out), "v=")
	v, _, _ = strings.Cut(v, " ")
	return v
}
