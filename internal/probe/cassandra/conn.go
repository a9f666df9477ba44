package cassandra

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// consistencyOne is the ONE consistency level: a single replica answers.
const consistencyOne = 0x0001

// Query flags.
const (
	queryValues      byte = 0x01
	queryPageSize    byte = 0x04
	queryPagingState byte = 0x08
)

// firstStream is the stream id of a connection's first request. 10 is
// '\n': a line-based server (HTTP, SMTP, Redis inline) sees the OPTIONS
// frame as a complete, malformed line and answers at once instead of
// waiting for the rest of a line that never comes.
const firstStream = 10

// conn is one CQL connection. Requests go one at a time.
type conn struct {
	c       net.Conn
	version byte
	stream  int16
	maxBody int
}

// dial opens a connection through the env's bounded dialer.
func dial(ctx context.Context, env *probe.Env, version byte) (*conn, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	maxBody := env.Budget.MaxResponseBytes
	if maxBody <= 0 || maxBody > 256<<20 {
		maxBody = 256 << 20
	}
	return &conn{c: c, version: version, maxBody: int(maxBody), stream: firstStream - 1}, nil
}

func (c *conn) Close() error { return c.c.Close() }

// roundTrip sends one request and reads its response, skipping frames of
// other streams (server events).
func (c *conn) roundTrip(opcode byte, body []byte) (frame, error) {
	c.stream++
	if c.stream <= 0 {
		c.stream = 1
	}
	if _, err := c.c.Write(request(c.version, c.stream, opcode, body)); err != nil {
		return frame{}, fmt.Errorf("write: %w", err)
	}
	for i := 0; i < 16; i++ {
		f, err := readFrame(c.c, c.maxBody)
		if err != nil {
			return frame{}, err
		}
		if f.Stream == c.stream {
			return f, nil
		}
	}
	return frame{}, fmt.Errorf("%w: no answer on stream %d", errMalformed, c.stream)
}

// options sends OPTIONS and returns the SUPPORTED map, or the server's
// ERROR (e.g. an unsupported protocol version) as *cqlError.
func (c *conn) options() (map[string][]string, error) {
	f, err := c.roundTrip(opOptions, nil)
	if err != nil {
		return nil, err
	}
	switch f.Opcode {
	case opSupported:
		m, err := parseSupported(f.Body)
		if err != nil {
			return nil, err
		}
		return m, nil
	case opError:
		return nil, parseError(f.Body)
	}
	return nil, fmt.Errorf("%w: OPTIONS answered with opcode %#x", errNotCQL, f.Opcode)
}

// startupReply is what STARTUP led to.
type startupReply struct {
	Ready         bool
	Authenticator string // set when the server asked for authentication
}

// startup sends STARTUP with a CQL version the server supports.
func (c *conn) startup(cqlVersion string) (startupReply, error) {
	var e encoder
	e.stringMap([][2]string{{"CQL_VERSION", cqlVersion}})
	f, err := c.roundTrip(opStartup, e.b)
	if err != nil {
		return startupReply{}, err
	}
	switch f.Opcode {
	case opReady:
		return startupReply{Ready: true}, nil
	case opAuthenticate:
		a, err := parseAuthenticate(f.Body)
		if err != nil {
			return startupReply{}, err
		}
		return startupReply{Authenticator: a}, nil
	case opError:
		return startupReply{}, parseError(f.Body)
	}
	return startupReply{}, fmt.Errorf("%w: STARTUP answered with opcode %#x", errMalformed, f.Opcode)
}

// errAuthRefused means the server did not accept the credentials.
var errAuthRefused = errors.New("credentials refused")

// login answers an AUTHENTICATE with a SASL PLAIN token.
func (c *conn) login(user, password string) error {
	token := make([]byte, 0, 2+len(user)+len(password))
	token = append(token, 0)
	token = append(token, user...)
	token = append(token, 0)
	token = append(token, password...)
	var e encoder
	e.bytes(token)
	f, err := c.roundTrip(opAuthResponse, e.b)
	if err != nil {
		return err
	}
	switch f.Opcode {
	case opAuthSuccess:
		return nil
	case opError:
		ce := parseError(f.Body)
		if ce.Code == errCodeBadCreds {
			return fmt.Errorf("%w: %s", errAuthRefused, ce.Message)
		}
		return ce
	case opAuthChallenge:
		// A multi-step mechanism (e.g. DSE's): not the plain default login.
		return fmt.Errorf("%w: server sent a further SASL challenge", errAuthRefused)
	}
	return fmt.Errorf("%w: AUTH_RESPONSE answered with opcode %#x", errMalformed, f.Opcode)
}

// query runs one page of a read-only statement with positional text values.
func (c *conn) query(stmt string, pageSize int, paging []byte, values ...string) (*rows, error) {
	var e encoder
	e.longString(stmt)
	e.short(consistencyOne)
	var flags byte
	if len(values) > 0 {
		flags |= queryValues
	}
	if pageSize > 0 {
		flags |= queryPageSize
	}
	if paging != nil {
		flags |= queryPagingState
	}
	e.byte(flags)
	if len(values) > 0 {
		e.short(len(values))
		for _, v := range values {
			e.bytes([]byte(v))
		}
	}
	if pageSize > 0 {
		e.int(pageSize)
	}
	if paging != nil {
		e.bytes(paging)
	}
	f, err := c.roundTrip(opQuery, e.b)
	if err != nil {
		return nil, err
	}
	switch f.Opcode {
	case opResult:
		return parseResult(f.Body)
	case opError:
		return nil, parseError(f.Body)
	}
	return nil, fmt.Errorf("%w: QUERY answered with opcode %#x", errMalformed, f.Opcode)
}
