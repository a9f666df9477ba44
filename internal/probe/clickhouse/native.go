package clickhouse

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// This file speaks the first steps of ClickHouse's native TCP protocol
// (port 9000): the client's Hello, the server's Hello or Exception, and
// Ping/Pong. Strings are a uvarint length and bytes; integers uvarints,
// except the exception code (little-endian int32).

// nativeRevision is the protocol revision the client announces (that of
// ClickHouse 18.16). The server answers in the lower of its revision and
// this one, so the answer's shape is known.
const nativeRevision = 54412

// Packet types.
const (
	clientHello = 0
	clientPing  = 4

	serverHello     = 0
	serverException = 2
	serverPong      = 4
)

// Revisions at which the server Hello grew fields.
const (
	revWithTimezone    = 54058
	revWithDisplayName = 54372
	revWithPatch       = 54401
)

// maxNativeString bounds one string in a server packet.
const maxNativeString = 64 << 10

// maxNested bounds nested exceptions.
const maxNested = 8

// errNotNative means the peer does not speak the native protocol.
var errNotNative = errors.New("not a clickhouse native protocol answer")

// nativeHello is the server's Hello.
type nativeHello struct {
	Name         string
	Major, Minor uint64
	Revision     uint64
	Patch        uint64
	Timezone     string
	DisplayName  string
}

// Version is major.minor.patch.
func (h *nativeHello) Version() string {
	if h.Patch > 0 {
		return fmt.Sprintf("%d.%d.%d", h.Major, h.Minor, h.Patch)
	}
	return fmt.Sprintf("%d.%d", h.Major, h.Minor)
}

// nativeException is an Exception packet.
type nativeException struct {
	Code    int32
	Name    string
	Message string
}

func (e *nativeException) Error() string {
	return fmt.Sprintf("code %d: %s", e.Code, e.Message)
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendString(b []byte, s string) []byte {
	return append(appendUvarint(b, uint64(len(s))), s...)
}

// buildHello encodes the client Hello: name, version, revision, default
// database, user and password.
func buildHello(user, password string) []byte {
	b := appendUvarint(nil, clientHello)
	b = appendString(b, "leakwatch")
	b = appendUvarint(b, 18)
	b = appendUvarint(b, 16)
	b = appendUvarint(b, nativeRevision)
	b = appendString(b, "")
	b = appendString(b, user)
	return appendString(b, password)
}

// pingPacket is a client Ping.
var pingPacket = []byte{clientPing}

// readUvarint reads a uvarint of at most 10 bytes.
func readUvarint(r *bufio.Reader) (uint64, error) {
	v, err := binary.ReadUvarint(r)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, fmt.Errorf("%w: %v", errNotNative, err)
	}
	return v, err
}

func readString(r *bufio.Reader) (string, error) {
	n, err := readUvarint(r)
	if err != nil {
		return "", err
	}
	if n > maxNativeString {
		return "", fmt.Errorf("%w: string of %d bytes", errNotNative, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// readHelloReply reads the server's answer to a Hello: a Hello or an
// Exception. The first byte must be one of those packet types.
func readHelloReply(r *bufio.Reader) (*nativeHello, *nativeException, error) {
	typ, err := readUvarint(r)
	if err != nil {
		return nil, nil, err
	}
	switch typ {
	case serverHello:
		h, err := readServerHello(r)
		return h, nil, err
	case serverException:
		e, err := readException(r, 0)
		return nil, e, err
	}
	return nil, nil, fmt.Errorf("%w: packet type %d", errNotNative, typ)
}

func readServerHello(r *bufio.Reader) (*nativeHello, error) {
	h := &nativeHello{}
	var err error
	if h.Name, err = readString(r); err != nil {
		return nil, err
	}
	if h.Name == "" || !printable(h.Name) {
		return nil, fmt.Errorf("%w: server name %q", errNotNative, h.Name)
	}
	for _, p := range []*uint64{&h.Major, &h.Minor, &h.Revision} {
		if *p, err = readUvarint(r); err != nil {
			return nil, err
		}
	}
	if h.Revision < 54000 || h.Revision > 60000 {
		return nil, fmt.Errorf("%w: revision %d", errNotNative, h.Revision)
	}
	rev := min(h.Revision, nativeRevision)
	if rev >= revWithTimezone {
		if h.Timezone, err = readString(r); err != nil {
			return nil, err
		}
	}
	if rev >= revWithDisplayName {
		if h.DisplayName, err = readString(r); err != nil {
			return nil, err
		}
	}
	if rev >= revWithPatch {
		if h.Patch, err = readUvarint(r); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// readException reads code, name, message, stack trace and a nested flag;
// the outermost exception is returned.
func readException(r *bufio.Reader, depth int) (*nativeException, error) {
	if depth > maxNested {
		return nil, fmt.Errorf("%w: exceptions nested too deep", errNotNative)
	}
	var code [4]byte
	if _, err := io.ReadFull(r, code[:]); err != nil {
		return nil, err
	}
	e := &nativeException{Code: int32(binary.LittleEndian.Uint32(code[:]))}
	var err error
	if e.Name, err = readString(r); err != nil {
		return nil, err
	}
	if e.Message, err = readString(r); err != nil {
		return nil, err
	}
	if _, err = readString(r); err != nil { // stack trace
		return nil, err
	}
	nested, err := r.ReadByte()
	if err != nil {
		return nil, err
	}
	if e.Code < 0 || !printable(e.Name) {
		return nil, fmt.Errorf("%w: implausible exception", errNotNative)
	}
	if nested != 0 {
		if _, err := readException(r, depth+1); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// readPong reads the answer to a Ping.
func readPong(r *bufio.Reader) error {
	typ, err := readUvarint(r)
	if err != nil {
		return err
	}
	if typ != serverPong {
		return fmt.Errorf("%w: answer to ping is packet %d", errNotNative, typ)
	}
	return nil
}

// printable tells whether s has no control characters.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}
