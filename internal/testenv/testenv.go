// Package testenv starts real servers (Debian packages, embedded Go servers)
// on loopback addresses for integration tests, and tears them down after.
//
// Every server gets its own random 127.x.y.z address so that tests in
// different packages, run in parallel, never collide on ports; nothing here
// binds anything but loopback.
//
// When a server's binary is missing the test is skipped locally, but fails
// when CI=true or LEAKWATCH_REQUIRE_SERVICES=1: CI must run every test.
package testenv

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Strict tells whether missing services fail tests instead of skipping them.
func Strict() bool {
	return os.Getenv("CI") == "true" || os.Getenv("LEAKWATCH_REQUIRE_SERVICES") == "1"
}

// Unavailable skips (or, when Strict, fails) the test for a missing service.
func Unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		tb.Fatalf("required service unavailable: %s", msg)
	}
	tb.Skipf("service unavailable (set CI=true to fail instead): %s", msg)
}

var extraPath = []string{
	"/usr/sbin", "/sbin", "/usr/local/sbin",
	"/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin",
	"/usr/lib/rabbitmq/bin",
}

// LookPath finds a server binary, also in sbin and versioned folders.
func LookPath(name string) (string, bool) {
	if p, err := exec.LookPath(name); err == nil {
		return p, true
	}
	for _, d := range extraPath {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, true
		}
	}
	return "", false
}

// Binary returns the path of a server binary or skips/fails the test.
func Binary(tb testing.TB, name string) string {
	tb.Helper()
	p, ok := LookPath(name)
	if !ok {
		Unavailable(tb, "%s not installed (run scripts/install-deps.sh)", name)
	}
	return p
}

var (
	addrMu   sync.Mutex
	addrUsed = map[netip.Addr]bool{}
)

// Addr returns a fresh loopback address 127.x.y.z (x in 64..127) not used
// by this process before. Port collisions with other processes are checked
// by PortFree.
func Addr(tb testing.TB) netip.Addr {
	tb.Helper()
	addrMu.Lock()
	defer addrMu.Unlock()
	for {
		a := netip.AddrFrom4([4]byte{127, byte(64 + rand.IntN(64)), byte(rand.IntN(256)), byte(2 + rand.IntN(250))})
		if !addrUsed[a] {
			addrUsed[a] = true
			return a
		}
	}
}

// PortFree tells whether port can be bound on addr right now.
func PortFree(addr netip.Addr, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// AddrWithPort returns a fresh loopback address on which port is free.
func AddrWithPort(tb testing.TB, port int) netip.Addr {
	tb.Helper()
	for i := 0; i < 50; i++ {
		a := Addr(tb)
		if PortFree(a, port) {
			return a
		}
	}
	tb.Fatalf("testenv: no loopback address with port %d free", port)
	return netip.Addr{}
}

// FreePort returns a port that is free on addr.
func FreePort(tb testing.TB, addr netip.Addr) int {
	tb.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		tb.Fatalf("testenv: free port on %s: %v", addr, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitTCP waits until addr:port accepts connections.
func WaitTCP(addr netip.Addr, port int, timeout time.Duration) error {
	hp := net.JoinHostPort(addr.String(), strconv.Itoa(port))
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", hp, 500*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("testenv: %s not accepting after %s: %w", hp, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Proc is a running server process.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

// Log returns what the process printed so far.
func (p *Proc) Log() string { return p.log.String() }

// Stop terminates the process (SIGTERM, then SIGKILL after 5 s) and its group.
func (p *Proc) Stop() {
	if p.Cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// Start runs a server process in its own process group; it is stopped when
// the test ends, and its output is logged if the test failed.
func Start(tb testing.TB, name string, cmd *exec.Cmd) *Proc {
	tb.Helper()
	p := &Proc{Name: name, Cmd: cmd, log: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout = p.log
	cmd.Stderr = p.log
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := cmd.Start(); err != nil {
		tb.Fatalf("testenv: start %s: %v", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			tb.Logf("--- %s output ---\n%s", name, tail(p.Log(), 4000))
		}
	})
	return p
}

// StartAndWait starts a server and waits until it accepts on addr:port.
func StartAndWait(tb testing.TB, name string, cmd *exec.Cmd, addr netip.Addr, port int, timeout time.Duration) *Proc {
	tb.Helper()
	p := Start(tb, name, cmd)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- WaitTCP(addr, port, timeout) }()
	select {
	case err := <-errc:
		if err != nil {
			tb.Fatalf("%s did not come up: %v\n%s", name, err, tail(p.Log(), 4000))
		}
	case <-p.done:
		tb.Fatalf("%s exited early:\n%s", name, tail(p.Log(), 4000))
	case <-ctx.Done():
		tb.Fatalf("%s: timeout", name)
	}
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Subnet24 returns a fresh loopback /24 (127.x.y.0/24, x in 128..191) for
// tests that model a fleet in one network; hosts are Subnet24(tb).Host(n).
func Subnet24(tb testing.TB) Net24 {
	tb.Helper()
	addrMu.Lock()
	defer addrMu.Unlock()
	for {
		n := Net24{127, byte(128 + rand.IntN(64)), byte(rand.IntN(256))}
		a := n.Host(1)
		if !addrUsed[a] {
			addrUsed[a] = true
			return n
		}
	}
}

// Net24 is a /24 given by its first three octets.
type Net24 [3]byte

// Host is the address .n in the network.
func (n Net24) Host(i byte) netip.Addr { return netip.AddrFrom4([4]byte{n[0], n[1], n[2], i}) }

// CIDR is "127.x.y.0/24".
func (n Net24) CIDR() string { return n.Host(0).String() + "/24" }

// Listen returns where a server should listen: addr and port as given, a
// fresh loopback address when addr is zero, a free port when port is 0. A
// non-loopback addr fails the test.
func Listen(tb testing.TB, addr netip.Addr, port int) (netip.Addr, int) {
	tb.Helper()
	switch {
	case addr.IsValid() && !addr.IsLoopback():
		tb.Fatalf("testenv: %s is not a loopback address", addr)
	case addr.IsValid() && port == 0:
		port = FreePort(tb, addr)
	case addr.IsValid():
	case port == 0:
		addr = Addr(tb)
		port = FreePort(tb, addr)
	default:
		addr = AddrWithPort(tb, port)
	}
	return addr, port
}

// CachedBinary finds a server binary that a scripts/build-*.sh script
// builds into the module's .cache/bin (or that env names), or skips/fails
// the test.
func CachedBinary(tb testing.TB, name, env, script string) string {
	tb.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(root, ".cache", "bin", name)
	if _, err := os.Stat(p); err != nil {
		Unavailable(tb, "%s not built (run %s)", name, script)
	}
	return p
}

// SystemUser is the uid and gid of a server's system user (one its Debian
// package created), or skips (fails under CI) the test without it.
func SystemUser(tb testing.TB, name string) (uid, gid int) {
	tb.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		Unavailable(tb, "system user %s: %v", name, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid
}

// ServerDir makes a world-readable temp dir for a server that drops root
// (t.TempDir's parents are root-only); it is removed when the test ends.
func ServerDir(tb testing.TB, prefix string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}
