// Package nats probes NATS servers. The INFO line every server sends on
// connect identifies it (server id, version, whether auth is required, and
// whether JetStream is on); a credential-less CONNECT through nats.go
// (dialed through the engine's bounded dialer) tells whether it is open.
// When it is, JetStream's request/reply API lists the streams with their
// message counts and a few stored messages are read by sequence; the
// monitoring port's /varz and /connz add server facts when they answer.
//
// Read-only: the probe subscribes to nothing and publishes only requests to
// JetStream's read API ($JS.API.INFO, STREAM.NAMES, STREAM.INFO,
// STREAM.MSG.GET), which change no state.
package nats

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	natsgo "github.com/nats-io/nats.go"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes NATS.
type Prober struct {
	// MonitorPort is the HTTP monitoring port tried on the same host
	// (0 disables it).
	MonitorPort int
}

var _ probe.Prober = (*Prober)(nil)

// New returns a NATS prober that also tries the default monitoring port.
func New() *Prober { return &Prober{MonitorPort: 8222} }

// Name is the service name.
func (p *Prober) Name() string { return "nats" }

// ServerFirst implements probe.ServerFirst: the server sends INFO first.
func (*Prober) ServerFirst() {}

// DefaultPorts is NATS's client port.
func (p *Prober) DefaultPorts() []int { return []int{4222} }

// maxInfoLine bounds the INFO line.
const maxInfoLine = 64 << 10

// Probe identifies and measures the NATS server at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	si, err := readInfo(ctx, env)
	if err != nil {
		return nil, err
	}
	res := &probe.Result{Product: "nats-server", Version: si.Version, TLS: si.TLSRequired}
	addInfoEvidence(res, si)
	if p.MonitorPort > 0 && p.MonitorPort != env.Target.Port {
		monitor(ctx, env, p.MonitorPort, res)
	}
	nc, err := connect(ctx, env, si)
	if err != nil {
		if isAuthError(err) {
			res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
			res.AddEvidence("auth_challenge", "Authorization Violation")
			return res, nil
		}
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("nats: connect: %v", err)
		return res, nil
	}
	defer nc.Close()
	// Two signals: CONNECT without credentials was accepted and answered
	// (nats.go completes a PING/PONG round trip before returning).
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if si.AuthRequired {
		res.AddFlag("no-auth-user") // auth on, but anonymous clients are mapped to a user
	}
	js := &jetStream{nc: nc, b: env.Budget}
	res.AddError(js.measure(ctx, res))
	return res, nil
}

// readInfo reads the INFO line of a fresh connection.
func readInfo(ctx context.Context, env *probe.Env) (serverInfo, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return serverInfo{}, fmt.Errorf("nats: %w", err)
	}
	defer c.Close()
	line, err := bufio.NewReaderSize(c, maxInfoLine).ReadSlice('\n')
	if err != nil {
		if probe.IsTimeout(err) {
			return serverInfo{}, fmt.Errorf("nats: read INFO: %w", err)
		}
		if errors.Is(err, bufio.ErrBufferFull) || len(line) > 0 {
			return serverInfo{}, probe.NotThisService("nats: first line: %v", err)
		}
		return serverInfo{}, probe.NotThisService("nats: closed without INFO: %v", err)
	}
	si, err := parseInfo(strings.TrimRight(string(line), "\r\n"))
	if err != nil {
		return serverInfo{}, probe.NotThisService("nats: %v", err)
	}
	return si, nil
}

// addInfoEvidence keeps the INFO facts.
func addInfoEvidence(res *probe.Result, si serverInfo) {
	res.AddEvidence("server_id", si.ServerID)
	res.AddEvidence("auth_required", si.AuthRequired)
	res.AddEvidence("jetstream", si.JetStream)
	res.AddEvidence("proto", si.Proto)
	res.AddEvidence("max_payload", si.MaxPayload)
	for k, v := range map[string]string{"server_name": si.ServerName, "go": si.Go, "cluster": si.Cluster, "domain": si.Domain} {
		if v != "" {
			res.AddEvidence(k, v)
		}
	}
	if si.Nonce != "" {
		res.AddEvidence("nonce_auth", true) // nkey/JWT authentication offered
	}
}

// dialer adapts the engine's bounded dialer to nats.go. It carries the
// probe's context because nats.go's CustomDialer has no context parameter;
// it lives only for one probe.
type dialer struct {
	ctx context.Context
	env *probe.Env
}

// Dial ignores the address: the engine dials the target it was given.
func (d dialer) Dial(_, _ string) (net.Conn, error) { return d.env.Dial(d.ctx) }

// connect opens a credential-less nats.go connection.
func connect(ctx context.Context, env *probe.Env, si serverInfo) (*natsgo.Conn, error) {
	opts := []natsgo.Option{
		natsgo.SetCustomDialer(dialer{ctx: ctx, env: env}),
		natsgo.Name("leakwatch"),
		natsgo.Timeout(env.Budget.IOTimeout),
		natsgo.NoReconnect(),
		natsgo.NoCallbacksAfterClientClose(),
		natsgo.ErrorHandler(func(*natsgo.Conn, *natsgo.Subscription, error) {}),
	}
	if si.TLSRequired {
		opts = append(opts, natsgo.Secure(env.TLSConfig()))
	}
	url := "nats://" + env.Target.HostPort()
	if si.TLSRequired {
		url = "tls://" + env.Target.HostPort()
	}
	return natsgo.Connect(url, opts...)
}

// isAuthError tells whether a connect error is the server's auth refusal.
func isAuthError(err error) bool {
	if errors.Is(err, natsgo.ErrAuthorization) || errors.Is(err, natsgo.ErrAuthExpired) || errors.Is(err, natsgo.ErrAuthRevoked) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "authorization violation") || strings.Contains(msg, "authentication")
}
