package testenv

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
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
	}
	lines := m.Exchange(tb, b.String()+"mn\r\n", "MN")
	for _, l := range lines[:len(lines)-1] {
		if l != "STORED" {
			tb.Fatalf("seed: %q", lines)
		}
	}
}

// Digest hashes every key, flag and value (metadump + get) and the item
// and set counters.
func (m *Memcached) Digest(tb testing.TB) string {
	tb.Helper()
	keys := m.metadump(tb)
	h := sha256.New()
	if len(keys) > 0 {
		for _, l := range m.Exchange(tb, "get "+strings.Join(keys, " ")+"\r\n", "END") {
			fmt.Fprintln(h, l)
		}
	}
	for _, l := range m.Exchange(tb, "stats\r\n", "END") {
		if strings.HasPrefix(l, "STAT curr_items ") || strings.HasPrefix(l, "STAT cmd_set ") {
			fmt.Fprintln(h, l)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// metadump lists every item's key. Right after a probe the LRU crawler may
// still be busy ("BUSY …", retried, never read as an empty cache), and
// items the probe read move between LRU segments while a crawl walks them,
// so one crawl can miss or repeat a key: the keys of three crawls are
// merged.
func (m *Memcached) metadump(tb testing.TB) []string {
	tb.Helper()
	var keys []string
	for range 3 {
		for wait := 50 * time.Millisecond; ; wait *= 2 {
			lines, busy := m.crawl(tb)
			if !busy {
				for _, l := range lines {
					for _, f := range strings.Fields(l) {
						if k, ok := strings.CutPrefix(f, "key="); ok {
							if u, err := url.QueryUnescape(k); err == nil {
								keys = append(keys, u)
							}
						}
					}
				}
				break
			}
			if wait > 3*time.Second {
				tb.Fatal("memcached: lru_crawler still busy")
			}
			time.Sleep(wait)
		}
	}
	sort.Strings(keys)
	return slices.Compact(keys)
}

// crawl runs one metadump: its lines, or busy when the crawler refused.
func (m *Memcached) crawl(tb testing.TB) (lines []string, busy bool) {
	tb.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort(m.Addr.String(), strconv.Itoa(m.Port)), 2*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("lru_crawler metadump all\r\n")); err != nil {
		tb.Fatal(err)
	}
	r := bufio.NewReader(c)
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("read: %v after %d lines", err, len(lines))
		}
		l = strings.TrimRight(l, "\r\n")
		switch {
		case l == "END":
			return lines, false
		case strings.HasPrefix(l, "BUSY"):
			return nil, true
		}
		lines = append(lines, l)
	}
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
