package redis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RESP2 wire codec: just enough of the Redis serialization protocol to send
// commands and read bounded replies. Every length the peer announces is
// checked against limits before anything is allocated or read.

// Reply kinds (the RESP2 type bytes).
const (
	kindSimple = '+'
	kindError  = '-'
	kindInt    = ':'
	kindBulk   = '$'
	kindArray  = '*'
)

// maxLine bounds one protocol line (simple string, error, header).
const maxLine = 64 << 10

// ErrTooLarge means the peer announced a reply bigger than allowed. The
// connection is unusable afterwards: the rest of the reply was not read.
var ErrTooLarge = errors.New("reply exceeds limit")

// errProtocol marks bytes that are not RESP.
var errProtocol = errors.New("not a RESP reply")

// value is one decoded reply.
type value struct {
	kind  byte
	str   string // simple string, error text, bulk string
	num   int64
	elems []value
	null  bool // null bulk string or null array
}

// isError tells whether v is an error reply.
func (v value) isError() bool { return v.kind == kindError }

// text is the reply as a string for simple, error and bulk replies.
func (v value) text() string { return v.str }

// limits bound what readValue accepts.
type limits struct {
	// maxBytes bounds the bulk string bytes of one reply, all elements
	// together.
	maxBytes int64
	// maxElems is the largest array accepted (counting nested elements).
	maxElems int
	// maxDepth bounds nesting.
	maxDepth int
}

// respReader decodes replies from r.
type respReader struct {
	r *bufio.Reader
}

func newRespReader(r io.Reader) *respReader {
	return &respReader{r: bufio.NewReaderSize(r, maxLine)}
}

// readValue reads one reply within lim.
func (rr *respReader) readValue(lim limits) (value, error) {
	b := &replyBudget{elems: lim.maxElems, bytes: lim.maxBytes}
	return rr.read(lim, 0, b)
}

// replyBudget is what is left of one reply's limits while it is decoded.
type replyBudget struct {
	elems int
	bytes int64
}

func (rr *respReader) read(lim limits, depth int, b *replyBudget) (value, error) {
	line, err := rr.line()
	if err != nil {
		return value{}, err
	}
	if len(line) == 0 {
		return value{}, fmt.Errorf("empty line: %w", errProtocol)
	}
	v := value{kind: line[0]}
	rest := string(line[1:])
	switch line[0] {
	case kindSimple, kindError:
		v.str = rest
		return v, nil
	case kindInt:
		n, err := strconv.ParseInt(rest, 10, 64)
		if err != nil {
			return value{}, fmt.Errorf("integer %q: %w", trim(rest), errProtocol)
		}
		v.num = n
		return v, nil
	case kindBulk:
		return rr.bulk(v, rest, b)
	case kindArray:
		return rr.array(v, rest, lim, depth, b)
	}
	return value{}, fmt.Errorf("type byte %q: %w", line[0], errProtocol)
}

func (rr *respReader) bulk(v value, header string, b *replyBudget) (value, error) {
	n, err := strconv.ParseInt(header, 10, 64)
	if err != nil || n < -1 {
		return value{}, fmt.Errorf("bulk length %q: %w", trim(header), errProtocol)
	}
	if n == -1 {
		v.null = true
		return v, nil
	}
	if n > b.bytes {
		return value{}, fmt.Errorf("bulk string of %d bytes: %w", n, ErrTooLarge)
	}
	b.bytes -= n
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(rr.r, buf); err != nil {
		return value{}, fmt.Errorf("bulk body: %w", err)
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return value{}, fmt.Errorf("bulk string not terminated: %w", errProtocol)
	}
	v.str = string(buf[:n])
	return v, nil
}

func (rr *respReader) array(v value, header string, lim limits, depth int, b *replyBudget) (value, error) {
	n, err := strconv.ParseInt(header, 10, 64)
	if err != nil || n < -1 {
		return value{}, fmt.Errorf("array length %q: %w", trim(header), errProtocol)
	}
	if n == -1 {
		v.null = true
		return v, nil
	}
	if depth >= lim.maxDepth {
		return value{}, fmt.Errorf("array nesting deeper than %d: %w", lim.maxDepth, ErrTooLarge)
	}
	if n > int64(b.elems) {
		return value{}, fmt.Errorf("array of %d elements: %w", n, ErrTooLarge)
	}
	b.elems -= int(n)
	v.elems = make([]value, 0, n)
	for i := int64(0); i < n; i++ {
		e, err := rr.read(lim, depth+1, b)
		if err != nil {
			return value{}, err
		}
		v.elems = append(v.elems, e)
	}
	return v, nil
}

// line reads up to CRLF, without it.
func (rr *respReader) line() ([]byte, error) {
	b, err := rr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("line longer than %d bytes: %w", maxLine, errProtocol)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(b) > 0 {
			return nil, fmt.Errorf("unterminated line: %w", io.ErrUnexpectedEOF)
		}
		return nil, err
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return nil, fmt.Errorf("line not ended by CRLF: %w", errProtocol)
	}
	return b[:len(b)-2], nil
}

// appendCommand encodes one command as a RESP array of bulk strings.
func appendCommand(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// trim shortens peer text quoted in error messages.
func trim(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
