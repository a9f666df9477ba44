// Package clickhouse probes ClickHouse servers over the HTTP interface
// (8123) and identifies them on the native TCP port (9000).
//
// Over HTTP it asks `SELECT version()` as the default user without a
// password: an answer is the first sign of an open server, an
// authentication exception (codes 192-195, 516) a protected one. An open
// server's tables are listed from system.tables, their rows and bytes from
// the active parts in system.parts, their columns from system.columns, and
// the largest are sampled with `SELECT * … LIMIT n FORMAT JSONEachRow`.
// Queries go by GET, which ClickHouse runs in read-only mode.
//
// On the native port it sends a Hello as the default user without a
// password: a server Hello means the login was accepted (then a Ping must
// be answered too), an Exception that it was refused. Datasets are read
// over HTTP only.
package clickhouse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the ClickHouse prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a ClickHouse prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "clickhouse" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{8123, 9000, 8443} }

// defaultUser is the user ClickHouse assumes when none is given; packages
// ship it without a password.
const defaultUser = "default"

// Exception codes that mean the credentials were refused.
var authCodes = map[int]bool{
	192: true, // UNKNOWN_USER
	193: true, // WRONG_PASSWORD
	194: true, // REQUIRED_PASSWORD
	195: true, // IP_ADDRESS_NOT_ALLOWED
	516: true, // AUTHENTICATION_FAILED
}

// errNativePort means the HTTP request hit the native port.
var errNativePort = errors.New("native protocol port")

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	if env.Target.Port == 9000 || env.Target.Port == 9440 {
		res, err := probeNative(ctx, env)
		if !errors.Is(err, errNotNative) {
			return res, err
		}
	}
	res, err := probeHTTP(ctx, env)
	switch {
	case errors.Is(err, errNativePort):
		res, err = probeNative(ctx, env)
	case err != nil && !errors.Is(err, probe.ErrNotThisService) && ctx.Err() == nil && !probe.IsTimeout(err):
		// Not HTTP at all: maybe the native protocol on another port.
		res, err = probeNative(ctx, env)
	}
	if errors.Is(err, errNotNative) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, probe.NotThisService("clickhouse: %v", err)
	}
	if err != nil && !errors.Is(err, probe.ErrNotThisService) {
		return nil, fmt.Errorf("clickhouse: %w", err)
	}
	return res, err
}

// probeNative identifies the server on the native port and decides
// whether the default user gets in without a password.
func probeNative(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Write(buildHello(defaultUser, "")); err != nil {
		return nil, fmt.Errorf("native hello: %w", err)
	}
	r := bufio.NewReader(c)
	hello, exc, err := readHelloReply(r)
	if err != nil {
		return nil, err
	}
	res := &probe.Result{Product: "clickhouse", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.AddEvidence("interface", "native")
	if exc != nil {
		res.AddEvidence("exception_code", int(exc.Code))
		res.AddEvidence("exception", exc.Message)
		if authCodes[int(exc.Code)] {
			res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		} else {
			res.AddErrorf("clickhouse: native hello refused: %v", exc)
		}
		return res, nil
	}
	res.Version = hello.Version()
	res.AddEvidence("server_name", hello.Name)
	res.AddEvidence("revision", hello.Revision)
	if hello.Timezone != "" {
		res.AddEvidence("timezone", hello.Timezone)
	}
	if hello.DisplayName != "" {
		res.AddEvidence("display_name", hello.DisplayName)
	}
	// A Hello answers a login that was accepted; a Pong to a Ping, which
	// only a logged-in session gets, is the second signal.
	res.Auth = finding.AuthNone
	if _, err := c.Write(pingPacket); err != nil {
		res.AddErrorf("clickhouse: native ping: %v", err)
		return res, nil
	}
	if err := readPong(r); err != nil {
		res.AddErrorf("clickhouse: native ping: %v", err)
		return res, nil
	}
	res.Status = finding.StatusExposed
	env.Provisional(res) // identified: reported even if a limit stops the rest
	res.AddFlag("datasets-over-http-only")
	return res, nil
}

var (
	exceptionRE  = regexp.MustCompile(`^Code: (\d+)[.,] .*(DB::Exception|Exception)`)
	versionRE    = regexp.MustCompile(`^\d+\.\d+(\.\d+)*\s*$`)
	nativePortRE = regexp.MustCompile(`Port \d+ is for clickhouse-client program`)
	httpPortRE   = regexp.MustCompile(`You must use port (\d+) for HTTP`)
)

// exceptionCode returns the code of a ClickHouse exception body.
func exceptionCode(body []byte) (int, bool) {
	m := exceptionRE.FindSubmatch(body)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(m[1]))
	return n, err == nil
}

// clickhouseHeader tells whether a response carries X-ClickHouse-* headers.
func clickhouseHeader(h http.Header) bool {
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "x-clickhouse-") {
			return true
		}
	}
	return false
}

// probeHTTP identifies the HTTP interface and, if open, measures it.
func probeHTTP(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, ping, err := probe.DetectHTTP(ctx, env, "/ping")
	if err != nil {
		return nil, err
	}
	defer h.Close()
	if nativePortRE.Match(ping.Body) {
		return nil, errNativePort
	}
	pingOK := ping.StatusCode == http.StatusOK && strings.TrimSpace(string(ping.Body)) == "Ok."
	c := &client{h: h, env: env}
	ver, err := c.get(ctx, "SELECT version()", nil, 4096)
	if err != nil {
		if pingOK || clickhouseHeader(ping.Header) {
			res := newHTTPResult(h)
			res.AddErrorf("clickhouse: SELECT version(): %v", err)
			return res, nil
		}
		return nil, probe.NotThisService("clickhouse: /ping %d and no query answer: %v", ping.StatusCode, err)
	}
	code, isExc := exceptionCode(ver.Body)
	if !clickhouseHeader(ping.Header) && !clickhouseHeader(ver.Header) && !isExc {
		return nil, probe.NotThisService("clickhouse: no ClickHouse headers or exception (status %d)", ver.StatusCode)
	}
	res := newHTTPResult(h)
	if name := ver.Header.Get("X-ClickHouse-Server-Display-Name"); name != "" {
		res.AddEvidence("display_name", name)
	}
	if tz := ver.Header.Get("X-ClickHouse-Timezone"); tz != "" {
		res.AddEvidence("timezone", tz)
	}
	switch {
	case isExc && authCodes[code]:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("exception_code", code)
		res.AddEvidence("exception", firstLine(ver.Body))
	case isExc:
		res.AddEvidence("exception_code", code)
		res.AddErrorf("clickhouse: SELECT version(): %s", firstLine(ver.Body))
	case ver.StatusCode == http.StatusOK && versionRE.Match(ver.Body):
		res.Version = strings.TrimSpace(string(ver.Body))
		res.Auth = finding.AuthNone
		env.Provisional(res) // identified: reported even if a limit stops the rest
		c.measure(ctx, res)
	default:
		res.AddErrorf("clickhouse: SELECT version(): status %d", ver.StatusCode)
	}
	return res, nil
}

func newHTTPResult(h *probe.HTTP) *probe.Result {
	res := &probe.Result{Product: "clickhouse", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.TLS = h.Scheme() == "https"
	res.AddEvidence("interface", h.Scheme())
	return res
}

// firstLine is the first line of an error body, capped.
func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
