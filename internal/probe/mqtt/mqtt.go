// Package mqtt probes MQTT brokers. An anonymous CONNECT (MQTT 3.1.1, then
// 3.1) is answered by a CONNACK whose return code says whether credentials
// are needed; when the session is granted, a QoS 0 subscription to "#" and
// "$SYS/#" collects, for a short bounded window, the retained messages
// (the broker's stored data) and the broker's own $SYS facts.
//
// The probe never publishes: it sends CONNECT, SUBSCRIBE and DISCONNECT
// only, with a clean session so that nothing stays behind on the broker.
package mqtt

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes MQTT brokers.
type Prober struct {
	// Window is how long retained messages are collected after SUBACK.
	Window time.Duration
}

var _ probe.Prober = (*Prober)(nil)

// New returns an MQTT prober with a two-second collection window.
func New() *Prober { return &Prober{Window: 2 * time.Second} }

// Name is the service name.
func (p *Prober) Name() string { return "mqtt" }

// DefaultPorts is MQTT's plain port.
func (p *Prober) DefaultPorts() []int { return []int{1883} }

// CONNACK return codes.
const (
	rcAccepted       = 0
	rcBadProtocol    = 1
	rcBadCredentials = 4
	rcNotAuthorized  = 5
)

const (
	// maxMessages bounds the messages read in one window.
	maxMessages = 10000
	// maxWindowBytes bounds the payload bytes read in one window.
	maxWindowBytes = 32 << 20
	keepAlive      = 30
)

// conn is one MQTT connection.
type conn struct {
	net.Conn
	r *bufio.Reader
}

// Probe identifies and measures the broker at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	c, rc, err := connectAny(ctx, env)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &probe.Result{}
	res.AddEvidence("connack_rc", int(rc))
	switch rc {
	case rcAccepted:
		// An anonymous session is open; whether the topics are readable
		// is decided by the subscription below.
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		env.Provisional(res) // identified: reported even if a limit stops the rest
	case rcBadCredentials, rcNotAuthorized:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("auth_challenge", connackText(rc))
		return res, nil
	default:
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("mqtt: connection refused: %s", connackText(rc))
		return res, nil
	}
	if _, err := c.Write(subscribePacket(1, "#", "$SYS/#")); err != nil {
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("mqtt: subscribe: %v", err)
		return res, nil
	}
	col := newCollector(env.Budget)
	codes, err := p.collect(ctx, c, env.Budget, col)
	col.finish(res, env.Budget)
	switch {
	case codes == nil:
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("mqtt: no SUBACK: %v", err)
	case codes[0] == subackFailure:
		// Anonymous sessions are allowed but ACLs hide the topics.
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddFlag("anonymous-connect")
		res.AddEvidence("auth_challenge", "subscription refused")
		res.Datasets = nil
	default:
		// Two signals: CONNACK accepted an anonymous session, and the
		// subscription to every topic was granted.
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		if err != nil {
			res.AddErrorf("mqtt: collect: %v", err)
		}
	}
	return res, nil
}

// connectAny connects with MQTT 3.1.1 and falls back to 3.1 when the
// broker refuses the protocol level.
func connectAny(ctx context.Context, env *probe.Env) (*conn, byte, error) {
	c, rc, err := connect(ctx, env, mqtt311)
	if err != nil || rc != rcBadProtocol {
		return c, rc, err
	}
	c.Close()
	return connect(ctx, env, mqtt31)
}

// connect sends an anonymous CONNECT and reads the CONNACK.
func connect(ctx context.Context, env *probe.Env, proto protocol) (*conn, byte, error) {
	nc, err := env.Dial(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("mqtt: %w", err)
	}
	c := &conn{Conn: nc, r: bufio.NewReader(nc)}
	if _, err := c.Write(connectPacket(proto, clientID(), keepAlive)); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("mqtt: write connect: %w", err)
	}
	pk, err := readPacket(c.r, 8)
	if err == nil {
		var rc byte
		if rc, err = parseConnack(pk); err == nil {
			return c, rc, nil
		}
	}
	c.Close()
	switch {
	case errors.Is(err, errProtocol), errors.Is(err, errTooLarge):
		return nil, 0, probe.NotThisService("mqtt: %v", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return nil, 0, probe.NotThisService("mqtt: connection closed without CONNACK")
	}
	return nil, 0, fmt.Errorf("mqtt: read connack: %w", err)
}

// collect reads SUBACK and then messages until the window ends, the
// message or byte caps are reached, or the connection fails. It returns
// the SUBACK codes (nil if none came).
func (p *Prober) collect(ctx context.Context, c *conn, b probe.Budget, col *collector) ([]byte, error) {
	var codes []byte
	var once sync.Once
	var timer *time.Timer
	var ended atomic.Bool
	stop := func() {
		ended.Store(true)
		_, _ = c.Write(disconnectPacket())
		_ = c.Close() // unblocks the read below
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		once.Do(stop)
	}()
	for {
		pk, err := readPacket(c.r, int(min(b.SampleBytes, maxWindowBytes)))
		if err != nil {
			if codes != nil && (ended.Load() || ctx.Err() != nil) {
				// The window ended (the broker may hang up on our
				// DISCONNECT before we close).
				return codes, nil
			}
			if codes != nil && errors.Is(err, errTooLarge) {
				col.truncated = true
				return codes, nil
			}
			return codes, err
		}
		switch pk.kind() {
		case typeSuback:
			_, rcs, err := parseSuback(pk)
			if err != nil {
				return codes, err
			}
			codes = rcs
			if codes[0] == subackFailure && (len(codes) < 2 || codes[1] == subackFailure) {
				return codes, nil
			}
			timer = time.AfterFunc(p.Window, func() { once.Do(stop) })
		case typePublish:
			m, err := parsePublish(pk)
			if err != nil {
				return codes, err
			}
			if !col.add(m) {
				return codes, nil
			}
		}
	}
}

// clientID is a fresh random client identifier.
func clientID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "leakwatch-" + hex.EncodeToString(b[:])
}

// connackText names a CONNACK return code.
func connackText(rc byte) string {
	switch rc {
	case 1:
		return "unacceptable protocol version"
	case 2:
		return "identifier rejected"
	case 3:
		return "server unavailable"
	case rcBadCredentials:
		return "bad user name or password"
	case rcNotAuthorized:
		return "not authorized"
	}
	return fmt.Sprintf("return code %d", rc)
}

// productFromVersion splits "mosquitto version 2.0.11".
func productFromVersion(v string) (string, string) {
	f := strings.Fields(v)
	switch {
	case len(f) == 3 && f[1] == "version":
		return strings.ToLower(f[0]), f[2]
	case len(f) == 2:
		return strings.ToLower(f[0]), f[1]
	}
	return "", v
}
