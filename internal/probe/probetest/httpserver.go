package probetest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// HTTPServer is a hand-written HTTP server on a fresh loopback address, for
// hostile behaviour no real store produces (oversized listings, huge
// documents). It counts the connections it accepted.
type HTTPServer struct {
	Server
	accepts atomic.Int64
}

// Accepts is how many connections the server accepted.
func (s *HTTPServer) Accepts() int64 { return s.accepts.Load() }

// ServeHTTP serves h on a fresh loopback address until the test ends.
func ServeHTTP(tb testing.TB, h http.Handler) *HTTPServer {
	tb.Helper()
	addr := testenv.Addr(tb)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		tb.Fatalf("probetest: listen: %v", err)
	}
	s := &HTTPServer{Server: Server{Addr: addr, Port: l.Addr().(*net.TCPAddr).Port, l: l, quit: make(chan struct{})}}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	srv.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.accepts.Add(1)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			tb.Logf("probetest: serve: %v", err)
		}
	}()
	tb.Cleanup(func() {
		close(s.quit)
		_ = srv.Close()
		<-done
	})
	return s
}

// RunBudget probes addr:port with p under budget b (see Run).
func RunBudget(tb testing.TB, p probe.Prober, addr netip.Addr, port int, b probe.Budget) (*probe.Result, error) {
	tb.Helper()
	env := probe.NewEnv(probe.Target{Addr: addr, Port: port}, b, nil)
	ctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	return p.Probe(ctx, env)
}
