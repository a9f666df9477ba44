package testenv

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MemcachedOptions configure StartMemcached.
type MemcachedOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Env is added to the server's environment (e.g. SASL_CONF_PATH=...).
	Env []string
	// Args are extra command-line flags (e.g. "-B", "ascii"; "-S").
	Args []string
}

// Memcached is a real memcached (Debian package) started for a test.
type Memcached struct {
	Addr netip.Addr
	Port int
	// seeded are the keys Seed stored (Digest reads their values).
	seeded []string
}

// StartMemcached runs memcached (8 MiB, TCP only, as nobody); it is stopped
// when the test ends.
func StartMemcached(tb testing.TB, o MemcachedOptions) *Memcached {
	tb.Helper()
	bin := Binary(tb, "memcached")
	m := &Memcached{}
	m.Addr, m.Port = Listen(tb, o.Addr, o.Port)
	base := []string{"-l", m.Addr.String(), "-p", strconv.Itoa(m.Port), "-U", "0", "-m", "8", "-u", "nobody"}
	cmd := exec.Command(bin, append(base, o.Args...)...)
	cmd.Env = append(os.Environ(), o.Env...)
	StartAndWait(tb, "memcached", cmd, m.Addr, m.Port, 10*time.Second)
	return m
}

// StartMemcachedASCIIAuth runs memcached with ASCII authentication (-Y)
// for user:password.
func StartMemcachedASCIIAuth(tb testing.TB, o MemcachedOptions, user, password string) *Memcached {
	tb.Helper()
	// memcached drops root for "nobody", who must read the file.
	f := filepath.Join(ServerDir(tb, "leakwatch-memcached-"), "auth")
	WriteFile(tb, f, user+":"+password+"\n")
	o.Args = append(o.Args, "-Y", f)
	return StartMemcached(tb, o)
}

// Exchange sends raw ASCII protocol text and reads until a line equal to
// one of ends (test-only seeding and digests).
func (m *Memcached) Exchange(tb testing.TB, req string, ends ...string) []string {
	tb.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(m.Addr.String(), strconv.Itoa(m.Port)), 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(req)); err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReader(c)
	var lines []string
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("read: %v after %q", err, lines)
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

// MemcachedSeed are the items Seed stores.
var MemcachedSeed = map[string]string{
	"user:1001":    `{"email":"alice.smith@example.com","name":"Alice Smith","token":"tok_9f86d081884c7d659a2feaa0c55ad015"}`,
	"user:1002":    `{"email":"bob.jones@example.org","name":"Bob Jones","token":"tok_3f79bb7b435b05321651daefd374cdc6"}`,
	"session:8c1f": `{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`,
	"apikey":       "sk_live_51HxYzABCDEF0123456789",
	"greeting":     "hello world",
}

// Seed stores MemcachedSeed and waits until the items are visible to the
// LRU crawler.
func (m *Memcached) Seed(tb testing.TB) {
	tb.Helper()
	var b strings.Builder
	for k, v := range MemcachedSeed {
		fmt.Fprintf(&b, "set %s 0 0 %d\r\n%s\r\n", k, len(v), v)
		m.seeded = append(m.seeded, k)
	}
	lines := m.Exchange(tb, b.String()+"mn\r\n", "MN")
	for _, l := range lines[:len(lines)-1] {
		if l != "STORED" {
			tb.Fatalf("seed: %q", lines)
		}
	}
}

// Digest hashes the value of every seeded key (get) and the server's write
// counters. Every command that changes an item counts in one of them
// (storage commands in cmd_set and total_items, delete, incr, decr, touch,
// cas, flush_all), so a probe that changed any item — seeded or not —
// changes the digest; reads count only in get_*, which are left out.
// An LRU-crawler listing is not used: items a probe reads move between
// LRU segments while a crawl walks them, so a crawl can miss a key, and a
// digest built on it flaked (TestOpenServer, about 1 run in 10 under load).
func (m *Memcached) Digest(tb testing.TB) string {
	tb.Helper()
	h := sha256.New()
	if len(m.seeded) > 0 {
		keys := slices.Sorted(slices.Values(m.seeded))
		for _, l := range m.Exchange(tb, "get "+strings.Join(keys, " ")+"\r\n", "END") {
			fmt.Fprintln(h, l)
		}
	}
	for _, l := range m.Exchange(tb, "stats\r\n", "END") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "STAT" && writeCounters[f[1]] {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeCounters are the stats that any change of an item moves.
var writeCounters = map[string]bool{
	"curr_items": true, "total_items": true, "cmd_set": true, "cmd_flush": true, "cmd_touch": true,
	"delete_hits": true, "incr_hits": true, "decr_hits": true, "cas_hits": true, "touch_hits": true,
}

// MemcachedVersion is the installed memcached's version.
func MemcachedVersion(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command(Binary(tb, "memcached"), "-V").Output()
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(strings.TrimPrefix(string(out), "memcached "))
}
