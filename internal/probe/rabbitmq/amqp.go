package rabbitmq

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// AMQP 0-9-1 framing (only what the connection handshake needs).
// A frame is: type (1), channel (2), size (4), payload (size), 0xCE.
// A method payload is: class-id (2), method-id (2), arguments.

// protocolHeader opens an AMQP 0-9-1 connection.
var protocolHeader = []byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1}

const (
	frameMethod = 1
	frameEnd    = 0xCE

	classConnection = 10
	methodStart     = 10
	methodStartOk   = 11
	methodTune      = 30
	methodTuneOk    = 31
	methodOpen      = 40
	methodOpenOk    = 41
	methodClose     = 50
	methodCloseOk   = 51

	// maxFrame bounds a handshake frame (Connection.Start is < 1 KiB).
	maxFrame = 64 << 10
	// maxTableDepth bounds nested field tables.
	maxTableDepth = 8
)

// errProtocolHeader means the peer answered with its own protocol header
// (it speaks AMQP, but another version, e.g. 1.0).
var errProtocolHeader = errors.New("peer answered with a protocol header")

// frame is one AMQP frame.
type frame struct {
	Type    byte
	Channel uint16
	Payload []byte
}

// readFrame reads one frame of at most maxFrame payload bytes.
func readFrame(r io.Reader) (frame, error) {
	var h [7]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return frame{}, fmt.Errorf("read frame header: %w", err)
	}
	if bytes.Equal(h[:4], []byte("AMQP")) {
		var rest [1]byte
		_, _ = io.ReadFull(r, rest[:])
		return frame{}, fmt.Errorf("%w: AMQP %d.%d.%d", errProtocolHeader, h[5], h[6], rest[0])
	}
	f := frame{Type: h[0], Channel: binary.BigEndian.Uint16(h[1:])}
	size := binary.BigEndian.Uint32(h[3:])
	if size > maxFrame {
		return frame{}, fmt.Errorf("frame of %d bytes exceeds %d", size, maxFrame)
	}
	buf := make([]byte, size+1)
	if _, err := io.ReadFull(r, buf); err != nil {
		return frame{}, fmt.Errorf("read frame: %w", err)
	}
	if buf[size] != frameEnd {
		return frame{}, fmt.Errorf("bad frame end 0x%02x", buf[size])
	}
	f.Payload = buf[:size]
	return f, nil
}

// methodFrame builds a method frame on channel 0.
func methodFrame(class, method uint16, args []byte) []byte {
	payload := binary.BigEndian.AppendUint16(nil, class)
	payload = binary.BigEndian.AppendUint16(payload, method)
	payload = append(payload, args...)
	b := []byte{frameMethod, 0, 0}
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return append(b, frameEnd)
}

// methodID returns the class and method of a method frame.
func methodID(f frame) (class, method uint16, args []byte, err error) {
	if f.Type != frameMethod || len(f.Payload) < 4 {
		return 0, 0, nil, fmt.Errorf("not a method frame (type %d, %d bytes)", f.Type, len(f.Payload))
	}
	return binary.BigEndian.Uint16(f.Payload), binary.BigEndian.Uint16(f.Payload[2:]), f.Payload[4:], nil
}

// start is a decoded Connection.Start.
type start struct {
	VersionMajor, VersionMinor byte
	Properties                 map[string]any
	Mechanisms                 string
	Locales                    string
}

// parseStart decodes a Connection.Start frame.
func parseStart(f frame) (*start, error) {
	class, method, args, err := methodID(f)
	if err != nil {
		return nil, err
	}
	if class != classConnection || method != methodStart {
		return nil, fmt.Errorf("method %d.%d, want Connection.Start", class, method)
	}
	d := &decoder{b: args}
	s := &start{VersionMajor: d.octet(), VersionMinor: d.octet()}
	s.Properties = d.table(0)
	s.Mechanisms = d.longString()
	s.Locales = d.longString()
	if d.err != nil {
		return nil, fmt.Errorf("Connection.Start: %w", d.err)
	}
	return s, nil
}

// parseClose decodes the reply code and text of a Connection.Close.
func parseClose(args []byte) (uint16, string) {
	d := &decoder{b: args}
	code := d.short()
	text := d.shortString()
	return code, text
}

// decoder reads AMQP field values; the first error sticks.
type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("short field")

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) octet() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *decoder) short() uint16 {
	if v := d.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) long() uint32 {
	if v := d.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) longlong() uint64 {
	if v := d.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) shortString() string { return string(d.take(int(d.octet()))) }

func (d *decoder) longString() string {
	n := d.long()
	if n > math.MaxInt32 {
		d.err = errShort
		return ""
	}
	return string(d.take(int(n)))
}

// table reads a field table into a map.
func (d *decoder) table(depth int) map[string]any {
	n := d.long()
	if d.err != nil {
		return nil
	}
	if n > uint32(len(d.b)) {
		d.err = errShort
		return nil
	}
	sub := &decoder{b: d.take(int(n))}
	out := map[string]any{}
	for len(sub.b) > 0 && sub.err == nil {
		key := sub.shortString()
		v := sub.value(depth + 1)
		if sub.err == nil {
			out[key] = v
		}
	}
	if sub.err != nil {
		d.err = sub.err
	}
	return out
}

// value reads one typed field value (RabbitMQ's type letters).
func (d *decoder) value(depth int) any {
	if depth > maxTableDepth {
		d.err = errors.New("field tables nested too deep")
		return nil
	}
	switch t := d.octet(); t {
	case 't':
		return d.octet() != 0
	case 'b', 'B':
		return int64(d.octet())
	case 's', 'u':
		return int64(d.short())
	case 'I':
		return int64(int32(d.long()))
	case 'i':
		return int64(d.long())
	case 'l':
		return int64(d.longlong())
	case 'f':
		return float64(math.Float32frombits(d.long()))
	case 'd':
		return math.Float64frombits(d.longlong())
	case 'D':
		scale := d.octet()
		v := d.long()
		return strconv.FormatUint(uint64(v), 10) + "e-" + strconv.Itoa(int(scale))
	case 'S', 'x':
		return d.longString()
	case 'T':
		return int64(d.longlong())
	case 'F':
		return d.table(depth)
	case 'A':
		n := d.long()
		if n > uint32(len(d.b)) {
			d.err = errShort
			return nil
		}
		sub := &decoder{b: d.take(int(n))}
		var arr []any
		for len(sub.b) > 0 && sub.err == nil {
			arr = append(arr, sub.value(depth+1))
		}
		if sub.err != nil {
			d.err = sub.err
		}
		return arr
	case 'V':
		return nil
	default:
		if d.err == nil {
			d.err = fmt.Errorf("unknown field type %q", t)
		}
		return nil
	}
}

// Encoders for the handshake replies.

func appendShortString(b []byte, s string) []byte {
	if len(s) > 255 {
		s = s[:255]
	}
	return append(append(b, byte(len(s))), s...)
}

func appendLongString(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint32(b, uint32(len(s))), s...)
}

// startOk answers Connection.Start with PLAIN credentials.
func startOk(user, pass string) []byte {
	props := appendShortString(nil, "product")
	props = append(props, 'S')
	props = appendLongString(props, "leakwatch")
	// authentication_failure_close: a refused login gets Connection.Close
	// (403) at once instead of a silently closed socket.
	caps := appendShortString(nil, "authentication_failure_close")
	caps = append(caps, 't', 1)
	props = appendShortString(props, "capabilities")
	props = append(props, 'F')
	props = binary.BigEndian.AppendUint32(props, uint32(len(caps)))
	props = append(props, caps...)
	args := binary.BigEndian.AppendUint32(nil, uint32(len(props)))
	args = append(args, props...)
	args = appendShortString(args, "PLAIN")
	args = appendLongString(args, "\x00"+user+"\x00"+pass)
	args = appendShortString(args, "en_US")
	return methodFrame(classConnection, methodStartOk, args)
}

// tuneOk accepts the server's channel and frame limits, no heartbeats.
func tuneOk(tuneArgs []byte) []byte {
	d := &decoder{b: tuneArgs}
	channelMax, frameMax := d.short(), d.long()
	args := binary.BigEndian.AppendUint16(nil, channelMax)
	args = binary.BigEndian.AppendUint32(args, frameMax)
	args = binary.BigEndian.AppendUint16(args, 0)
	return methodFrame(classConnection, methodTuneOk, args)
}

// open asks for a virtual host.
func open(vhost string) []byte {
	args := appendShortString(nil, vhost)
	args = appendShortString(args, "")
	args = append(args, 0)
	return methodFrame(classConnection, methodOpen, args)
}

// closeConn closes the connection normally (reply-code 200).
func closeConn() []byte {
	args := binary.BigEndian.AppendUint16(nil, 200)
	args = appendShortString(args, "leakwatch done")
	args = binary.BigEndian.AppendUint16(args, 0)
	args = binary.BigEndian.AppendUint16(args, 0)
	return methodFrame(classConnection, methodClose, args)
}
