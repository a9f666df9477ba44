// Package probetest helps prober tests: an Env for a loopback target with a
// short budget, and hostile servers (tarpit, endless stream, garbage) that no
// real data store imitates, to prove a prober ends within its deadline.
package probetest

import (
	"context"
	"crypto/rand"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Budget is a test budget: short timeouts, small byte caps.
func Budget() probe.Budget {
	b := probe.DefaultBudget()
	b.Timeout = 20 * time.Second
	b.IOTimeout = 2 * time.Second
	b.MaxBytes = 16 << 20
	return b
}

// Env makes an Env for addr:port with the test budget.
func Env(addr netip.Addr, port int) *probe.Env {
	return probe.NewEnv(probe.Target{Addr: addr, Port: port}, Budget(), nil)
}

// Run probes addr:port with p under the budget's overall timeout.
func Run(tb testing.TB, p probe.Prober, addr netip.Addr, port int) (*probe.Result, error) {
	tb.Helper()
	env := Env(addr, port)
	ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
	defer cancel()
	return p.Probe(ctx, env)
}

// Server is a hostile test server on a loopback address.
type Server struct {
	Addr netip.Addr
	Port int
	l    net.Listener
	wg   sync.WaitGroup
	quit chan struct{}
}

func serve(tb testing.TB, handle func(net.Conn, chan struct{})) *Server {
	tb.Helper()
	addr := testenv.Addr(tb)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		tb.Fatalf("probetest: listen: %v", err)
	}
	s := &Server{Addr: addr, Port: l.Addr().(*net.TCPAddr).Port, l: l, quit: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				handle(c, s.quit)
			}()
		}
	}()
	tb.Cleanup(func() { close(s.quit); l.Close(); s.wg.Wait() })
	return s
}

// Tarpit accepts connections and never sends a byte.
func Tarpit(tb testing.TB) *Server {
	return serve(tb, func(c net.Conn, quit chan struct{}) {
		go drain(c)
		<-quit
	})
}

// Endless sends prefix, then an endless stream of filler bytes.
func Endless(tb testing.TB, prefix string, filler byte) *Server {
	return serve(tb, func(c net.Conn, quit chan struct{}) {
		go drain(c)
		if _, err := c.Write([]byte(prefix)); err != nil {
			return
		}
		buf := make([]byte, 32<<10)
		for i := range buf {
			buf[i] = filler
		}
		for {
			select {
			case <-quit:
				return
			default:
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
}

// Banner sends a fixed banner (e.g. an SSH greeting) and then waits.
func Banner(tb testing.TB, banner string) *Server {
	return serve(tb, func(c net.Conn, quit chan struct{}) {
		go drain(c)
		_, _ = c.Write([]byte(banner))
		<-quit
	})
}

// Garbage sends n random bytes after reading the first request bytes, then closes.
func Garbage(tb testing.TB, n int) *Server {
	return serve(tb, func(c net.Conn, _ chan struct{}) {
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		junk := make([]byte, n)
		_, _ = rand.Read(junk)
		_, _ = c.Write(junk)
	})
}

// HostPort is the server's address.
func (s *Server) HostPort() string { return net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.Port)) }

func drain(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// Hostile runs p against a tarpit, an endless stream, a garbage server and
// an SSH banner, and fails if any probe outlives max or reports a service.
func Hostile(t *testing.T, p probe.Prober, max time.Duration) {
	t.Helper()
	servers := map[string]*Server{
		"tarpit":  Tarpit(t),
		"endless": Endless(t, "", 'A'),
		"garbage": Garbage(t, 1<<16),
		"banner":  Banner(t, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
	}
	for name, s := range servers {
		t.Run(name, func(t *testing.T) {
			env := Env(s.Addr, s.Port)
			env.Budget.Timeout = max / 2
			ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
			defer cancel()
			start := time.Now()
			res, err := p.Probe(ctx, env)
			if d := time.Since(start); d > max {
				t.Fatalf("%s: probe took %s, want <= %s", name, d, max)
			}
			if err == nil && res != nil && (res.Status == "exposed") {
				t.Fatalf("%s: hostile server reported as exposed %s", name, p.Name())
			}
		})
	}
}
