package hostile

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// listener accepts on addr:port and runs handle per connection until the
// test ends. It counts accepts (decoys must stay at zero).
type listener struct {
	ap      netip.AddrPort
	l       net.Listener
	accepts atomic.Int64
	quit    chan struct{}
	wg      sync.WaitGroup
}

func listen(tb testing.TB, addr netip.Addr, port int, handle func(net.Conn, <-chan struct{})) *listener {
	tb.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		tb.Fatalf("hostile: listen %s:%d: %v", addr, port, err)
	}
	s := &listener{ap: l.Addr().(*net.TCPAddr).AddrPort(), l: l, quit: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				stop := closeOnQuit(c, s.quit)
				defer stop()
				handle(c, s.quit)
			}()
		}
	}()
	tb.Cleanup(s.close)
	return s
}

// closeOnQuit closes c when the listener shuts down, so no handler outlives
// its test.
func closeOnQuit(c net.Conn, quit <-chan struct{}) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-quit:
			c.Close()
		case <-done:
		}
	}()
	return func() { close(done) }
}

func (s *listener) close() {
	select {
	case <-s.quit:
		return
	default:
	}
	close(s.quit)
	s.l.Close()
	s.wg.Wait()
}

// decoys are listeners the scanner must never reach: another port of the
// target's address and the target's port on another address.
type decoys struct {
	samePort  *listener // other address, the target's port
	otherPort *listener // target address, another port
}

func (d *decoys) accepts() int64 { return d.samePort.accepts.Load() + d.otherPort.accepts.Load() }

func drain(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// readSome reads whatever the client sends first (a request), briefly.
func readSome(c net.Conn) []byte {
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 8192)
	n, _ := c.Read(buf)
	_ = c.SetReadDeadline(time.Time{})
	return buf[:n]
}

func wait(quit <-chan struct{}) { <-quit }

// writeLoop writes chunk until the peer goes or the test ends.
func writeLoop(c net.Conn, quit <-chan struct{}, chunk []byte) {
	for {
		select {
		case <-quit:
			return
		default:
		}
		_ = c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(chunk); err != nil {
			return
		}
	}
}

// ---- raw behaviours: apply to every prober -------------------------------

func tarpit(c net.Conn, quit <-chan struct{}) { go drain(c); wait(quit) }

func closeAtOnce(net.Conn, <-chan struct{}) {}

func reset(c net.Conn, _ <-chan struct{}) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
}

func resetAfterRequest(c net.Conn, q <-chan struct{}) { readSome(c); reset(c, q) }

func endless(b byte) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		go drain(c)
		writeLoop(c, quit, bytes.Repeat([]byte{b}, 32<<10))
	}
}

func endlessRandom(c net.Conn, quit <-chan struct{}) {
	go drain(c)
	buf := make([]byte, 32<<10)
	_, _ = rand.Read(buf)
	writeLoop(c, quit, buf)
}

// drip sends one byte of prefix, repeated, per second.
func drip(prefix string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		go drain(c)
		for i := 0; ; i++ {
			if _, err := c.Write([]byte{prefix[i%len(prefix)]}); err != nil {
				return
			}
			select {
			case <-quit:
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func garbageAfterRequest(c net.Conn, _ <-chan struct{}) {
	readSome(c)
	junk := make([]byte, 64<<10)
	_, _ = rand.Read(junk)
	_, _ = c.Write(junk)
}

// lengths answers every request with frames whose length fields (big and
// little endian, 2/4/8 bytes, varints) claim absurd or negative sizes.
func lengths(pattern []byte) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		for {
			if len(readSome(c)) == 0 {
				select {
				case <-quit:
					return
				default:
				}
			}
			if _, err := c.Write(bytes.Repeat(pattern, 256)); err != nil {
				return
			}
		}
	}
}

// tlsStall accepts TCP, reads the ClientHello and never answers.
func tlsStall(c net.Conn, quit <-chan struct{}) { go drain(c); wait(quit) }

// tlsHugeRecord answers a ClientHello with a handshake record header that
// declares the largest length and then stalls.
func tlsHugeRecord(c net.Conn, quit <-chan struct{}) {
	readSome(c)
	_, _ = c.Write([]byte{0x16, 0x03, 0x03, 0xff, 0xff, 0x02, 0xff, 0xff, 0xff})
	go drain(c)
	wait(quit)
}

func bannerThenTarpit(banner string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		_, _ = c.Write([]byte(banner))
		go drain(c)
		wait(quit)
	}
}

// deepBytes answers with nesting openers of many formats at once.
func deepBytes(c net.Conn, quit <-chan struct{}) {
	readSome(c)
	var b bytes.Buffer
	for range 20000 {
		b.WriteString(`[{"a":`)
	}
	b.WriteString("*1\r\n")
	_, _ = c.Write(b.Bytes())
	go drain(c)
	wait(quit)
}

// ---- HTTP behaviours: apply to HTTP-based probers --------------------------

func httpHandler(h http.Handler) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		l := &oneConn{c: c, done: make(chan struct{})}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 2 * time.Second}
		go func() { <-quit; srv.Close() }()
		_ = srv.Serve(l)
		<-l.done
	}
}

// oneConn is a net.Listener that yields one connection.
type oneConn struct {
	c    net.Conn
	once sync.Once
	done chan struct{}
}

func (l *oneConn) Accept() (net.Conn, error) {
	var c net.Conn
	l.once.Do(func() { c = &notifyConn{Conn: l.c, done: l.done} })
	if c == nil {
		<-l.done
		return nil, io.EOF
	}
	return c, nil
}
func (l *oneConn) Close() error   { return nil }
func (l *oneConn) Addr() net.Addr { return l.c.LocalAddr() }

type notifyConn struct {
	net.Conn
	done chan struct{}
	once sync.Once
}

func (c *notifyConn) Close() error {
	c.once.Do(func() { close(c.done) })
	return c.Conn.Close()
}

func rawHTTP(resp string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		readSome(c)
		_, _ = c.Write([]byte(resp))
		go drain(c)
		wait(quit)
	}
}

func httpEndlessBody(c net.Conn, quit <-chan struct{}) {
	readSome(c)
	_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"))
	chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 32<<10, strings.Repeat(`{"a":1},`, 4<<10)))
	writeLoop(c, quit, chunk)
}

func httpHeaderFlood(c net.Conn, quit <-chan struct{}) {
	readSome(c)
	_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n"))
	writeLoop(c, quit, []byte("X-Flood: "+strings.Repeat("a", 1000)+"\r\n"))
}

func httpDripHeaders(c net.Conn, quit <-chan struct{}) {
	readSome(c)
	drip("HTTP/1.1 200 OK\r\nX-A: b\r\n")(c, quit)
}

// gzipBomb is 1 GiB of zeros gzipped twice (a nested bomb), built once.
var gzipBomb = sync.OnceValue(func() []byte {
	inner := gz(bytes.Repeat([]byte{0}, 64<<20)) // 64 MiB → ~64 KiB
	var outer []byte
	outer = gz(bytes.Repeat(inner, 16)) // 1 GiB through two layers
	return outer
})

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func bombHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, ".gz") || strings.HasSuffix(r.URL.Path, ".sql") {
			w.Header().Del("Content-Encoding")
			w.Header().Set("Content-Type", "application/gzip")
		}
		_, _ = w.Write(gzipBomb())
	})
}

// jsonEverywhere answers every path with body and the given headers.
func jsonEverywhere(status int, body string, headers ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	})
}

func deepJSON(n int) string {
	return strings.Repeat(`{"a":[`, n) + "1" + strings.Repeat(`]}`, n)
}

func redirectTo(target string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusFound)
	})
}

// tlsServer completes TLS with a throwaway certificate and then runs h.
func tlsServer(h func(net.Conn, <-chan struct{})) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{testCert()}})
		_ = tc.SetDeadline(time.Now().Add(2 * time.Second))
		if err := tc.Handshake(); err != nil {
			return
		}
		_ = tc.SetDeadline(time.Time{})
		h(tc, quit)
	}
}
