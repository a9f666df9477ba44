package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Restart stops the PostgreSQL server (fast shutdown: sessions are
// terminated, as in a real restart), waits down, and starts it again with
// the same command line (postmaster.opts), data dir, address and port.
func (p *Postgres) Restart(tb testing.TB, down time.Duration) {
	tb.Helper()
	data := filepath.Join(p.Dir, "data")
	opts, err := os.ReadFile(filepath.Join(data, "postmaster.opts"))
	if err != nil {
		tb.Fatalf("postgres restart: %v", err)
	}
	args := parseOpts(strings.TrimSpace(string(opts)))
	if len(args) < 2 {
		tb.Fatalf("postgres restart: postmaster.opts %q", opts)
	}
	pidFile, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		tb.Fatalf("postgres restart: %v", err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	if err != nil {
		tb.Fatalf("postgres restart: postmaster.pid: %v", err)
	}
	_ = syscall.Kill(pid, syscall.SIGINT)
	for deadline := time.Now().Add(30 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("postgres restart: pid %d still running", pid)
		}
	}
	time.Sleep(down)
	uid, gid := SystemUser(tb, "postgres")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	StartAndWait(tb, "postgres (restarted)", cmd, p.Addr, p.Port, 30*time.Second)
	p.waitReady(tb)
}

// parseOpts splits postmaster.opts: the binary, then double-quoted args.
func parseOpts(s string) []string {
	bin, rest, _ := strings.Cut(s, " ")
	out := []string{bin}
	for {
		i := strings.IndexByte(rest, '"')
		if i < 0 {
			return out
		}
		rest = rest[i+1:]
		j := strings.IndexByte(rest, '"')
		if j < 0 {
			return out
		}
		out = append(out, rest[:j])
		rest = rest[j+1:]
	}
}
