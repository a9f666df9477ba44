package redis

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// session is one RESP connection to the target. After a reply that broke
// the framing (too large, malformed) the connection is dropped and the next
// call redials.
type session struct {
	env  *probe.Env
	conn net.Conn
	rd   *respReader
	wbuf []byte
	// sent counts the commands written (the server's
	// total_commands_processed counts each once it ran).
	sent int64
}

func newSession(env *probe.Env) *session { return &session{env: env} }

// connect dials if there is no usable connection.
func (s *session) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	c, err := s.env.Dial(ctx)
	if err != nil {
		return err
	}
	s.conn, s.rd = c, newRespReader(c)
	return nil
}

// close drops the connection.
func (s *session) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.rd = nil, nil
	}
}

// send writes commands in one batch (pipelined).
func (s *session) send(ctx context.Context, cmds ...[]string) error {
	if err := s.connect(ctx); err != nil {
		return err
	}
	s.wbuf = s.wbuf[:0]
	for _, c := range cmds {
		s.wbuf = appendCommand(s.wbuf, c...)
	}
	s.sent += int64(len(cmds))
	if _, err := s.conn.Write(s.wbuf); err != nil {
		s.close()
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// recv reads one reply. Any read failure leaves the stream mid-reply, so
// the connection is dropped.
func (s *session) recv(lim limits) (value, error) {
	if s.rd == nil {
		return value{}, errors.New("no connection")
	}
	v, err := s.rd.readValue(lim)
	if err != nil {
		s.close()
		return value{}, err
	}
	return v, nil
}

// do sends one command and reads its reply.
func (s *session) do(ctx context.Context, lim limits, args ...string) (value, error) {
	if err := s.send(ctx, args); err != nil {
		return value{}, err
	}
	return s.recv(lim)
}

// pipeline sends cmds and reads one reply per command.
func (s *session) pipeline(ctx context.Context, lim limits, cmds [][]string) ([]value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	if err := s.send(ctx, cmds...); err != nil {
		return nil, err
	}
	out := make([]value, 0, len(cmds))
	for range cmds {
		v, err := s.recv(lim)
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// isClosed tells whether err means the peer hung up.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}
