package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestScanNumericFlagsBounded: every size, count and duration flag refuses
// values past a sane maximum (or that overflow) with exit 2, contacting
// nothing; --sample-bytes used to wrap silently.
func TestScanNumericFlagsBounded(t *testing.T) {
	decoy := probetest.NewDecoy(t, netip.Addr{}, 0) // counts connections: none may come
	live := decoy.AddrPort().String()
	for _, args := range [][]string{
		{"--sample-bytes", "9999999999GiB"},
		{"--sample-bytes", "9223372036854775807KiB"},
		{"--sample-bytes", "65MiB"},
		{"--memory-ceiling", "1KiB"},
		{"--memory-ceiling", "100000GiB"},
		{"--probe-timeout", "100000h"},
		{"--io-timeout", "0s"},
		{"--connect-timeout", "-1s"},
		{"--max-duration", "-5s"},
		{"--max-duration", "10000h"},
		{"--sample-records", "-1"},
		{"--sample-records", "2000000000"},
		{"--max-datasets", "99999999"},
		{"--probe-workers", "0"},
		{"--concurrency", "2000000"},
		{"--rate", "NaN"},
		{"--rate", "1e300"},
	} {
		code, _, stderr := runCLI(t, "", append(append([]string{"scan"}, args...), live)...)
		if code != exitUsage || !strings.Contains(stderr, args[0]) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming the flag", args, code, stderr)
		}
	}
	if n := decoy.Accepts(); n != 0 {
		t.Fatalf("%d connections made on bad input", n)
	}
}

// limitFleet is an open memcached (real) and a silent tarpit (hostile
// stand-in) on another address.
func limitFleet(t *testing.T) (store, tarpit string) {
	t.Helper()
	m := testenv.StartMemcached(t, testenv.MemcachedOptions{Port: 11211})
	m.Seed(t)
	tp := probetest.Tarpit(t)
	return netip.AddrPortFrom(m.Addr, uint16(m.Port)).String(), tp.HostPort()
}

// runCut runs a scan in-process and cancels it after d (as SIGINT does via
// signal.NotifyContext in main).
func runCut(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if d > 0 {
		time.AfterFunc(d, cancel)
	}
	code := a.run(ctx, args)
	return code, out.String(), errb.String()
}

func scanArgs(t *testing.T, extra ...string) []string {
	return append([]string{"scan", "--format", "jsonl", "--progress", "never",
		"--key-file", filepath.Join(t.TempDir(), "key")}, extra...)
}

// findingsByTarget decodes (and validates) JSONL findings by host:port.
func findingsByTarget(t *testing.T, jsonl string) map[string]finding.Finding {
	t.Helper()
	out := map[string]finding.Finding{}
	for _, f := range decodeFindingList(t, jsonl) {
		out[net.JoinHostPort(f.Target.Host, strconv.Itoa(f.Target.Port))] = f
	}
	return out
}

// TestScanInterruptedNeverExitsClean: an interrupted scan prints what it
// found, lists the endpoints it did not finish as unknown, says it was
// interrupted and exits 130 — never 0 ("nothing exposed") nor 1.
func TestScanInterruptedNeverExitsClean(t *testing.T) {
	store, tarpit := limitFleet(t)
	t.Run("tarpit only", func(t *testing.T) {
		code, stdout, stderr := runCut(t, 1500*time.Millisecond, scanArgs(t, tarpit)...)
		if code != exitInterrupted || !strings.Contains(stderr, "interrupted") {
			t.Fatalf("exit %d, stderr %q; want 130 and 'interrupted'", code, stderr)
		}
		f, ok := findingsByTarget(t, stdout)[tarpit]
		if !ok || f.Status != finding.StatusUnknown || !slices.Contains(f.Flags, probe.FlagScanStopped) {
			t.Fatalf("tarpit finding %+v (stdout %q)", f, stdout)
		}
	})
	t.Run("with an exposed store", func(t *testing.T) {
		code, stdout, stderr := runCut(t, 1500*time.Millisecond, scanArgs(t, store, tarpit)...)
		if code != exitInterrupted {
			t.Fatalf("exit %d, stderr %q; want 130", code, stderr)
		}
		fs := findingsByTarget(t, stdout)
		if f := fs[store]; f.Status != finding.StatusExposed || f.Service != "memcached" {
			t.Errorf("store finding %+v", f)
		}
		if f := fs[tarpit]; f.Status != finding.StatusUnknown {
			t.Errorf("tarpit finding %+v", f)
		}
	})
}

// TestScanMaxDuration: --max-duration stops the scan, reports what was
// found and what was not finished (unknown), and exits 1 when something
// exposed was found, 4 otherwise — never 0.
func TestScanMaxDuration(t *testing.T) {
	store, tarpit := limitFleet(t)
	start := time.Now()
	code, stdout, stderr := runCLI(t, "", scanArgs(t, "--trace", "--max-duration", "1500ms", tarpit)...)
	if code != exitIncomplete || !strings.Contains(stderr, "--max-duration") {
		t.Fatalf("tarpit only: exit %d, stderr %q; want 4", code, stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("scan with --max-duration 1.5s took %s", took)
	}
	if f := findingsByTarget(t, stdout)[tarpit]; f.Status != finding.StatusUnknown || !slices.Contains(f.Flags, probe.FlagPartial) || f.Error == "" {
		t.Errorf("tarpit finding %+v", f)
	}
	code, stdout, _ = runCLI(t, "", scanArgs(t, "--max-duration", "1500ms", store, tarpit)...)
	if code != exitExposed {
		t.Fatalf("with an exposed store: exit %d, want 1", code)
	}
	if f := findingsByTarget(t, stdout)[store]; f.Status != finding.StatusExposed {
		t.Errorf("store finding %+v", f)
	}
}

// TestScanProbeTimeoutKeepsProvenResult: with a probe timeout too short
// for the whole probe, an open store on a port no prober claims is still
// reported (it used to vanish: no finding, no error, exit 0), and a port
// that could not be decided in time is unknown.
func TestScanProbeTimeoutKeepsProvenResult(t *testing.T) {
	m := testenv.StartMemcached(t, testenv.MemcachedOptions{})
	m.Seed(t)
	target := netip.AddrPortFrom(m.Addr, uint16(m.Port)).String()
	code, stdout, stderr := runCLI(t, "", scanArgs(t, "--probe-timeout", "3s", target)...)
	f := findingsByTarget(t, stdout)[target]
	if code != exitExposed || f.Status != finding.StatusExposed || f.Service != "memcached" {
		t.Fatalf("exit %d finding %+v stderr %q", code, f, stderr)
	}
}
