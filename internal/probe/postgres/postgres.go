// Package postgres probes PostgreSQL servers. It identifies a server by its
// answer to a StartupMessage (an authentication request or an
// ErrorResponse), learns whether user "postgres" gets in without a password
// (trust authentication) or with the well-known password "postgres", and, if
// it does, lists each database's tables with the planner's row estimates and
// on-disk sizes and takes a small read-only sample of the largest tables.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the PostgreSQL prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a PostgreSQL prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "postgres" }

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{5432} }

// defaultUser and defaultPassword are the superuser every package creates
// and the password most often given to it.
const (
	defaultUser     = "postgres"
	defaultPassword = "postgres"
)

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	rep, err := startup(ctx, env)
	if err != nil {
		if errors.Is(err, errNotPostgres) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, probe.NotThisService("postgres: %v", err)
		}
		return nil, fmt.Errorf("postgres: startup: %w", err)
	}
	res := &probe.Result{Product: "postgresql", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	noteStartup(res, rep)

	sess, err := login(ctx, env, res, rep)
	if err != nil {
		res.AddError(err)
		return res, nil
	}
	if sess == nil {
		return res, nil
	}
	measure(ctx, env, res, sess)
	if res.Status == finding.StatusExposed {
		readAccess(ctx, res, sess)
	}
	return res, nil
}

// noteStartup records what the StartupMessage answer told.
func noteStartup(res *probe.Result, rep *startupReply) {
	if m := rep.AuthMethod(); m != "" {
		res.AddEvidence("auth_method", m)
	}
	if len(rep.SASLMechanisms) > 0 {
		res.AddEvidence("sasl_mechanisms", rep.SASLMechanisms)
	}
	if rep.Err != nil {
		res.AddEvidence("startup_error_code", rep.Err.Code)
		res.AddEvidence("startup_error", rep.Err.Message)
		if rep.Err.Routine != "" {
			res.AddEvidence("startup_error_routine", rep.Err.Routine)
		}
	}
	if v := rep.Params["server_version"]; v != "" {
		setVersion(res, v)
	}
}

// setVersion fills Version with the leading number of server_version
// ("15.18 (Debian 15.18-0+deb12u1)" → "15.18") and keeps the whole string.
func setVersion(res *probe.Result, full string) {
	v, _, _ := strings.Cut(strings.TrimSpace(full), " ")
	res.Version = v
	if full != v {
		res.AddEvidence("server_version", full)
	}
}

// startup sends a StartupMessage as user "postgres" and reads the answer.
func startup(ctx context.Context, env *probe.Env) (*startupReply, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	msg := buildStartup(map[string]string{
		"user":             defaultUser,
		"database":         defaultUser,
		"application_name": "leakwatch",
	})
	if _, err := c.Write(msg); err != nil {
		return nil, fmt.Errorf("write startup: %w", err)
	}
	rep, err := readStartupReply(c)
	if rep != nil && rep.Ready {
		_, _ = c.Write(terminateMessage)
	}
	if rep != nil && (rep.Auth || rep.Err != nil) {
		return rep, nil // identified; a later read error does not matter
	}
	return nil, err
}

// login decides exposed/protected from the startup answer and, where the
// data is readable, returns a session that reads it. A nil session with a
// nil error means the server is protected (or could not be judged).
func login(ctx context.Context, env *probe.Env, res *probe.Result, rep *startupReply) (*session, error) {
	s := &session{env: env, user: defaultUser, database: defaultUser}
	switch {
	case rep.Auth && rep.AuthCode == authOK:
		if rep.Err != nil && rep.Err.Code == "3D000" {
			s.database = "template1" // no database "postgres"; trust still let us in
		}
		res.Auth = finding.AuthNone
		return s, nil
	case rep.Err != nil && rep.Err.Code == "28000" &&
		strings.HasPrefix(rep.Err.Message, "no pg_hba.conf entry") && strings.Contains(rep.Err.Message, "no encryption"):
		// Maybe pg_hba.conf only has hostssl lines: try again over TLS.
		protect(res)
		s.tls = true
		return tryLogins(ctx, res, s)
	case rep.Err != nil && strings.HasPrefix(rep.Err.Code, "28"):
		protect(res)
		return nil, nil
	case rep.Auth && passwordMethod(rep.AuthCode):
		protect(res)
		return tryDefault(ctx, res, s)
	case rep.Auth:
		protect(res) // Kerberos, GSS, SSPI: no default credential to try
		return nil, nil
	}
	return nil, fmt.Errorf("postgres: startup refused: %w", rep.Err)
}

// passwordMethod tells whether the requested authentication takes a password.
func passwordMethod(code int32) bool {
	return code == authCleartext || code == authMD5 || code == authSASL
}

func protect(res *probe.Result) {
	res.Status = finding.StatusProtected
	res.Auth = finding.AuthRequired
}

// tryLogins tries no password, then the default password, over s's
// transport; res starts out protected.
func tryLogins(ctx context.Context, res *probe.Result, s *session) (*session, error) {
	conn, err := s.connect(ctx, s.database)
	if err == nil {
		conn.Close(ctx)
		res.TLS = s.tls
		res.Auth = finding.AuthNone
		return s, nil
	}
	if !isAuthError(err) {
		// E.g. the server has no TLS either: it stays protected.
		res.AddEvidence("tls_login_error", err.Error())
		return nil, nil
	}
	res.TLS = s.tls
	return tryDefault(ctx, res, s)
}

// tryDefault logs in as postgres/postgres. Failure leaves res protected.
func tryDefault(ctx context.Context, res *probe.Result, s *session) (*session, error) {
	d := *s
	d.password = defaultPassword
	conn, err := d.connect(ctx, d.database)
	if err != nil {
		if isAuthError(err) {
			res.AddEvidence("default_credentials", "rejected")
			return nil, nil
		}
		return nil, fmt.Errorf("postgres: default credentials: %w", err)
	}
	conn.Close(ctx)
	res.Auth = finding.AuthDefaultCredentials
	res.AddEvidence("default_credentials", defaultUser+"/"+defaultPassword)
	return &d, nil
}

// isAuthError tells whether err is the server refusing the credentials or
// the client (SQLSTATE class 28, or a login step the client cannot do).
func isAuthError(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "28")
	}
	return false
}
