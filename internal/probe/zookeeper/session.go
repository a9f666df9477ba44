package zookeeper

import (
	"bufio"
	"context"
	"fmt"
	"net"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// sessionTimeoutMS is the session timeout asked for; the session ends with
// closeSession anyway.
const sessionTimeoutMS = 10000

// maxConnectFrame bounds the connect response.
const maxConnectFrame = 256

// session is one ZooKeeper client session.
type session struct {
	conn      net.Conn
	r         *bufio.Reader
	xid       int32
	timeoutMS int32
	broken    bool
}

// connect opens a session.
func connect(ctx context.Context, env *probe.Env) (*session, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{conn: c, r: bufio.NewReader(c)}
	if _, err := c.Write(connectRequest(sessionTimeoutMS)); err != nil {
		c.Close()
		return nil, fmt.Errorf("write connect: %w", err)
	}
	f, err := readFrame(s.r, maxConnectFrame)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("read connect: %w", err)
	}
	cr, err := parseConnect(f)
	if err != nil {
		c.Close()
		return nil, err
	}
	if cr.timeoutMS == 0 {
		c.Close()
		return nil, fmt.Errorf("session refused")
	}
	s.timeoutMS = cr.timeoutMS
	return s, nil
}

// call is one request in a batch.
type call struct {
	op   int32
	path string
	// max is the largest reply frame accepted.
	max int64
}

// batch sends the calls pipelined and reads their replies in order.
func (s *session) batch(calls []call) ([]reply, error) {
	if s.broken {
		return nil, fmt.Errorf("session broken")
	}
	var buf []byte
	first := s.xid + 1
	for _, c := range calls {
		s.xid++
		buf = append(buf, request(s.xid, c.op, c.path)...)
	}
	if _, err := s.conn.Write(buf); err != nil {
		s.broken = true
		return nil, fmt.Errorf("write: %w", err)
	}
	out := make([]reply, 0, len(calls))
	for i, c := range calls {
		f, err := readFrame(s.r, int(min(c.max, 1<<30)))
		if err != nil {
			s.broken = true
			return out, fmt.Errorf("read %s: %w", c.path, err)
		}
		r, err := parseReply(f, c.op)
		if err != nil {
			s.broken = true
			return out, fmt.Errorf("decode %s: %w", c.path, err)
		}
		if r.hdr.xid != first+int32(i) {
			s.broken = true
			return out, fmt.Errorf("reply xid %d, want %d: %w", r.hdr.xid, first+int32(i), errProtocol)
		}
		out = append(out, r)
	}
	return out, nil
}

// one runs a single call.
func (s *session) one(op int32, path string, max int64) (reply, error) {
	rs, err := s.batch([]call{{op: op, path: path, max: max}})
	if err != nil {
		return reply{}, err
	}
	return rs[0], nil
}

// close ends the session politely (so the server does not keep it until
// it times out) and closes the connection.
func (s *session) close() {
	if !s.broken {
		s.xid++
		_, _ = s.conn.Write(request(s.xid, opCloseSession, ""))
		_, _ = readFrame(s.r, 64)
	}
	_ = s.conn.Close()
}
