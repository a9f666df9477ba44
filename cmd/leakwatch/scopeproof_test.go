package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/scope"
)

// dialLog records every dial leakwatch makes (probe.DialTrace).
type dialLog struct {
	mu    sync.Mutex
	dials []netip.AddrPort
}

func (l *dialLog) trace(ap netip.AddrPort) { l.mu.Lock(); l.dials = append(l.dials, ap); l.mu.Unlock() }

func (l *dialLog) all() []netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.dials)
}

// runTraced runs leakwatch in-process with every dial traced.
func runTraced(t *testing.T, log *dialLog, timeout time.Duration, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	ctx, cancel := context.WithTimeout(probe.WithDialTrace(context.Background(), log.trace), timeout)
	defer cancel()
	code := a.run(ctx, args)
	return code, out.String(), errb.String()
}

// steerScope is the scope of a scope-proof run: the steering servers'
// addresses on all their ports (so every prober meets every server), minus
// the decoy ports on their own addresses.
func steerScope(servers []*probetest.Steering) (targets, excludes []string, ports string) {
	var ps []string
	for _, s := range servers {
		targets = append(targets, s.Server.Addr().String())
		excludes = append(excludes, s.SameHost.AddrPort().String())
		ps = append(ps, strconv.Itoa(int(s.Server.Port())))
	}
	return targets, excludes, strings.Join(ps, ",")
}

// checkDials asserts that every traced dial was allowed by the scope
// (address and port) and that no decoy was reached.
func checkDials(t *testing.T, log *dialLog, servers []*probetest.Steering, targets, excludes []string, ports string) {
	t.Helper()
	var ps []int
	for _, p := range strings.Split(ports, ",") {
		n, _ := strconv.Atoi(p)
		ps = append(ps, n)
	}
	sc, err := scope.Build(context.Background(), scope.Options{Targets: targets, Excludes: excludes, Ports: ps})
	if err != nil {
		t.Fatal(err)
	}
	dials := log.all()
	seen := map[netip.AddrPort]int{}
	for _, ap := range dials {
		seen[ap]++
		if !sc.Allows(ap) {
			t.Errorf("dialed %s, which the scope does not allow", ap)
		}
	}
	for _, s := range servers {
		if seen[s.Server] == 0 {
			t.Errorf("%s: never dialed (the proof proves nothing)", s.Name)
		}
		for _, d := range s.Decoys() {
			if d.Accepts() != 0 {
				t.Errorf("%s: decoy %s accepted %d connections", s.Name, d.AddrPort(), d.Accepts())
			}
		}
	}
	t.Logf("%d dials to %d endpoints, all in scope", len(dials), len(seen))
}

// TestScopeProofScan runs a scan over hostile servers that try to steer
// leakwatch out of its scope — FTP EPSV/PASV to an excluded port and to
// another address, NATS connect_urls and cluster members, HTTP redirects,
// Elasticsearch _nodes listing other members — with every prober tried on
// every port, and proves that every connection leakwatch made was allowed
// by the scope (address and port), and no decoy was reached.
func TestScopeProofScan(t *testing.T) {
	servers := probetest.SteeringServers(t)
	targets, excludes, ports := steerScope(servers)
	args := []string{"scan", "--format", "jsonl", "--progress", "never", "--key-file", filepath.Join(t.TempDir(), "key"),
		"--io-timeout", "2s", "--probe-timeout", "20s", "--rate", "0", "--ports", ports}
	for _, e := range excludes {
		args = append(args, "--exclude", e)
	}
	log := &dialLog{}
	code, _, stderr := runTraced(t, log, 3*time.Minute, append(args, targets...)...)
	if code != exitOK && code != exitExposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	checkDials(t, log, servers, targets, excludes, ports)
}

// TestScopeProofServe runs serve (sweeps and re-checks) over the same
// steering servers and proves the same.
func TestScopeProofServe(t *testing.T) {
	servers := probetest.SteeringServers(t)
	targets, excludes, ports := steerScope(servers)
	dir := t.TempDir()
	cfg := fmt.Sprintf(`
api: {disable: true}
store: {sqlite: %q}
key_file: %q
probe: {rate: 0, io_timeout: 2s, timeout: 20s}
monitor: {jitter: 0}
scopes:
  - name: steer
    targets: [%s]
    exclude: [%s]
    ports: [%s]
    cadence: 1s
    recheck: 1s
`, filepath.Join(dir, "lw.db"), filepath.Join(dir, "key"), strings.Join(targets, ", "), strings.Join(excludes, ", "), ports)
	path := filepath.Join(dir, "leakwatch.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &dialLog{}
	code, _, stderr := runTraced(t, log, 8*time.Second, "serve", "--config", path)
	if code != exitOK {
		t.Logf("serve exit %d: %s", code, stderr)
	}
	checkDials(t, log, servers, targets, excludes, ports)
}

// TestNonTargetNothingContacted: 0.0.0.0 (and its mapped form) reaches
// the local host when dialed; as a target it is refused with exit 2, and a
// listener on 127.0.0.1 on that port sees nothing.
func TestNonTargetNothingContacted(t *testing.T) {
	decoy := probetest.NewDecoy(t, netip.MustParseAddr("127.0.0.1"), 0) // 0.0.0.0 would reach it
	port := strconv.Itoa(decoy.Port)
	for _, target := range []string{"0.0.0.0:" + port, "[::ffff:0.0.0.0]:" + port, "[::]:" + port, "0.0.0.0/30", "224.0.0.1:" + port} {
		log := &dialLog{}
		code, _, stderr := runTraced(t, log, time.Minute, "scan", "--progress", "never", "--key-file", filepath.Join(t.TempDir(), "key"), "--ports", port, target)
		if code != exitUsage || !strings.Contains(stderr, "never a target") || len(log.all()) != 0 {
			t.Errorf("scan %s: exit %d, %d dials, stderr %q", target, code, len(log.all()), stderr)
		}
	}
	if n := decoy.Accepts(); n != 0 {
		t.Fatalf("%d connections reached the local host", n)
	}
}
