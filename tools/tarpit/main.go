// Command tarpit listens on many loopback endpoints and never says a word:
// every connection is accepted, read and discarded until the client closes
// it. It is the hostile stand-in for benchmarks (scripts/bench-tarpit.sh);
// no real server behaves so.
//
//	tarpit -net 127.77 -ports 9200,6379,17017 -n 10000
//
// listens on n endpoints: the ports on 127.77.0.1, then 127.77.0.2, ...
// It prints "ready N" once all listen, and runs until killed.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
)

func main() {
	prefix := flag.String("net", "127.77", "first two octets of the loopback /16 to listen in")
	portList := flag.String("ports", "9200", "comma-separated ports on every address")
	n := flag.Int("n", 1, "number of endpoints")
	first := flag.Int("first", 1, "index of the first address in the /16")
	flag.Parse()
	base, err := netip.ParseAddr(*prefix + ".0.0")
	if err != nil || !base.IsLoopback() {
		fmt.Fprintln(os.Stderr, "tarpit: -net must be a 127.x prefix")
		os.Exit(2)
	}
	var ports []int
	for _, p := range strings.Split(*portList, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || v < 1 || v > 65535 {
			fmt.Fprintf(os.Stderr, "tarpit: bad port %q\n", p)
			os.Exit(2)
		}
		ports = append(ports, v)
	}
	raiseFDLimit()
	addr := base
	for range *first {
		addr = addr.Next()
	}
	count := 0
	for count < *n {
		for _, port := range ports {
			if count == *n {
				break
			}
			l, err := net.Listen("tcp", netip.AddrPortFrom(addr, uint16(port)).String())
			if err != nil {
				fmt.Fprintf(os.Stderr, "tarpit: %v\n", err)
				os.Exit(1)
			}
			go serve(l)
			count++
		}
		addr = addr.Next()
	}
	fmt.Printf("ready %d\n", count)
	select {}
}

func serve(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			_, _ = io.Copy(io.Discard, c) // never write; notice the close
		}()
	}
}

func raiseFDLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = max(lim.Cur, min(lim.Max, 1<<20))
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}
