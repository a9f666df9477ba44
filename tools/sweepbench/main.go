// Command sweepbench measures the TCP sweep alone on loopback: it sweeps
// the given 127.x targets × ports and prints checks, open ports, wall time
// and checks per second. scripts/bench-sweep.sh runs it under /usr/bin/time
// for the peak RSS. It refuses any address outside 127.0.0.0/8.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// defaultPorts are 25 well-known data-store ports.
const defaultPorts = "9200,9201,9300,5601,27017,6379,11211,5432,3306,8123,2379,5984,9042," +
	"1883,4222,15672,5000,21,873,8888,9090,8086,2181,7474,8529"

func main() {
	targets := flag.String("targets", "127.1.0.0/20", "comma-separated loopback targets")
	ports := flag.String("ports", defaultPorts, "comma-separated ports")
	conc := flag.Int("concurrency", limits.DefaultProbe.Concurrency, "connections in flight")
	rate := flag.Float64("rate", 0, "connections per second (0: unlimited)")
	timeout := flag.Duration("timeout", limits.DefaultProbe.ConnectTimeout, "connect timeout")
	flag.Parse()
	if err := run(*targets, *ports, *conc, *rate, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "sweepbench:", err)
		os.Exit(2)
	}
}

func run(targets, portList string, conc int, rate float64, timeout time.Duration) error {
	ps, err := limits.ParsePorts(portList)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	sc, err := scope.Build(ctx, scope.Options{Targets: []string{targets}, Ports: ps, MaxHosts: 1 << 24})
	if err != nil {
		return err
	}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	inScope := func(ap netip.AddrPort) bool { return loopback.Contains(ap.Addr()) && sc.Allows(ap) }
	for ep := range sc.All() {
		if !loopback.Contains(ep.Addr) {
			return fmt.Errorf("%s is not loopback; this benchmark only sweeps 127.0.0.0/8", ep.Addr)
		}
		break
	}
	sw, err := sweep.New(sweep.Options{Concurrency: conc, Rate: rate, Timeout: timeout, InScope: inScope}, nil)
	if err != nil {
		return err
	}
	var open atomic.Int64
	start := time.Now()
	err = sw.Run(ctx, sc.All(), func(scope.Endpoint) { open.Add(1) })
	wall := time.Since(start)
	st := sw.Stats().Snapshot()
	fmt.Printf("scope: %s (%d endpoints), concurrency %d\n", sc, sc.Endpoints(), sw.Concurrency())
	fmt.Printf("checks: %d  open: %d  refused: %d  timeout: %d  unreachable: %d  failed: %d  skipped: %d\n",
		st.Attempted, st.Open, st.Refused, st.Timeout, st.Unreachable, st.Failed, st.Skipped)
	fmt.Printf("wall: %.3fs  rate: %.0f checks/s\n", wall.Seconds(), float64(st.Attempted)/wall.Seconds())
	return err
}
