package mysql

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// This file parses what a MySQL-protocol server (MySQL, MariaDB, Percona,
// TiDB, ...) sends first on a new connection: the initial handshake packet
// (protocol 10), or an error packet when it refuses the client outright
// ("Host '…' is not allowed to connect", "Too many connections").

// maxGreeting bounds the greeting packet; real ones are about 100 bytes.
const maxGreeting = 4096

// Capability flags used here.
const (
	capProtocol41 = 0x00000200
	capSSL        = 0x00000800
	capPluginAuth = 0x00080000
)

// errNotMySQL means the peer's first bytes are not a MySQL greeting.
var errNotMySQL = errors.New("not a mysql greeting")

// greeting is the decoded initial handshake packet.
type greeting struct {
	Protocol      byte
	ServerVersion string
	ConnectionID  uint32
	Capabilities  uint32
	Charset       byte
	Status        uint16
	AuthPlugin    string
}

// errPacket is a server error sent instead of a greeting.
type errPacket struct {
	Code    uint16
	Message string
}

func (e *errPacket) Error() string { return fmt.Sprintf("error %d: %s", e.Code, e.Message) }

// readPacket reads one packet (3-byte little-endian length, sequence id,
// payload) of at most limit payload bytes. It returns the raw bytes read
// and the payload.
func readPacket(r io.Reader, limit int) ([]byte, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, nil, err
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	if n < 2 || n > limit || hdr[3] != 0 {
		return nil, nil, fmt.Errorf("%w: packet length %d sequence %d", errNotMySQL, n, hdr[3])
	}
	raw := make([]byte, 4+n)
	copy(raw, hdr[:])
	// Judge the first payload byte before waiting for the rest, so another
	// protocol's short banner is told apart at once.
	if _, err := io.ReadFull(r, raw[4:5]); err != nil {
		return nil, nil, err
	}
	if b := raw[4]; b != 10 && b != 9 && b != 0xff {
		return nil, nil, fmt.Errorf("%w: protocol byte %#x", errNotMySQL, b)
	}
	if _, err := io.ReadFull(r, raw[5:]); err != nil {
		return nil, nil, err
	}
	return raw, raw[4:], nil
}

// parseGreeting decodes the first packet's payload: a handshake (protocol
// 10, or the ancient 9) or an error packet.
func parseGreeting(p []byte) (*greeting, *errPacket, error) {
	if len(p) == 0 {
		return nil, nil, fmt.Errorf("%w: empty packet", errNotMySQL)
	}
	switch p[0] {
	case 0xff:
		e, err := parseErrPacket(p)
		return nil, e, err
	case 10, 9:
		g, err := parseHandshake(p)
		return g, nil, err
	}
	return nil, nil, fmt.Errorf("%w: protocol byte %#x", errNotMySQL, p[0])
}

// parseErrPacket decodes 0xff, error code, [#sqlstate], message.
func parseErrPacket(p []byte) (*errPacket, error) {
	if len(p) < 4 {
		return nil, fmt.Errorf("%w: short error packet", errNotMySQL)
	}
	e := &errPacket{Code: binary.LittleEndian.Uint16(p[1:3])}
	msg := p[3:]
	if msg[0] == '#' && len(msg) >= 6 {
		msg = msg[6:]
	}
	if e.Code < 1000 || e.Code >= 10000 || !printable(msg) {
		return nil, fmt.Errorf("%w: implausible error packet", errNotMySQL)
	}
	e.Message = string(msg)
	return e, nil
}

// parseHandshake decodes a handshake packet. Protocol 9 carries only the
// version and connection id; protocol 10 adds capabilities and the
// authentication plugin.
func parseHandshake(p []byte) (*greeting, error) {
	g := &greeting{Protocol: p[0]}
	rest := p[1:]
	i := bytes.IndexByte(rest, 0)
	if i <= 0 || i > 128 || !printable(rest[:i]) {
		return nil, fmt.Errorf("%w: bad server version", errNotMySQL)
	}
	g.ServerVersion = string(rest[:i])
	if !strings.ContainsAny(g.ServerVersion[:1], "0123456789") {
		return nil, fmt.Errorf("%w: server version %q", errNotMySQL, g.ServerVersion)
	}
	rest = rest[i+1:]
	if len(rest) < 4 {
		return nil, fmt.Errorf("%w: short handshake", errNotMySQL)
	}
	g.ConnectionID = binary.LittleEndian.Uint32(rest)
	rest = rest[4:]
	if g.Protocol == 9 {
		return g, nil
	}
	// 8 bytes of scramble, a zero filler, 2 capability bytes.
	if len(rest) < 11 || rest[8] != 0 {
		return nil, fmt.Errorf("%w: bad handshake filler", errNotMySQL)
	}
	g.Capabilities = uint32(binary.LittleEndian.Uint16(rest[9:11]))
	rest = rest[11:]
	if len(rest) < 16 {
		return g, nil // pre-4.1 servers may end here
	}
	g.Charset = rest[0]
	g.Status = binary.LittleEndian.Uint16(rest[1:3])
	g.Capabilities |= uint32(binary.LittleEndian.Uint16(rest[3:5])) << 16
	scrambleLen := int(rest[5])
	rest = rest[16:] // length byte and 10 reserved bytes
	if g.Capabilities&capProtocol41 != 0 {
		n := max(13, scrambleLen-8)
		if len(rest) < n {
			return g, nil
		}
		rest = rest[n:]
	}
	if g.Capabilities&capPluginAuth != 0 {
		if j := bytes.IndexByte(rest, 0); j >= 0 {
			rest = rest[:j]
		}
		if printable(rest) {
			g.AuthPlugin = string(rest)
		}
	}
	return g, nil
}

// printable tells whether b is printable ASCII or UTF-8 text without
// control characters.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// product names the server software from its version string.
func product(version string) string {
	v := strings.ToLower(version)
	switch {
	case strings.Contains(v, "mariadb"):
		return "mariadb"
	case strings.Contains(v, "tidb"):
		return "tidb"
	}
	return "mysql"
}

// cleanVersion drops MariaDB's "5.5.5-" replication prefix and the build
// suffix: "5.5.5-10.11.19-MariaDB-0+deb12u1" → "10.11.19".
func cleanVersion(version string) string {
	v := strings.TrimPrefix(version, "5.5.5-")
	if i := strings.IndexAny(v, "-+ "); i > 0 {
		v = v[:i]
	}
	return v
}
