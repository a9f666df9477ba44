package scope

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxLineBytes bounds one line of a target list.
const MaxLineBytes = 64 << 10

// ParseLine parses one line of a target list. It accepts
//
//   - anything Parse accepts ("127.0.0.5", "127.0.0.0/24", "db.internal:5432");
//   - masscan -oL lines ("open tcp 9200 127.0.0.5 1700000000"): open TCP
//     ports become host:port targets, other states and protocols are
//     skipped;
//   - naabu JSON lines ({"host":"db.internal","ip":"127.0.0.5","port":9200}):
//     the ip (or, without one, the host) with the port; a host name next to
//     an ip is kept as the endpoint's hostname;
//   - blank lines and '#' comments, which are skipped.
//
// ok is false for a line that names no target.
func ParseLine(line string) (spec Spec, ok bool, err error) {
	s := strings.TrimSpace(line)
	switch {
	case s == "" || s[0] == '#':
		return Spec{}, false, nil
	case s[0] == '{':
		return parseNaabu(s)
	}
	if f := strings.Fields(s); len(f) >= 4 && isMasscanState(f[0]) {
		return parseMasscan(s, f)
	}
	spec, err = Parse(s)
	if err != nil {
		return Spec{}, false, err
	}
	return spec, true, nil
}

func isMasscanState(s string) bool {
	return s == "open" || s == "closed" || s == "banner" || s == "unknown"
}

// parseMasscan reads "<state> <proto> <port> <ip> <timestamp> [...]".
func parseMasscan(line string, f []string) (Spec, bool, error) {
	if f[0] != "open" || f[1] != "tcp" {
		return Spec{}, false, nil
	}
	port, err := parsePort(f[2])
	if err != nil {
		return Spec{}, false, invalid(line, "masscan line: %s", err)
	}
	a, err := parseAddr(f[3])
	if err != nil {
		return Spec{}, false, invalid(line, "masscan line: %s", err)
	}
	return Spec{Kind: KindAddr, First: a, Last: a, Port: port}, true, nil
}

// naabuLine is the part of a naabu -json line leakwatch reads.
type naabuLine struct {
	Host     string          `json:"host"`
	IP       string          `json:"ip"`
	Port     json.RawMessage `json:"port"`
	Protocol string          `json:"protocol"`
}

func parseNaabu(line string) (Spec, bool, error) {
	var n naabuLine
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&n); err != nil {
		return Spec{}, false, invalid(truncate(line), "not a naabu JSON line: %s", jsonReason(err))
	}
	if n.Protocol != "" && n.Protocol != "tcp" {
		return Spec{}, false, nil
	}
	port, err := naabuPort(n.Port)
	if err != nil {
		return Spec{}, false, invalid(truncate(line), "naabu line: %s", err)
	}
	var spec Spec
	switch {
	case n.IP != "":
		a, err := parseAddr(n.IP)
		if err != nil {
			return Spec{}, false, invalid(truncate(line), "naabu line: ip: %s", err)
		}
		spec = Spec{Kind: KindAddr, First: a, Last: a}
		if n.Host != "" && n.Host != n.IP {
			if name, err := parseHostname(n.Host); err == nil {
				spec.Hostname = name
			}
		}
	case n.Host != "":
		spec, err = parseHostOrAddr(n.Host)
		if err != nil {
			return Spec{}, false, invalid(truncate(line), "naabu line: host: %s", err)
		}
	default:
		return Spec{}, false, invalid(truncate(line), "naabu line has neither ip nor host")
	}
	spec.Port = port
	return spec, true, nil
}

// naabuPort reads a port given as a number, a numeric string, or naabu's
// newer {"Port":9200,...} object; absent means no port.
func naabuPort(raw json.RawMessage) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("port: %s", jsonReason(err))
		}
		return parsePort(s)
	case '{':
		var o struct {
			Port json.RawMessage `json:"Port"`
		}
		if err := json.Unmarshal(raw, &o); err != nil || len(o.Port) == 0 || o.Port[0] == '{' {
			return 0, fmt.Errorf("port object has no Port number")
		}
		return naabuPort(o.Port)
	}
	return parsePort(string(raw))
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}

// ParseList reads newline-separated targets (see ParseLine) and calls fn for
// each, as it reads: the list is never held whole. Errors name the line,
// also an *Error that fn returns.
func ParseList(r io.Reader, fn func(Spec) error) error {
	return parseList(r, func(sp Spec, _ int) error { return fn(sp) })
}

// parseList is ParseList, telling fn each spec's line number.
func parseList(r io.Reader, fn func(Spec, int) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		spec, ok, err := ParseLine(sc.Text())
		if err == nil && ok {
			err = fn(spec, line)
		}
		if err != nil {
			var te *Error
			if errors.As(err, &te) && te.Line == 0 {
				te.Line = line
			}
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fmt.Errorf("stdin line %d: longer than %d bytes", line+1, MaxLineBytes)
		}
		return fmt.Errorf("read stdin: %w", err)
	}
	return nil
}
