// Package mysql probes MySQL-protocol servers (MySQL, MariaDB, Percona
// Server, TiDB). It identifies a server by its greeting (the handshake
// packet it sends first), so a server is recognised even when the login
// fails; then it tries user root with an empty password and, if that gets
// in, lists tables from information_schema and samples the largest ones in
// a READ ONLY transaction.
package mysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the MySQL/MariaDB prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a MySQL prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "mysql" }

// ServerFirst implements probe.ServerFirst: the server greets first.
func (*Prober) ServerFirst() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{3306} }

// rootUser is the superuser every install has; older installs and many
// containers leave its password empty.
const rootUser = "root"

// Server error numbers that mean "credentials refused".
const (
	erAccessDenied       = 1045 // ER_ACCESS_DENIED_ERROR
	erDBAccessDenied     = 1044
	erHostNotPrivileged  = 1130 // Host '…' is not allowed to connect
	erHostIsBlocked      = 1129
	erAccessDeniedNoPass = 1698 // e.g. root@localhost with unix_socket auth
	erNotSupportedAuth   = 1251
	erSecureTransport    = 3159 // require_secure_transport
)

func init() {
	// The driver logs protocol trouble to stderr; probers report through
	// their result instead.
	_ = mysqldrv.SetLogger(nopLogger{})
}

type nopLogger struct{}

func (nopLogger) Print(...any) {}

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	conn, err := env.Dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	raw, payload, err := readPacket(conn, maxGreeting)
	var g *greeting
	var ep *errPacket
	if err == nil {
		g, ep, err = parseGreeting(payload)
	}
	if err != nil {
		conn.Close()
		if errors.Is(err, errNotMySQL) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, probe.NotThisService("mysql: %v", err)
		}
		return nil, fmt.Errorf("mysql: read greeting: %w", err)
	}
	res := &probe.Result{Product: "mysql", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	if ep != nil {
		conn.Close()
		refused(res, ep)
		return res, nil
	}
	noteGreeting(res, g)
	s := newSession(env, conn, raw, product(g.ServerVersion))
	defer s.close()
	if err := s.login(ctx, rootUser, ""); err != nil {
		if isAuthError(err) {
			res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
			res.AddEvidence("login", "root with empty password refused")
			return res, nil
		}
		res.AddErrorf("mysql: login: %v", err)
		return res, nil
	}
	res.Auth = finding.AuthNone
	res.AddEvidence("login", "root with empty password")
	env.Provisional(res) // identified: reported even if a limit stops the rest
	s.measure(ctx, res)
	if res.Status == finding.StatusExposed {
		s.readAccess(ctx, res)
	}
	return res, nil
}

// refused handles a server that sent an error instead of a greeting.
func refused(res *probe.Result, ep *errPacket) {
	res.AddEvidence("greeting_error_code", int(ep.Code))
	res.AddEvidence("greeting_error", ep.Message)
	switch ep.Code {
	case erHostNotPrivileged, erHostIsBlocked:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	default:
		res.AddErrorf("mysql: server refused the connection: %v", ep)
	}
}

// noteGreeting fills product, version and protocol evidence.
func noteGreeting(res *probe.Result, g *greeting) {
	res.Product = product(g.ServerVersion)
	res.Version = cleanVersion(g.ServerVersion)
	res.AddEvidence("server_version", g.ServerVersion)
	res.AddEvidence("protocol", int(g.Protocol))
	if g.AuthPlugin != "" {
		res.AddEvidence("auth_plugin", g.AuthPlugin)
	}
	res.AddEvidence("tls_supported", g.Capabilities&capSSL != 0)
}

// isAuthError tells whether the server refused the credentials.
func isAuthError(err error) bool {
	var me *mysqldrv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erAccessDenied, erDBAccessDenied, erHostNotPrivileged, erHostIsBlocked,
			erAccessDeniedNoPass, erNotSupportedAuth, erSecureTransport:
			return true
		}
	}
	// The server asked for an auth method this client will not use
	// (cleartext, old passwords, an unknown plugin).
	return errors.Is(err, mysqldrv.ErrCleartextPassword) || errors.Is(err, mysqldrv.ErrOldPassword) ||
		errors.Is(err, mysqldrv.ErrNativePassword) || errors.Is(err, mysqldrv.ErrUnknownPlugin)
}

// session holds a database/sql handle whose every connection goes through
// env's bounded dialer. The first connection reuses the one whose greeting
// was read, replaying it, so identifying costs no extra connection (and no
// aborted handshake that counts toward max_connect_errors).
type session struct {
	env     *probe.Env
	product string
	db      *sql.DB

	mu    sync.Mutex
	first net.Conn
}

func newSession(env *probe.Env, conn net.Conn, greeting []byte, product string) *session {
	return &session{env: env, product: product, first: &replayConn{Conn: conn, pending: greeting}}
}

// dial hands out the greeted connection once, then dials afresh.
func (s *session) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	s.mu.Lock()
	c := s.first
	s.first = nil
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return s.env.Dial(ctx)
}

// login opens the handle and checks the credentials with a ping.
func (s *session) login(ctx context.Context, user, password string) error {
	cfg := mysqldrv.NewConfig()
	cfg.Net = "tcp"
	cfg.Addr = s.env.Target.HostPort()
	cfg.User, cfg.Passwd = user, password
	cfg.DialFunc = s.dial
	cfg.Timeout = s.env.Budget.IOTimeout
	cfg.ReadTimeout = s.env.Budget.IOTimeout
	cfg.WriteTimeout = s.env.Budget.IOTimeout
	cfg.AllowAllFiles = false // never answer a LOCAL INFILE request with a local file
	cfg.AllowCleartextPasswords = false
	cfg.InterpolateParams = true // no server-side prepared statements
	conn, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		return fmt.Errorf("mysql: config: %w", err)
	}
	s.db = sql.OpenDB(conn)
	s.db.SetMaxOpenConns(1)
	s.db.SetMaxIdleConns(1)
	return s.db.PingContext(ctx)
}

func (s *session) close() {
	s.mu.Lock()
	if s.first != nil {
		s.first.Close()
		s.first = nil
	}
	s.mu.Unlock()
	if s.db != nil {
		s.db.Close()
	}
}

// replayConn returns already-read bytes before reading from the connection.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
