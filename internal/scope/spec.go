package scope

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Kind says what a Spec names.
type Kind uint8

const (
	// KindAddr is one IP address ("127.0.0.5", "2001:db8::1").
	KindAddr Kind = iota + 1
	// KindPrefix is a CIDR block ("127.0.0.0/24", "2001:db8::/120").
	KindPrefix
	// KindRange is an inclusive address range ("127.0.0.1-127.0.0.50",
	// short form "127.0.0.1-50").
	KindRange
	// KindHost is a hostname, resolved once when the scope is built.
	KindHost
)

func (k Kind) String() string {
	switch k {
	case KindAddr:
		return "address"
	case KindPrefix:
		return "cidr"
	case KindRange:
		return "range"
	case KindHost:
		return "hostname"
	}
	return "invalid"
}

// Spec is one parsed target (or exclusion).
type Spec struct {
	Kind Kind
	// First and Last bound the addresses of KindAddr, KindPrefix and
	// KindRange (inclusive; equal for KindAddr). IPv4-mapped IPv6
	// addresses are unmapped to IPv4.
	First, Last netip.Addr
	// Prefix is the (masked) block of a KindPrefix.
	Prefix netip.Prefix
	// Hostname is the lower-cased name of a KindHost, without trailing dot.
	// On a KindAddr read from a naabu line it is the name naabu resolved
	// the address from (kept for TLS SNI and HTTP Host headers).
	Hostname string
	// Port is the port of a port-specific target ("host:port"), 0 if none:
	// then the scope's port list applies.
	Port int
}

// String is the canonical form of the spec; Parse(s.String()) gives s back.
func (s Spec) String() string {
	var base string
	switch s.Kind {
	case KindAddr:
		base = s.First.String()
	case KindPrefix:
		base = s.Prefix.String()
	case KindRange:
		base = s.First.String() + "-" + s.Last.String()
	case KindHost:
		base = s.Hostname
	default:
		return "<invalid spec>"
	}
	if s.Port == 0 {
		return base
	}
	if s.Kind == KindAddr && s.First.Is6() {
		return "[" + base + "]:" + strconv.Itoa(s.Port)
	}
	return base + ":" + strconv.Itoa(s.Port)
}

// Error is a user-facing error about one target string.
type Error struct {
	// What is "target" or "exclude".
	What string
	// Input is the offending text.
	Input string
	// Line is the 1-based stdin line number, 0 when not from stdin.
	Line int
	// Reason says what is wrong with it.
	Reason string
}

func (e *Error) Error() string {
	what := e.What
	if what == "" {
		what = "target"
	}
	msg := fmt.Sprintf("invalid %s %q: %s", what, e.Input, e.Reason)
	if e.Line > 0 {
		return fmt.Sprintf("stdin line %d: %s", e.Line, msg)
	}
	return msg
}

func invalid(input, format string, args ...any) error {
	return &Error{What: "target", Input: input, Reason: fmt.Sprintf(format, args...)}
}

// Parse parses one target: an IPv4 or IPv6 address, a CIDR, a range
// ("127.0.0.1-127.0.0.50" or "127.0.0.1-50"), a hostname, or a single
// address or hostname with a port ("127.0.0.5:9200", "[2001:db8::1]:9200",
// "db.example.internal:5432"). It does not resolve names. The stdin marker
// "-" is not a target: Build handles it.
func Parse(input string) (Spec, error) {
	s := strings.TrimSpace(input)
	switch {
	case s == "":
		return Spec{}, invalid(input, "empty")
	case s == "-":
		return Spec{}, invalid(input, `"-" (stdin) is only allowed as a whole argument`)
	case len(s) > 300:
		return Spec{}, invalid(truncate(s), "too long")
	case strings.ContainsAny(s, " \t\r\n,"):
		return Spec{}, invalid(input, "contains a space or comma; give one target per argument")
	case strings.Contains(s, "://"):
		return Spec{}, invalid(input, "a URL is not a target; give host, host:port, an address, CIDR or range")
	}
	spec, err := parse(s)
	if err != nil {
		return Spec{}, invalid(input, "%s", err.Error())
	}
	return spec, nil
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func parse(s string) (Spec, error) {
	if strings.HasPrefix(s, "[") {
		return parseBracketed(s)
	}
	if strings.Contains(s, "/") {
		return parsePrefix(s)
	}
	if strings.Contains(s, "-") && looksNumericRange(s) {
		return parseRange(s)
	}
	if strings.Count(s, ":") >= 2 {
		// Bare IPv6 (a port needs brackets).
		a, err := parseAddr(s)
		if err != nil {
			return Spec{}, err
		}
		return Spec{Kind: KindAddr, First: a, Last: a}, nil
	}
	host, port := s, 0
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		p, err := parsePort(s[i+1:])
		if err != nil {
			return Spec{}, err
		}
		host, port = s[:i], p
		if host == "" {
			return Spec{}, fmt.Errorf("missing host before port")
		}
	}
	spec, err := parseHostOrAddr(host)
	if err != nil {
		return Spec{}, err
	}
	spec.Port = port
	return spec, nil
}

// looksNumericRange tells whether s is an address range rather than a
// hostname with a hyphen: both sides must look like addresses (or the short
// form's right side a number).
func looksNumericRange(s string) bool {
	i := strings.IndexByte(s, '-')
	left := s[:i]
	return isIPv4ish(left) || strings.Contains(left, ":")
}

// isIPv4ish tells whether s consists of digits and dots only, with a digit
// last: such a string is meant as an IPv4 address, never a hostname (a
// top-level domain is never all-numeric).
func isIPv4ish(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

func parseBracketed(s string) (Spec, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return Spec{}, fmt.Errorf("missing ']'")
	}
	a, err := parseAddr(s[1:end])
	if err != nil {
		return Spec{}, err
	}
	if !a.Is6() && !strings.Contains(s[1:end], ":") {
		return Spec{}, fmt.Errorf("brackets are only for IPv6 addresses")
	}
	spec := Spec{Kind: KindAddr, First: a, Last: a}
	rest := s[end+1:]
	switch {
	case rest == "":
		return spec, nil
	case rest[0] != ':':
		return Spec{}, fmt.Errorf("unexpected %q after ']'", rest)
	}
	p, err := parsePort(rest[1:])
	if err != nil {
		return Spec{}, err
	}
	spec.Port = p
	return spec, nil
}

func parsePrefix(s string) (Spec, error) {
	i := strings.IndexByte(s, '/')
	a, err := parseAddr(s[:i])
	if err != nil {
		return Spec{}, err
	}
	bitsStr := s[i+1:]
	if strings.Contains(bitsStr, ":") {
		return Spec{}, errPortOnBlock
	}
	if bitsStr == "" || len(bitsStr) > 3 || !isDigits(bitsStr) {
		return Spec{}, fmt.Errorf("bad prefix length %q", bitsStr)
	}
	bits, _ := strconv.Atoi(bitsStr)
	raw, _ := netip.ParseAddr(s[:i]) // parseAddr succeeded, so this does
	if raw.Is4In6() && !a.Is6() {
		// ::ffff:a.b.c.d/n: a block of IPv4-mapped addresses.
		if bits < 96 {
			return Spec{}, fmt.Errorf("an IPv4-mapped prefix must be /96 or longer")
		}
		bits -= 96
	}
	if bits > a.BitLen() {
		return Spec{}, fmt.Errorf("prefix length /%d is too long for %s", bits, family(a))
	}
	p := netip.PrefixFrom(a, bits).Masked()
	return Spec{Kind: KindPrefix, Prefix: p, First: p.Addr(), Last: lastOf(p)}, nil
}

var errPortOnBlock = errors.New("a port is only allowed on a single address or hostname; use --ports for blocks and ranges")

func parseRange(s string) (Spec, error) {
	i := strings.IndexByte(s, '-')
	left, right := s[:i], s[i+1:]
	first, err := parseAddr(left)
	if err != nil {
		return Spec{}, err
	}
	if first.Is4() && strings.Contains(right, ":") && !strings.Contains(right, "::") && strings.Count(right, ":") == 1 {
		return Spec{}, errPortOnBlock
	}
	var last netip.Addr
	if first.Is4() && isDigits(right) && right != "" {
		// Short form 127.0.0.1-50: the end replaces the last octet.
		n, err := strconv.Atoi(right)
		if err != nil || n > 255 || len(right) > 3 {
			return Spec{}, fmt.Errorf("range end %q is not an octet (0-255)", right)
		}
		b := first.As4()
		b[3] = byte(n)
		last = netip.AddrFrom4(b)
	} else {
		last, err = parseAddr(right)
		if err != nil {
			return Spec{}, fmt.Errorf("range end: %w", err)
		}
	}
	if first.Is4() != last.Is4() {
		return Spec{}, fmt.Errorf("range mixes IPv4 and IPv6")
	}
	if last.Less(first) {
		return Spec{}, fmt.Errorf("range start %s is after its end %s", first, last)
	}
	return Spec{Kind: KindRange, First: first, Last: last}, nil
}

func parseHostOrAddr(s string) (Spec, error) {
	if isIPv4ish(s) || strings.Contains(s, ":") {
		a, err := parseAddr(s)
		if err != nil {
			return Spec{}, err
		}
		return Spec{Kind: KindAddr, First: a, Last: a}, nil
	}
	name, err := parseHostname(s)
	if err != nil {
		return Spec{}, err
	}
	return Spec{Kind: KindHost, Hostname: name}, nil
}

// parseAddr parses an IP address literal, unmapping IPv4-mapped IPv6.
func parseAddr(s string) (netip.Addr, error) {
	if strings.Contains(s, "%") {
		return netip.Addr{}, fmt.Errorf("IPv6 zones are not supported")
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, addrError(s, err)
	}
	return a.Unmap(), nil
}

// addrError turns netip's "ParseAddr("x"): reason" into the bare reason.
func addrError(s string, err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "): "); i >= 0 && strings.HasPrefix(msg, "ParseAddr(") {
		msg = msg[i+3:]
	}
	if isIPv4ish(s) || strings.Contains(s, ":") {
		return fmt.Errorf("not an IP address: %s", msg)
	}
	return fmt.Errorf("not an IP address")
}

func parsePort(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing port after ':'")
	}
	if !isDigits(s) || len(s) > 5 {
		return 0, fmt.Errorf("port %q is not a number", s)
	}
	p, _ := strconv.Atoi(s)
	if p < 1 || p > 65535 {
		return 0, fmt.Errorf("port %d out of range 1-65535", p)
	}
	return p, nil
}

// parseHostname validates a DNS name (letters, digits, '-' and '_' in labels
// of at most 63 characters, 253 in all; the last label not all-numeric).
func parseHostname(s string) (string, error) {
	name := strings.ToLower(strings.TrimSuffix(s, "."))
	if name == "" {
		return "", fmt.Errorf("empty hostname")
	}
	if len(name) > 253 {
		return "", fmt.Errorf("hostname longer than 253 characters")
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if err := checkLabel(l); err != nil {
			return "", err
		}
	}
	if isDigits(labels[len(labels)-1]) {
		return "", fmt.Errorf("not an IP address and not a hostname (numeric top-level label)")
	}
	return name, nil
}

func checkLabel(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("hostname has an empty label")
	case len(l) > 63:
		return fmt.Errorf("hostname label longer than 63 characters")
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Errorf("hostname label %q starts or ends with '-'", l)
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("hostname has invalid character %q", c)
		}
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// lastOf is the last address of a masked prefix.
func lastOf(p netip.Prefix) netip.Addr {
	u := fromAddr(p.Addr())
	hostBits := uint(p.Addr().BitLen() - p.Bits())
	return u.or(onesBelow(hostBits)).toAddr(p.Addr().Is4())
}
