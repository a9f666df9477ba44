package memcached

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// Wire formats of memcached: the binary protocol header (only for VERSION
// and STAT, which is how a SASL-only server is recognised) and the ASCII
// protocol's line replies.

const (
	magicRequest  = 0x80
	magicResponse = 0x81
	opVersion     = 0x0b
	opStat        = 0x10
	headerLen     = 24

	// statusAuthError and statusAuthContinue are the binary protocol's
	// "authentication required" answers.
	statusAuthError    = 0x20
	statusAuthContinue = 0x21

	// maxLine bounds one ASCII reply line.
	maxLine = 8 << 10
	// maxBody bounds one binary response body.
	maxBody = 64 << 10
)

// errProtocol marks bytes that are not memcached's.
var errProtocol = errors.New("not a memcached reply")

// binRequest encodes a binary request without key, extras or value. The
// opaque field carries CR LF so that a server speaking only ASCII sees the
// request as one (unknown) command line and answers ERROR at once instead
// of waiting for a line end.
func binRequest(op byte) []byte {
	b := make([]byte, headerLen)
	b[0], b[1] = magicRequest, op
	copy(b[12:16], "\r\n\r\n")
	return b
}

// binResponse is one decoded binary response.
type binResponse struct {
	opcode byte
	status uint16
	key    string
	value  string
}

// readBinResponse reads one binary response, the first byte included.
func readBinResponse(r io.Reader) (binResponse, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return binResponse{}, fmt.Errorf("binary header: %w", err)
	}
	return parseBinResponse(h[:], r)
}

// parseBinResponse decodes a header and reads the body it announces.
func parseBinResponse(h []byte, r io.Reader) (binResponse, error) {
	if len(h) < headerLen || h[0] != magicResponse {
		return binResponse{}, fmt.Errorf("binary magic: %w", errProtocol)
	}
	keyLen := int(binary.BigEndian.Uint16(h[2:4]))
	extLen := int(h[4])
	body := binary.BigEndian.Uint32(h[8:12])
	if body > maxBody || int(body) < keyLen+extLen {
		return binResponse{}, fmt.Errorf("binary body of %d bytes: %w", body, errProtocol)
	}
	buf := make([]byte, body)
	if _, err := io.ReadFull(r, buf); err != nil {
		return binResponse{}, fmt.Errorf("binary body: %w", err)
	}
	return binResponse{
		opcode: h[1],
		status: binary.BigEndian.Uint16(h[6:8]),
		key:    string(buf[extLen : extLen+keyLen]),
		value:  string(buf[extLen+keyLen:]),
	}, nil
}

// readLine reads one CRLF-terminated ASCII line, without the CRLF.
func readLine(r *bufio.Reader) (string, error) {
	b, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("line longer than %d bytes: %w", r.Size(), errProtocol)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// parseStat parses "STAT name value"; ok is false for other lines.
func parseStat(line string) (name, val string, ok bool) {
	rest, ok := strings.CutPrefix(line, "STAT ")
	if !ok {
		return "", "", false
	}
	name, val, _ = strings.Cut(rest, " ")
	return name, val, name != ""
}

// item is one line of "lru_crawler metadump".
type item struct {
	key  string
	size int64
}

// parseMetadump parses "key=<url-encoded> exp=-1 la=.. cas=.. fetch=no
// cls=1 size=63"; ok is false for other lines.
func parseMetadump(line string) (item, bool) {
	var it item
	it.size = -1
	found := false
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "key":
			key, err := url.QueryUnescape(v)
			if err != nil || key == "" {
				return item{}, false
			}
			it.key, found = key, true
		case "size":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				it.size = n
			}
		}
	}
	return it, found
}

// valueHeader is "VALUE <key> <flags> <bytes> [<cas>]".
type valueHeader struct {
	key   string
	bytes int64
}

// parseValueHeader parses the header line of one get result.
func parseValueHeader(line string) (valueHeader, error) {
	f := strings.Fields(line)
	if len(f) < 4 || f[0] != "VALUE" {
		return valueHeader{}, fmt.Errorf("value header %q: %w", trim(line), errProtocol)
	}
	n, err := strconv.ParseInt(f[3], 10, 64)
	if err != nil || n < 0 {
		return valueHeader{}, fmt.Errorf("value length %q: %w", trim(f[3]), errProtocol)
	}
	return valueHeader{key: f[1], bytes: n}, nil
}

// validKey tells whether a key can be sent in an ASCII command.
func validKey(k string) bool {
	if k == "" || len(k) > 250 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= ' ' || k[i] == 0x7f {
			return false
		}
	}
	return true
}

// trim shortens peer text quoted in errors.
func trim(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
