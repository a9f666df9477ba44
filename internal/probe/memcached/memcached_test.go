package memcached

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
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
}

// startMemcached runs memcached on a fresh loopback address; port 0 picks
// a random port.
func startMemcached(t *testing.T, port int, env []string, args ...string) *server {
	t.Helper()
	bin := testenv.Binary(t, "memcached")
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	base := []string{"-l", addr.String(), "-p", strconv.Itoa(port), "-U", "0", "-m", "8", "-u", "nobody"}
	cmd := exec.Command(bin, append(base, args...)...)
	cmd.Env = append(os.Environ(), env...)
	testenv.StartAndWait(t, "memcached", cmd, addr, port, 10*time.Second)
	return &server{addr: addr, port: port}
}

// exchange sends raw ASCII protocol text and reads until a line equal to
// one of ends (test-only seeding and digests).
func (s *server) exchange(t *testing.T, req string, ends ...string) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(s.addr.String(), strconv.Itoa(s.port)), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v after %q", err, lines)
		}
		l = strings.TrimRight(l, "\r\n")
		lines = append(lines, l)
		for _, e := range ends {
			if l == e {
				return lines
			}
		}
	}
}

var seed = map[string]string{
	"user:1001":    `{"email":"alice.smith@example.com","name":"Alice Smith","token":"tok_9f86d081884c7d659a2feaa0c55ad015"}`,
	"user:1002":    `{"email":"bob.jones@example.org","name":"Bob Jones","token":"tok_3f79bb7b435b05321651daefd374cdc6"}`,
	"session:8c1f": `{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`,
	"apikey":       "sk_live_51HxYzABCDEF0123456789",
	"greeting":     "hello world",
}

// digest hashes every key, flag and value (metadump + get).
func (s *server) digest(t *testing.T) string {
	t.Helper()
	var keys []string
	for _, l := range s.exchange(t, "lru_crawler metadump all\r\n", "END") {
		if it, ok := parseMetadump(l); ok {
			keys = append(keys, it.key)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	if len(keys) > 0 {
		for _, l := range s.exchange(t, "get "+strings.Join(keys, " ")+"\r\n", "END") {
			fmt.Fprintln(h, l)
		}
	}
	for _, l := range s.exchange(t, "stats\r\n", "END") {
		if strings.HasPrefix(l, "STAT curr_items ") || strings.HasPrefix(l, "STAT cmd_set ") {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		port int
		args []string
	}{
		{"default", 11211, nil},
		{"ascii-only", 0, []string{"-B", "ascii"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := startMemcached(t, tc.port, nil, tc.args...)
			s.seedWait(t)
			before := s.digest(t)
			res, err := probetest.Run(t, New(), s.addr, s.port)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
				t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
			}
			if want := serverVersion(t); res.Product != "memcached" || res.Version != want {
				t.Errorf("product %q version %q, want %q", res.Product, res.Version, want)
			}
			if len(res.Datasets) != 1 {
				t.Fatalf("datasets %+v", res.Datasets)
			}
			d := res.Datasets[0]
			if d.Name != "cache" || d.Records == nil || *d.Records != int64(len(seed)) || d.Bytes == nil || *d.Bytes == 0 {
				t.Errorf("dataset %+v", d.Dataset)
			}
			if d.Sampled != len(seed) || len(d.Sample) != len(seed) {
				t.Errorf("sampled %d", d.Sampled)
			}
			paths := map[string]bool{}
			for _, r := range d.Sample {
				for _, v := range r.Values {
					paths[v.Path] = true
				}
			}
			for _, p := range []string{"email", "name", "token", "login_token", "ip", "apikey", "greeting", "_key"} {
				if !paths[p] {
					t.Errorf("sample lacks %q (have %v)", p, paths)
				}
			}
			if after := s.digest(t); after != before {
				t.Fatal("data changed by probe")
			}
		})
	}
}

// seedWait seeds and waits until the items are visible to the crawler.
func (s *server) seedWait(t *testing.T) {
	t.Helper()
	var b strings.Builder
	for k, v := range seed {
		fmt.Fprintf(&b, "set %s 0 0 %d\r\n%s\r\n", k, len(v), v)
	}
	lines := s.exchange(t, b.String()+"mn\r\n", "MN")
	for _, l := range lines[:len(lines)-1] {
		if l != "STORED" {
			t.Fatalf("seed: %q", lines)
		}
	}
}

func serverVersion(t *testing.T) string {
	out, err := exec.Command(testenv.Binary(t, "memcached"), "-V").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "memcached "))
}

func TestProtected(t *testing.T) {
	t.Parallel()
	t.Run("sasl", func(t *testing.T) {
		t.Parallel()
		if _, ok := testenv.LookPath("saslpasswd2"); !ok {
			testenv.Unavailable(t, "saslpasswd2 (sasl2-bin) not installed")
		}
		dir := t.TempDir()
		db := filepath.Join(dir, "sasldb2")
		conf := fmt.Sprintf("mech_list: plain\nsasldb_path: %s\n", db)
		if err := os.WriteFile(filepath.Join(dir, "memcached.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("saslpasswd2", "-p", "-f", db, "-a", "memcached", "-c", "cacheuser")
		cmd.Stdin = strings.NewReader("cache-pass-123")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("saslpasswd2: %v %s", err, out)
		}
		// memcached drops root for "nobody", who must read the database.
		for _, p := range []string{dir, db} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s := startMemcached(t, 0, []string{"SASL_CONF_PATH=" + dir}, "-S")
		checkProtected(t, s, "sasl")
	})
	t.Run("ascii-auth", func(t *testing.T) {
		t.Parallel()
		f := filepath.Join(t.TempDir(), "auth")
		if err := os.WriteFile(f, []byte("cacheuser:cache-pass-123\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{filepath.Dir(f), filepath.Dir(filepath.Dir(f))} {
			if err := os.Chmod(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s := startMemcached(t, 0, nil, "-Y", f)
		checkProtected(t, s, "ascii-auth")
	})
}

func checkProtected(t *testing.T, s *server, mech string) {
	t.Helper()
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s auth %s", res.Status, res.Auth)
	}
	if res.Evidence["auth_challenge"] != mech || len(res.Datasets) != 0 {
		t.Fatalf("evidence %v datasets %v", res.Evidence, res.Datasets)
	}
	if mech == "sasl" && res.Version != serverVersion(t) {
		t.Errorf("version %q", res.Version)
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http":  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"redis": "-ERR unknown command\r\n",
		"smtp":  "220 mail.example.com ESMTP\r\n",
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
