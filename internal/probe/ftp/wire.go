package ftp

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// reply is one (possibly multi-line) FTP reply.
type reply struct {
	Code  int
	Lines []string // text after the code, one per line
}

// Text joins the reply's lines.
func (r reply) Text() string { return strings.Join(r.Lines, "\n") }

const (
	maxLine       = 4096
	maxReplyLines = 256
)

// errNotFTP means the peer's bytes are not an FTP reply.
var errNotFTP = errors.New("not an FTP reply")

// readReply reads one reply: "ddd text" or "ddd-text" ... "ddd text"
// (RFC 959 §4.2). Lines are capped in length and number.
func readReply(br *bufio.Reader) (reply, error) {
	line, err := readLine(br)
	if err != nil {
		return reply{}, err
	}
	code, sep, text, ok := splitReplyLine(line)
	if !ok {
		return reply{}, fmt.Errorf("%w: %q", errNotFTP, truncate(line, 40))
	}
	r := reply{Code: code, Lines: []string{text}}
	if sep == ' ' {
		return r, nil
	}
	for len(r.Lines) < maxReplyLines {
		line, err := readLine(br)
		if err != nil {
			return r, err
		}
		if c, s, t, ok := splitReplyLine(line); ok && c == code && s == ' ' {
			r.Lines = append(r.Lines, t)
			return r, nil
		}
		r.Lines = append(r.Lines, strings.TrimPrefix(line, " "))
	}
	return r, fmt.Errorf("%w: reply over %d lines", errNotFTP, maxReplyLines)
}

// readLine reads a CRLF- or LF-terminated line of at most maxLine bytes.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLine {
			return "", fmt.Errorf("%w: line over %d bytes", errNotFTP, maxLine)
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// splitReplyLine splits "220 text" / "220-text" / "220".
func splitReplyLine(line string) (int, byte, string, bool) {
	if len(line) < 3 {
		return 0, 0, "", false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, 0, "", false
		}
	}
	if line[0] < '1' || line[0] > '6' {
		return 0, 0, "", false
	}
	code, _ := strconv.Atoi(line[:3])
	if len(line) == 3 {
		return code, ' ', "", true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, "", false
	}
	return code, line[3], line[4:], true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var epsvRE = regexp.MustCompile(`\(([!-~])([!-~])([!-~])(\d{1,5})([!-~])\)`)

// parseEPSV reads the port from "229 Entering Extended Passive Mode
// (|||6446|)" (RFC 2428).
func parseEPSV(text string) (int, error) {
	m := epsvRE.FindStringSubmatch(text)
	if m == nil || m[1] != m[2] || m[2] != m[3] || m[3] != m[5] {
		return 0, fmt.Errorf("bad EPSV reply %q", truncate(text, 80))
	}
	port, err := strconv.Atoi(m[4])
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("bad EPSV port in %q", truncate(text, 80))
	}
	return port, nil
}

var pasvRE = regexp.MustCompile(`(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})`)

// parsePASV reads address and port from "227 Entering Passive Mode
// (h1,h2,h3,h4,p1,p2)".
func parsePASV(text string) (netip.Addr, int, error) {
	m := pasvRE.FindStringSubmatch(text)
	if m == nil {
		return netip.Addr{}, 0, fmt.Errorf("bad PASV reply %q", truncate(text, 80))
	}
	var n [6]int
	for i := range n {
		v, err := strconv.Atoi(m[i+1])
		if err != nil || v > 255 {
			return netip.Addr{}, 0, fmt.Errorf("bad PASV number in %q", truncate(text, 80))
		}
		n[i] = v
	}
	addr := netip.AddrFrom4([4]byte{byte(n[0]), byte(n[1]), byte(n[2]), byte(n[3])})
	port := n[4]<<8 | n[5]
	if port == 0 {
		return netip.Addr{}, 0, fmt.Errorf("PASV port 0 in %q", truncate(text, 80))
	}
	return addr, port, nil
}

// dirEntry is one entry of a directory listing.
type dirEntry struct {
	Name string
	Dir  bool
	Size int64 // -1 when unknown
	// Link is true for symbolic links (never followed).
	Link bool
}

// parseMLSDLine parses "type=file;size=12;modify=2026...; name" (RFC 3659).
func parseMLSDLine(line string) (dirEntry, bool) {
	facts, name, ok := strings.Cut(line, " ")
	if !ok || name == "" || !strings.Contains(facts, "=") {
		return dirEntry{}, false
	}
	e := dirEntry{Name: name, Size: -1}
	typ := ""
	for _, f := range strings.Split(facts, ";") {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "type":
			typ = strings.ToLower(v)
		case "size":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				e.Size = n
			}
		}
	}
	switch {
	case typ == "cdir" || typ == "pdir":
		return dirEntry{}, false
	case typ == "dir":
		e.Dir = true
	case strings.HasPrefix(typ, "os.unix=slink") || strings.HasPrefix(typ, "os.unix=symlink"):
		e.Link = true
	case typ != "file":
		return dirEntry{}, false
	}
	return e, true
}

var (
	// -rw-r--r--    1 0        0              12 Nov 28 16:00 file name.txt
	unixListRE = regexp.MustCompile(`^([bcdlpsD-])[rwxsStTl-]{9}[+.@]?\s+\d+\s+\S+\s+(?:\S+\s+)?(\d+)\s+(\w{3}\s+\d{1,2}\s+(?:\d{1,2}:\d{2}|\d{4}))\s(.+)$`)
	// 11-28-26  04:00PM       <DIR>          name  /  11-28-26  04:00PM   1234 name
	dosListRE = regexp.MustCompile(`^\d{2}-\d{2}-\d{2,4}\s+\d{1,2}:\d{2}(?:[AaPp][Mm])?\s+(<DIR>|\d+)\s+(.+)$`)
)

// parseLISTLine parses one line of a LIST answer in Unix "ls -l" or DOS
// (IIS) format.
func parseLISTLine(line string) (dirEntry, bool) {
	line = strings.TrimRight(line, "\r")
	if m := unixListRE.FindStringSubmatch(line); m != nil {
		e := dirEntry{Name: m[4], Size: -1}
		switch m[1] {
		case "d", "D":
			e.Dir = true
		case "l":
			e.Link = true
			if i := strings.Index(e.Name, " -> "); i >= 0 {
				e.Name = e.Name[:i]
			}
		case "-":
		default:
			return dirEntry{}, false // devices, pipes, sockets
		}
		if n, err := strconv.ParseInt(m[2], 10, 64); err == nil {
			e.Size = n
		}
		if e.Name == "." || e.Name == ".." {
			return dirEntry{}, false
		}
		return e, true
	}
	if m := dosListRE.FindStringSubmatch(line); m != nil {
		e := dirEntry{Name: m[2], Size: -1}
		if m[1] == "<DIR>" {
			e.Dir = true
		} else if n, err := strconv.ParseInt(m[1], 10, 64); err == nil {
			e.Size = n
		}
		return e, true
	}
	return dirEntry{}, false
}

// parseListing parses a listing body, keeping at most max entries, and
// returns how many entries it held.
func parseListing(body []byte, mlsd bool, max int) ([]dirEntry, int) {
	var (
		out []dirEntry
		n   int
	)
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		var (
			e  dirEntry
			ok bool
		)
		if mlsd {
			e, ok = parseMLSDLine(line)
		} else {
			e, ok = parseLISTLine(line)
		}
		if !ok || strings.ContainsAny(e.Name, "/\x00") {
			continue
		}
		n++
		if len(out) < max {
			out = append(out, e)
		}
	}
	return out, n
}

var bannerProducts = []struct {
	re      *regexp.Regexp
	product string
}{
	{regexp.MustCompile(`\(vsFTPd ([\w.\-]+)\)`), "vsftpd"},
	{regexp.MustCompile(`ProFTPD(?: ([\d][\w.\-]*))?`), "proftpd"},
	{regexp.MustCompile(`Pure-FTPd(?: ([\d][\w.\-]*))?`), "pure-ftpd"},
	{regexp.MustCompile(`FileZilla Server(?: (?:version )?([\d][\w.\-]*))?`), "filezilla-server"},
	{regexp.MustCompile(`Microsoft FTP Service`), "microsoft-ftp"},
	{regexp.MustCompile(`Serv-U FTP Server v?([\d][\w.\-]*)?`), "serv-u"},
	{regexp.MustCompile(`wu-([\d][\w.\-]*)`), "wu-ftpd"},
}

// parseBanner names the server from its greeting, when it says.
func parseBanner(text string) (product, version string) {
	for _, bp := range bannerProducts {
		if m := bp.re.FindStringSubmatch(text); m != nil {
			if len(m) > 1 {
				version = m[1]
			}
			return bp.product, version
		}
	}
	return "", ""
}
