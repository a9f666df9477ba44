package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestBenchCluster measures a clustered sweep (scripts/bench-cluster.sh
// runs it; skipped unless LEAKWATCH_BENCH_CLUSTER=1): a loopback /16 with
// a few real Redis listeners, swept by 1, 2 and 4 workers of one site,
// each limited to the same connection rate. It prints checks per second,
// the scaling over one worker, and the coordinator's and PostgreSQL's CPU
// time per 10,000 checks. It asserts nothing about speed.
func TestBenchCluster(t *testing.T) {
	if os.Getenv("LEAKWATCH_BENCH_CLUSTER") != "1" {
		t.Skip("set LEAKWATCH_BENCH_CLUSTER=1 (scripts/bench-cluster.sh)")
	}
	prefix := netip.MustParsePrefix(envOr("BENCH_TARGET", "127.77.0.0/16"))
	if !prefix.Addr().IsLoopback() {
		t.Fatalf("BENCH_TARGET %s is not loopback", prefix)
	}
	rate, _ := strconv.Atoi(envOr("BENCH_RATE", "1500"))
	var counts []int
	for _, f := range strings.Split(envOr("BENCH_WORKERS", "1,2,4"), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("BENCH_WORKERS %q", f)
		}
		counts = append(counts, n)
	}
	// A few real listeners in the range.
	base := prefix.Addr().As4()
	for i := range 4 {
		a := netip.AddrFrom4([4]byte{base[0], base[1], byte(10 + 50*i), 7})
		if testenv.PortFree(a, 6379) {
			testenv.StartRedis(t, testenv.RedisOptions{Addr: a, Port: 6379}).Seed(t)
		}
	}
	var first float64
	for _, n := range counts {
		t.Run(fmt.Sprintf("workers=%d", n), func(t *testing.T) {
			l := newClusterLab(t, labOptions{
				Targets: []string{prefix.String()}, Ports: []int{6379}, Sites: []string{"bench"},
				Chunk: 1024, Rate: rate,
			})
			coord := l.coordinator("coord")
			for i := range n {
				l.worker(fmt.Sprintf("w%d", i+1), "bench", "--parallel", "2")
			}
			st := openStore(t, l.url)
			waitFor(t, "coordinator active", 60*time.Second, func() bool { return strings.Contains(coord.logText(), "coordinator active") })
			pgPID := postmasterPID(t, l.pg)
			c0, p0 := procCPU(coord.cmd.Process.Pid, false), procCPU(pgPID, true)
			run := waitSweep(t, st, 30*time.Minute)
			c1, p1 := procCPU(coord.cmd.Process.Pid, false), procCPU(pgPID, true)
			checks := float64(uint64(1) << (32 - prefix.Bits()))
			took := run.FinishedAt.Sub(run.StartedAt).Seconds()
			perSec := checks / took
			if first == 0 {
				first = perSec
			}
			per10k := func(d time.Duration) string {
				return (time.Duration(float64(d) * 10000 / checks)).Round(time.Microsecond).String()
			}
			fmt.Printf("BENCH workers=%d rate=%d/s/worker checks=%.0f took=%.1fs checks/s=%.0f scaling=%.2fx coordinator_cpu/10k=%s postgres_cpu/10k=%s findings=%d\n",
				n, rate, checks, took, perSec, perSec/first, per10k(c1-c0), per10k(p1-p0), countFindings(t, st))
		})
	}
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}

func countFindings(t *testing.T, st store.Store) int {
	list, err := st.ListFindings(context.Background(), store.FindingFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

// postmasterPID reads the server's pid from its data dir.
func postmasterPID(t *testing.T, pg *testenv.Postgres) int {
	b, err := os.ReadFile(pg.Dir + "/data/postmaster.pid")
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// procCPU is a process's user+system CPU time; with children, also its
// live children's and its reaped children's (a PostgreSQL server's
// backends).
func procCPU(pid int, children bool) time.Duration {
	const hz = 100 // USER_HZ on Linux
	stat := func(p int) (ppid int, self, reaped int64) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			return 0, 0, 0
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		// f[1]=ppid, f[11]=utime, f[12]=stime, f[13]=cutime, f[14]=cstime
		ppid, _ = strconv.Atoi(f[1])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		cu, _ := strconv.ParseInt(f[13], 10, 64)
		cs, _ := strconv.ParseInt(f[14], 10, 64)
		return ppid, u + st, cu + cs
	}
	_, self, reaped := stat(pid)
	total := self
	if children {
		total += reaped
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			p, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			if pp, s, _ := stat(p); pp == pid {
				total += s
			}
		}
	}
	return time.Duration(total) * time.Second / hz
}
