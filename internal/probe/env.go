package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Target is one host:port to probe. Host is always an IP address literal;
// Hostname is the name it was resolved from, if any (used for SNI and the
// HTTP Host header).
type Target struct {
	Addr     netip.Addr
	Port     int
	Hostname string
}

// AddrPort is the target as a netip.AddrPort.
func (t Target) AddrPort() netip.AddrPort {
	return netip.AddrPortFrom(t.Addr, uint16(t.Port))
}

// HostPort is "ip:port" for dialing.
func (t Target) HostPort() string {
	return net.JoinHostPort(t.Addr.String(), strconv.Itoa(t.Port))
}

// ScopeFunc is the scope decision for one connection: whether this
// address and port may be contacted. It is asked before every dial.
type ScopeFunc func(netip.AddrPort) bool

// Env is everything one probe of one target may use. It is made by the
// engine per host:port; all connections share its byte budget.
type Env struct {
	Target Target
	Budget Budget
	// DefaultCredentials allows probers to try a service's well-known
	// factory credentials (e.g. guest/guest) when it demands a login.
	DefaultCredentials bool
	// FirstByteTimeout, if set, bounds the wait for the first byte on the
	// env's first connection instead of the IO timeout. The engine sets it
	// for probers tried on a port they do not claim: a server of their
	// protocol answers the first request at once, while another protocol's
	// server may wait forever for bytes that will not come. Later
	// connections (data reads after identification) get the IO timeout.
	FirstByteTimeout time.Duration

	inScope ScopeFunc
	acct    *Account
	dials   atomic.Int64
	// requests counts the HTTP requests sent through the env's clients.
	requests atomic.Int64
	dialer   net.Dialer

	provisional  atomic.Pointer[Result]
	onIdentified func()

	localMu sync.Mutex
	locals  []netip.AddrPort // local ends of the env's connections
}

// NewEnv makes an Env for t. inScope is checked before every dial; nil
// allows any port of t's own address (prober tests; the engine always
// passes the scan's scope decision).
func NewEnv(t Target, b Budget, inScope ScopeFunc) *Env {
	if inScope == nil {
		addr := t.Addr
		inScope = func(ap netip.AddrPort) bool { return ap.Addr() == addr }
	}
	return &Env{Target: t, Budget: b, inScope: inScope, acct: NewAccount(b.MaxBytes, nil), dialer: net.Dialer{Timeout: b.IOTimeout}}
}

// Share makes the env draw from acct, the account of its target that every
// prober tried on the host:port shares (the engine calls it; by default an
// env has an account of its own).
func (e *Env) Share(acct *Account) { e.acct = acct }

// Account is the target's account the env draws from.
func (e *Env) Account() *Account { return e.acct }

// OnIdentified sets a function Provisional calls (once per env).
func (e *Env) OnIdentified(f func()) { e.onIdentified = f }

// BytesRead is how much the target has sent so far (all envs sharing its
// account together).
func (e *Env) BytesRead() int64 { return e.acct.BytesRead() }

// Provisional records what the prober has proven so far: a prober calls
// it as soon as it has identified its service (and decided exposed or
// protected), before it lists and samples, with the result it goes on
// filling. If the probe then fails — a deadline, a byte budget, a crash —
// the engine reports this result, flagged partial, instead of nothing.
// res must not be changed by other goroutines once the prober returned.
func (e *Env) Provisional(res *Result) {
	if res == nil {
		return
	}
	if e.provisional.Swap(res) == nil && e.onIdentified != nil {
		e.onIdentified()
	}
}

// ProvisionalResult is what the prober recorded with Provisional, or nil.
func (e *Env) ProvisionalResult() *Result { return e.provisional.Load() }

// Dial opens a TCP connection to the target. The connection enforces the
// IO timeout on each read and write (never past ctx's deadline) and the
// target's byte budget.
func (e *Env) Dial(ctx context.Context) (net.Conn, error) {
	return e.DialPort(ctx, e.Target.Port)
}

// DialPort dials another port of the same host (e.g. a monitoring port).
func (e *Env) DialPort(ctx context.Context, port int) (net.Conn, error) {
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("dial: bad port %d", port)
	}
	if ap := netip.AddrPortFrom(e.Target.Addr, uint16(port)); !e.inScope(ap) {
		return nil, fmt.Errorf("dial %s: %w", ap, ErrOutOfScope)
	}
	addr := net.JoinHostPort(e.Target.Addr.String(), strconv.Itoa(port))
	TraceDial(ctx, netip.AddrPortFrom(e.Target.Addr, uint16(port)))
	c, err := e.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if la, ok := c.LocalAddr().(*net.TCPAddr); ok {
		e.localMu.Lock()
		e.locals = append(e.locals, la.AddrPort())
		e.localMu.Unlock()
	}
	bc := &boundedConn{Conn: c, env: e, ctx: ctx, ioTimeout: e.Budget.IOTimeout}
	if e.dials.Add(1) == 1 {
		bc.firstByte = e.FirstByteTimeout
	}
	if dl, ok := ctx.Deadline(); ok {
		bc.deadline = dl
	}
	// Cancelling ctx (e.g. Ctrl-C) unblocks pending reads at once.
	bc.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	return bc, nil
}

// HTTPRequests is how many HTTP requests the env's HTTP clients sent so
// far. Behind a reverse proxy each may have opened a connection of its own
// to the store, so access evidence counts the larger of this and the env's
// own connections as leakwatch's.
func (e *Env) HTTPRequests() int64 { return e.requests.Load() }

// LocalAddrs are the local address and port of every connection the env
// opened so far, in order: a prober reading the store's client list tells
// leakwatch's own connections from other clients' by them.
func (e *Env) LocalAddrs() []netip.AddrPort {
	e.localMu.Lock()
	defer e.localMu.Unlock()
	out := make([]netip.AddrPort, len(e.locals))
	for i, ap := range e.locals {
		out[i] = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return out
}

// DialTLS dials and completes a TLS handshake. Certificates are not
// verified: leakwatch inspects the organisation's own assets, which often
// carry self-signed certificates; the goal is to see what is served.
func (e *Env) DialTLS(ctx context.Context) (net.Conn, error) {
	c, err := e.Dial(ctx)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(c, e.TLSConfig())
	hctx, cancel := context.WithTimeout(ctx, e.Budget.IOTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// TLSConfig is the client TLS configuration probers use.
func (e *Env) TLSConfig() *tls.Config {
	return &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // inventorying own assets, see DialTLS
		ServerName:         e.Target.Hostname,
		MinVersion:         tls.VersionTLS10,
	}
}

// boundedConn enforces per-operation deadlines and the target's byte budget.
type boundedConn struct {
	net.Conn
	env       *Env
	ctx       context.Context // the dial's context: bounds waits for memory
	ioTimeout time.Duration
	firstByte time.Duration // until the first byte arrives (0: ioTimeout)
	gotByte   atomic.Bool
	deadline  time.Time
	stop      func() bool
	// userRead and userWrite are deadlines a prober set (zero: none); each
	// operation uses the earliest of them, the IO timeout and the probe's
	// deadline.
	userRead, userWrite atomic.Int64
}

func (c *boundedConn) Close() error {
	if c.stop != nil {
		c.stop()
	}
	return c.Conn.Close()
}

func (c *boundedConn) opDeadline(user *atomic.Int64) time.Time {
	timeout := c.ioTimeout
	if user == &c.userRead && c.firstByte > 0 && !c.gotByte.Load() {
		timeout = min(timeout, c.firstByte)
	}
	d := time.Now().Add(timeout)
	if !c.deadline.IsZero() && c.deadline.Before(d) {
		d = c.deadline
	}
	if u := user.Load(); u != 0 && time.Unix(0, u).Before(d) {
		d = time.Unix(0, u)
	}
	return d
}

func (c *boundedConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	acct := c.env.acct
	dl := c.opDeadline(&c.userRead)
	granted, err := acct.reserve(c.ctx, int64(len(p)), time.Until(dl))
	if err != nil {
		return 0, err
	}
	p = p[:granted]
	if err := c.Conn.SetReadDeadline(dl); err != nil {
		acct.settle(granted, 0)
		return 0, err
	}
	n, err := c.Conn.Read(p)
	acct.settle(granted, n)
	if n > 0 {
		c.gotByte.Store(true)
	}
	if n > 0 || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
		acct.heard.Store(true) // a byte, a close or a reset: the port answers
	}
	return n, err
}

func (c *boundedConn) Write(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(c.opDeadline(&c.userWrite)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// SetDeadline and friends may only shorten the engine's deadlines: the
// deadline set applies to later reads/writes together with the IO timeout.
func (c *boundedConn) SetDeadline(t time.Time) error {
	storeDeadline(&c.userRead, t)
	storeDeadline(&c.userWrite, t)
	return c.Conn.SetDeadline(c.clamp(t))
}

func (c *boundedConn) SetReadDeadline(t time.Time) error {
	storeDeadline(&c.userRead, t)
	return c.Conn.SetReadDeadline(c.clamp(t))
}

func (c *boundedConn) SetWriteDeadline(t time.Time) error {
	storeDeadline(&c.userWrite, t)
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

func storeDeadline(a *atomic.Int64, t time.Time) {
	if t.IsZero() {
		a.Store(0)
		return
	}
	a.Store(t.UnixNano())
}

func (c *boundedConn) clamp(t time.Time) time.Time {
	if !c.deadline.IsZero() && (t.IsZero() || t.After(c.deadline)) {
		return c.deadline
	}
	return t
}

// IsTimeout tells whether err is a network timeout or a context deadline.
func IsTimeout(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded)
}
