package cassandra

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// CQL native protocol (v3/v4) framing: a 9-byte header (version, flags,
// stream, opcode, body length) and a body made of the protocol's
// primitives ([short], [int], [string], [long string], [bytes], ...).

const headerLen = 9

// Opcodes used by the prober.
const (
	opError         byte = 0x00
	opStartup       byte = 0x01
	opReady         byte = 0x02
	opAuthenticate  byte = 0x03
	opOptions       byte = 0x05
	opSupported     byte = 0x06
	opQuery         byte = 0x07
	opResult        byte = 0x08
	opEvent         byte = 0x0C
	opAuthChallenge byte = 0x0E
	opAuthResponse  byte = 0x0F
	opAuthSuccess   byte = 0x10
)

// Header flags of a response.
const (
	flagCompression   byte = 0x01
	flagTracing       byte = 0x02
	flagCustomPayload byte = 0x04
	flagWarning       byte = 0x08
)

// Error codes the prober acts on.
const (
	errCodeServer      int32 = 0x0000
	errCodeProtocol    int32 = 0x000A
	errCodeBadCreds    int32 = 0x0100
	errCodeUnauthorzed int32 = 0x2100
)

// errNotCQL means the peer's bytes are not a CQL response frame.
var errNotCQL = errors.New("not a CQL response frame")

// errMalformed means a CQL frame body could not be decoded.
var errMalformed = errors.New("malformed CQL frame")

// frame is one response frame.
type frame struct {
	Version byte // without the response bit
	Flags   byte
	Stream  int16
	Opcode  byte
	Body    []byte // after tracing id, warnings and custom payload
	Warn    []string
}

// parseHeader checks a response header and returns its body length.
// maxBody bounds the length a peer may announce.
func parseHeader(h []byte, maxBody int) (frame, int, error) {
	if len(h) < headerLen {
		return frame{}, 0, fmt.Errorf("%w: short header", errNotCQL)
	}
	v := h[0]
	if v&0x80 == 0 || v&0x7F < 1 || v&0x7F > 6 {
		return frame{}, 0, fmt.Errorf("%w: version byte %#x", errNotCQL, v)
	}
	f := frame{Version: v & 0x7F, Flags: h[1], Stream: int16(binary.BigEndian.Uint16(h[2:4])), Opcode: h[4]}
	if f.Opcode > opAuthSuccess || f.Opcode == opStartup || f.Opcode == opOptions || f.Opcode == opQuery ||
		f.Opcode == opAuthResponse || f.Opcode == 0x04 || f.Opcode == 0x09 || f.Opcode == 0x0A ||
		f.Opcode == 0x0B || f.Opcode == 0x0D {
		return frame{}, 0, fmt.Errorf("%w: opcode %#x is not a response", errNotCQL, f.Opcode)
	}
	if f.Flags&^(flagCompression|flagTracing|flagCustomPayload|flagWarning|0x10) != 0 {
		return frame{}, 0, fmt.Errorf("%w: flags %#x", errNotCQL, f.Flags)
	}
	n := int64(int32(binary.BigEndian.Uint32(h[5:9])))
	if n < 0 {
		return frame{}, 0, fmt.Errorf("%w: negative body length", errNotCQL)
	}
	if n > int64(maxBody) {
		return frame{}, 0, fmt.Errorf("cql: frame body of %d bytes exceeds the %d-byte budget", n, maxBody)
	}
	return f, int(n), nil
}

// readFrame reads one response frame of at most maxBody body bytes.
func readFrame(r io.Reader, maxBody int) (frame, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, err
	}
	f, n, err := parseHeader(h[:], maxBody)
	if err != nil {
		return frame{}, err
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return frame{}, fmt.Errorf("read body: %w", err)
	}
	if err := f.setBody(body); err != nil {
		return frame{}, err
	}
	return f, nil
}

// setBody strips the optional tracing id, warnings and custom payload.
func (f *frame) setBody(body []byte) error {
	if f.Flags&flagCompression != 0 {
		return fmt.Errorf("%w: compressed frame without negotiated compression", errMalformed)
	}
	d := &decoder{b: body}
	if f.Flags&flagTracing != 0 {
		d.take(16)
	}
	if f.Flags&flagWarning != 0 {
		f.Warn = d.stringList()
	}
	if f.Flags&flagCustomPayload != 0 {
		n := d.short()
		for i := 0; i < n && d.err == nil; i++ {
			d.string()
			d.bytes()
		}
	}
	if d.err != nil {
		return d.err
	}
	f.Body = d.b
	return nil
}

// request encodes a request frame.
func request(version byte, stream int16, opcode byte, body []byte) []byte {
	b := make([]byte, headerLen, headerLen+len(body))
	b[0] = version
	binary.BigEndian.PutUint16(b[2:4], uint16(stream))
	b[4] = opcode
	binary.BigEndian.PutUint32(b[5:9], uint32(len(body)))
	return append(b, body...)
}

// encoder builds request bodies.
type encoder struct{ b []byte }

func (e *encoder) short(v int) { e.b = binary.BigEndian.AppendUint16(e.b, uint16(v)) }
func (e *encoder) int(v int)   { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *encoder) byte(v byte) { e.b = append(e.b, v) }

func (e *encoder) string(s string) {
	e.short(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) longString(s string) {
	e.int(len(s))
	e.b = append(e.b, s...)
}

func (e *encoder) bytes(p []byte) {
	if p == nil {
		e.int(-1)
		return
	}
	e.int(len(p))
	e.b = append(e.b, p...)
}

func (e *encoder) stringMap(m [][2]string) {
	e.short(len(m))
	for _, kv := range m {
		e.string(kv[0])
		e.string(kv[1])
	}
}

// decoder reads body primitives; the first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: truncated %s", errMalformed, what)
	}
	d.b = nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.fail("value")
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) short() int {
	p := d.take(2)
	if p == nil {
		return 0
	}
	return int(binary.BigEndian.Uint16(p))
}

func (d *decoder) int() int32 {
	p := d.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (d *decoder) string() string { return string(d.take(d.short())) }

func (d *decoder) longString() string {
	n := d.int()
	if n < 0 {
		return ""
	}
	return string(d.take(int(n)))
}

// bytes reads [bytes]; a negative length is null (nil).
func (d *decoder) bytes() []byte {
	n := d.int()
	if n < 0 || d.err != nil {
		return nil
	}
	p := d.take(int(n))
	if p == nil && d.err == nil {
		return []byte{}
	}
	return p
}

func (d *decoder) stringList() []string {
	n := d.short()
	// every element takes at least its 2-byte length
	if n*2 > len(d.b) {
		d.fail("string list")
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, d.string())
	}
	return out
}

// stringMultimap reads a [string multimap] (the SUPPORTED body).
func (d *decoder) stringMultimap() map[string][]string {
	n := d.short()
	if n*4 > len(d.b) {
		d.fail("string multimap")
		return nil
	}
	m := make(map[string][]string, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.string()
		m[k] = d.stringList()
	}
	return m
}

// cqlError is an ERROR response.
type cqlError struct {
	Code    int32
	Message string
}

func (e *cqlError) Error() string { return fmt.Sprintf("cql error %#04x: %s", e.Code, e.Message) }

func parseError(body []byte) *cqlError {
	d := &decoder{b: body}
	e := &cqlError{Code: d.int(), Message: d.string()}
	if d.err != nil && e.Message == "" {
		e.Message = "(malformed error body)"
	}
	return e
}

// parseSupported decodes a SUPPORTED body.
func parseSupported(body []byte) (map[string][]string, error) {
	d := &decoder{b: body}
	m := d.stringMultimap()
	return m, d.err
}

// parseAuthenticate decodes an AUTHENTICATE body: the authenticator class.
func parseAuthenticate(body []byte) (string, error) {
	d := &decoder{b: body}
	s := d.string()
	return s, d.err
}
