package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// clientID names leakwatch in the broker's request log.
const clientID = "leakwatch"

// errFrame marks a size prefix no Kafka answer has (too small, or larger
// than the cap of the request it answers).
var errFrame = errors.New("kafka: bad frame size")

// errTLSRecord: the answer starts like a TLS record (an alert or a
// handshake), as an SSL listener answers a plaintext request.
var errTLSRecord = fmt.Errorf("%w: a TLS record", errFrame)

// readFrame reads one size-prefixed answer of at most max bytes (the size
// prefix not counted). A larger frame fails with errFrame unless prefix is
// set: then its first max bytes are returned with cut = true, and the
// connection is unusable after (the rest of the frame is left unread).
func readFrame(r io.Reader, max int64, prefix bool) (body []byte, cut bool, err error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, false, err
	}
	if (hdr[0] == 0x15 || hdr[0] == 0x16) && hdr[1] == 3 {
		return nil, false, errTLSRecord
	}
	size := int64(int32(binary.BigEndian.Uint32(hdr[:])))
	if size < 4 {
		return nil, false, fmt.Errorf("%w: %d", errFrame, size)
	}
	if size > max {
		if !prefix {
			return nil, false, fmt.Errorf("%w: %d bytes, cap %d", errFrame, size, max)
		}
		size, cut = max, true
	}
	// Grown as bytes arrive: a frame that claims much and sends little
	// costs what it sent.
	body, err = io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) < size {
		return nil, false, fmt.Errorf("kafka: frame ended after %d of %d bytes: %w", len(body), size, io.ErrUnexpectedEOF)
	}
	return body, cut, nil
}

// session is the probe's connection to the broker: requests go out one at a
// time, each answer is read as one bounded frame. It dials through the
// engine (scope-checked, deadline- and byte-bounded) when it has no
// connection, and drops the connection after any failure or cut frame.
type session struct {
	env  *probe.Env
	tls  bool // dial with TLS
	c    net.Conn
	corr int32
	f    *kmsg.RequestFormatter
	// wantsTLS: the last failed call's peer closed before sending a byte,
	// or answered with a TLS record.
	wantsTLS bool
}

func newSession(env *probe.Env) *session {
	return &session{env: env, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}
}

func (s *session) close() {
	if s.c != nil {
		s.c.Close()
		s.c = nil
	}
}

// call sends req (its version set) and returns the answer's body after
// the correlation id. max caps the frame; with prefix, a larger frame's
// first max bytes come back with cut = true (see readFrame).
func (s *session) call(ctx context.Context, req kmsg.Request, max int64, prefix bool) (body []byte, cut bool, err error) {
	if s.c == nil {
		dial := s.env.Dial
		if s.tls {
			dial = s.env.DialTLS
		}
		c, err := dial(ctx)
		if err != nil {
			return nil, false, err
		}
		s.c = c
	}
	s.corr++
	if _, err := s.c.Write(s.f.AppendRequest(nil, req, s.corr)); err != nil {
		s.close()
		return nil, false, err
	}
	body, cut, err = readFrame(s.c, max, prefix)
	if err != nil || cut {
		s.close()
	}
	if err != nil {
		return nil, false, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != s.corr {
		s.close()
		return nil, false, protoErr("correlation id %d, want %d", got, s.corr)
	}
	// Every request this prober sends has a v0 response header (only the
	// correlation id): ApiVersions always does, the others are sent at
	// versions older than flexible ones.
	return body[4:], cut, nil
}
