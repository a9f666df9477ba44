package rsync

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The daemon's text phase: "@RSYNCD: <major>.<minor> [digests]\n", then
// the client's own greeting and a module name (or "#list"); the daemon
// answers with lines ending in "@RSYNCD: OK", "@RSYNCD: AUTHREQD <chal>",
// "@RSYNCD: EXIT" or "@ERROR: ...".

const (
	greetPrefix = "@RSYNCD: "
	maxLine     = 4096
	// clientProtocol is the protocol leakwatch speaks after the text
	// phase: 29 needs no varints, compat flags or checksum negotiation,
	// and every rsync from 2.6.0 to today still serves it.
	clientProtocol = 29
)

var errNotRsync = errors.New("not an rsync daemon")

// greeting is the daemon's first line.
type greeting struct {
	Major, Minor int
	Digests      []string
}

// parseGreeting parses "@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4".
func parseGreeting(line string) (greeting, error) {
	rest, ok := strings.CutPrefix(line, greetPrefix)
	if !ok {
		return greeting{}, fmt.Errorf("%w: %q", errNotRsync, truncate(line, 40))
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return greeting{}, fmt.Errorf("%w: empty version", errNotRsync)
	}
	maj, minor, _ := strings.Cut(fields[0], ".")
	var g greeting
	var err error
	if g.Major, err = strconv.Atoi(maj); err != nil || g.Major < 1 || g.Major > 1000 {
		return greeting{}, fmt.Errorf("%w: version %q", errNotRsync, truncate(fields[0], 20))
	}
	if minor != "" {
		if g.Minor, err = strconv.Atoi(minor); err != nil || g.Minor < 0 {
			return greeting{}, fmt.Errorf("%w: version %q", errNotRsync, truncate(fields[0], 20))
		}
	}
	g.Digests = fields[1:]
	if len(g.Digests) > 16 {
		g.Digests = g.Digests[:16]
	}
	return g, nil
}

// readLine reads one '\n'-terminated line of at most maxLine bytes.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("rsync: line over %d bytes", maxLine)
		}
		if !isPrefix {
			return strings.TrimRight(string(b), "\r"), nil
		}
	}
}

// module is one entry of the daemon's module list.
type module struct {
	Name    string
	Comment string
}

// parseModuleLine parses "name<spaces>\tcomment" from a "#list" answer.
func parseModuleLine(line string) (module, bool) {
	if strings.HasPrefix(line, "@") || strings.TrimSpace(line) == "" {
		return module{}, false
	}
	name, comment, _ := strings.Cut(line, "\t")
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, "/\x00\n") || len(name) > 256 {
		return module{}, false
	}
	return module{Name: name, Comment: strings.TrimSpace(comment)}, true
}

// answer is the daemon's verdict on a module request.
type answer int

const (
	answerOK answer = iota
	answerAuth
	answerError
	answerExit
)

// classifyLine tells whether a text-phase line ends the phase.
func classifyLine(line string) (answer, bool) {
	switch {
	case line == "@RSYNCD: OK":
		return answerOK, true
	case strings.HasPrefix(line, "@RSYNCD: AUTHREQD"):
		return answerAuth, true
	case line == "@RSYNCD: EXIT":
		return answerExit, true
	case strings.HasPrefix(line, "@ERROR"):
		return answerError, true
	}
	return 0, false
}

// Multiplexed stream (protocol >= 23, server to client): frames with a
// 4-byte little-endian header, tag in the top byte (MPLEX_BASE 7 + code),
// length in the low 24 bits. Code 0 is data; others are messages.
const (
	mplexBase = 7
	msgData   = 0
	msgError  = 3
	// maxMessages bounds the non-data frames skipped in a row.
	maxMessages = 1024
)

// demux is an io.Reader over the data frames of a multiplexed stream.
type demux struct {
	r      io.Reader
	left   int
	errors int // MSG_ERROR / MSG_ERROR_XFER frames seen
}

func (d *demux) Read(p []byte) (int, error) {
	skipped := 0
	for d.left == 0 {
		var hdr [4]byte
		if _, err := io.ReadFull(d.r, hdr[:]); err != nil {
			return 0, err
		}
		h := binary.LittleEndian.Uint32(hdr[:])
		tag := int(h>>24) - mplexBase
		n := int(h & 0xFFFFFF)
		if tag < 0 {
			return 0, fmt.Errorf("rsync: bad multiplex tag %d", h>>24)
		}
		if tag == msgData {
			d.left = n
			continue
		}
		if tag == 1 || tag == msgError {
			d.errors++
		}
		if skipped++; skipped > maxMessages {
			return 0, errors.New("rsync: too many multiplexed messages")
		}
		if _, err := io.CopyN(io.Discard, d.r, int64(n)); err != nil {
			return 0, err
		}
	}
	if len(p) > d.left {
		p = p[:d.left]
	}
	n, err := d.r.Read(p)
	d.left -= n
	return n, err
}

// Protocol-29 file list flags (rsync.h XMIT_*).
const (
	xmitTopDir        = 1 << 0
	xmitSameMode      = 1 << 1
	xmitExtendedFlags = 1 << 2
	xmitSameName      = 1 << 5
	xmitLongName      = 1 << 6
	xmitSameTime      = 1 << 7
	maxNameLen        = 4096
)

// fileEntry is one file list entry.
type fileEntry struct {
	Name string
	Size int64
	Mode uint32
}

// IsDir and IsRegular read the Unix mode bits sent on the wire.
func (e fileEntry) IsDir() bool     { return e.Mode&0o170000 == 0o040000 }
func (e fileEntry) IsRegular() bool { return e.Mode&0o170000 == 0o100000 }

// readFileList decodes a protocol-29 file list sent for "--server
// --sender -r" (no -o/-g/-l/-D/-H/-c, so entries carry only name, size,
// mtime and mode). It keeps at most max entries and stops reading there;
// complete tells whether the end-of-list marker was reached.
func readFileList(r io.Reader, max int) (entries []fileEntry, complete bool, err error) {
	var (
		prev string
		mode uint32
		b1   [1]byte
	)
	for len(entries) < max {
		flags, err := readByte(r, b1[:])
		if err != nil {
			return entries, false, err
		}
		if flags == 0 {
			return entries, true, nil
		}
		xf := int(flags)
		if xf&xmitExtendedFlags != 0 {
			hi, err := readByte(r, b1[:])
			if err != nil {
				return entries, false, err
			}
			xf |= int(hi) << 8
		}
		var l1 int
		if xf&xmitSameName != 0 {
			v, err := readByte(r, b1[:])
			if err != nil {
				return entries, false, err
			}
			l1 = int(v)
		}
		var l2 int
		if xf&xmitLongName != 0 {
			v, err := readInt32(r)
			if err != nil {
				return entries, false, err
			}
			l2 = int(v)
		} else {
			v, err := readByte(r, b1[:])
			if err != nil {
				return entries, false, err
			}
			l2 = int(v)
		}
		if l1 > len(prev) || l2 < 0 || l1+l2 > maxNameLen {
			return entries, false, fmt.Errorf("rsync: bad file name lengths %d+%d", l1, l2)
		}
		buf := make([]byte, l2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return entries, false, err
		}
		name := prev[:l1] + string(buf)
		prev = name
		size, err := readLongint(r)
		if err != nil {
			return entries, false, err
		}
		if xf&xmitSameTime == 0 {
			if _, err := readInt32(r); err != nil {
				return entries, false, err
			}
		}
		if xf&xmitSameMode == 0 {
			m, err := readInt32(r)
			if err != nil {
				return entries, false, err
			}
			mode = uint32(m)
		}
		entries = append(entries, fileEntry{Name: name, Size: size, Mode: mode})
	}
	return entries, false, nil
}

func readByte(r io.Reader, b []byte) (byte, error) {
	if _, err := io.ReadFull(r, b[:1]); err != nil {
		return 0, err
	}
	return b[0], nil
}

func readInt32(r io.Reader) (int32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return int32(binary.LittleEndian.Uint32(b[:])), nil
}

// readLongint reads a protocol < 30 64-bit value: an int32, or -1 followed
// by an int64.
func readLongint(r io.Reader) (int64, error) {
	v, err := readInt32(r)
	if err != nil {
		return 0, err
	}
	if v != -1 {
		return int64(v), nil
	}
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return int64(binary.LittleEndian.Uint64(b[:])), nil
}

// readTokens reads a file's data as sent for an empty basis: literal runs
// (int32 length > 0, then bytes) ending with int32 0. It keeps at most
// limit bytes; complete is false when it stopped at the limit.
func readTokens(r io.Reader, limit int64) (data []byte, complete bool, err error) {
	for {
		n, err := readInt32(r)
		if err != nil {
			return data, false, err
		}
		if n == 0 {
			return data, true, nil
		}
		if n < 0 {
			return data, false, fmt.Errorf("rsync: block-match token %d without a basis", n)
		}
		take := min(int64(n), limit-int64(len(data)))
		chunk := make([]byte, take)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return data, false, err
		}
		data = append(data, chunk...)
		if int64(n) > take {
			return data, false, nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
