package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func listen(t *testing.T, serve func(net.Conn)) Target {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: l.Addr().(*net.TCPAddr).Port}
}

func TestShorterDeadlineIsHonoured(t *testing.T) {
	tgt := listen(t, func(c net.Conn) { time.Sleep(3 * time.Second); c.Close() })
	b := DefaultBudget()
	b.IOTimeout = 5 * time.Second
	env := NewEnv(tgt, b, nil)
	c, err := env.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(make([]byte, 1))
	if !IsTimeout(err) || time.Since(start) > time.Second {
		t.Fatalf("read returned %v after %s; want a timeout after ~200ms", err, time.Since(start))
	}
}

func TestIOTimeoutAndByteBudget(t *testing.T) {
	tgt := listen(t, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	})
	b := DefaultBudget()
	b.MaxBytes = 100 << 10
	env := NewEnv(tgt, b, nil)
	c, err := env.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 32<<10)
	var total int
	for {
		n, err := c.Read(buf)
		total += n
		if err != nil {
			if err != ErrBudget {
				t.Fatalf("err %v, want ErrBudget", err)
			}
			break
		}
	}
	if int64(total) != b.MaxBytes || env.BytesRead() != b.MaxBytes {
		t.Fatalf("read %d (env %d), want exactly %d", total, env.BytesRead(), b.MaxBytes)
	}

	silent := listen(t, func(c net.Conn) { time.Sleep(5 * time.Second); c.Close() })
	b.IOTimeout = 300 * time.Millisecond
	env = NewEnv(silent, b, nil)
	c2, err := env.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start := time.Now()
	if _, err := c2.Read(buf); !IsTimeout(err) || time.Since(start) > 2*time.Second {
		t.Fatalf("silent peer: %v after %s", err, time.Since(start))
	}
}

func TestDialOutOfScope(t *testing.T) {
	env := NewEnv(Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}, DefaultBudget(), func(netip.AddrPort) bool { return false })
	if _, err := env.Dial(context.Background()); err == nil {
		t.Fatal("dial out of scope succeeded")
	}
}

func TestFirstByteTimeout(t *testing.T) {
	tgt := listen(t, func(c net.Conn) { time.Sleep(3 * time.Second); c.Close() })
	b := DefaultBudget()
	b.IOTimeout = 5 * time.Second
	env := NewEnv(tgt, b, nil)
	env.FirstByteTimeout = 200 * time.Millisecond
	c, err := env.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); !IsTimeout(err) || time.Since(start) > time.Second {
		t.Fatalf("first read: %v after %s; want a timeout after ~200ms", err, time.Since(start))
	}
	// A later connection of the same env waits the IO timeout.
	env.Budget.IOTimeout = 700 * time.Millisecond
	c2, err := env.Dial(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	start = time.Now()
	if _, err := c2.Read(make([]byte, 1)); !IsTimeout(err) || time.Since(start) < 500*time.Millisecond {
		t.Fatalf("second connection: %v after %s; want the IO timeout (~700ms)", err, time.Since(start))
	}
}

// A port the server names (FTP passive data, a monitor port) passes the
// same scope decision as the target: an excluded endpoint is refused even
// on an in-scope address, and no connection is made.
func TestDialPortExcludedEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var accepts atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	excluded := netip.MustParseAddrPort(ln.Addr().String())
	inScope := func(ap netip.AddrPort) bool { return ap.Addr().IsLoopback() && ap != excluded }
	env := NewEnv(Target{Addr: excluded.Addr(), Port: 1}, DefaultBudget(), inScope)
	if _, err := env.DialPort(context.Background(), int(excluded.Port())); !errors.Is(err, ErrOutOfScope) {
		t.Fatalf("dial of an excluded port: %v, want ErrOutOfScope", err)
	}
	time.Sleep(50 * time.Millisecond)
	if n := accepts.Load(); n != 0 {
		t.Fatalf("excluded endpoint accepted %d connections", n)
	}
}
