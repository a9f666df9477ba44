package postgres

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// This file speaks just enough of the PostgreSQL v3 frontend/backend
// protocol to identify a server and learn how it wants a client to
// authenticate, without logging in: a StartupMessage out, and the first
// messages back (an authentication request, an ErrorResponse, or — on a
// trust server — AuthenticationOk followed by ParameterStatus messages).

// protocolVersion is 3.0.
const protocolVersion = 3 << 16

// maxMessage bounds one backend message read while identifying; the
// messages expected here are all short.
const maxMessage = 64 << 10

// maxStartupMessages bounds how many messages are read after the StartupMessage.
const maxStartupMessages = 64

// Authentication request codes (the int32 after an 'R' message's length).
const (
	authOK          = 0
	authKerberosV5  = 2
	authCleartext   = 3
	authMD5         = 5
	authGSS         = 7
	authSSPI        = 9
	authSASL        = 10
	authSASLCont    = 11
	authSASLFinal   = 12
	authGSSContinue = 8
)

// errNotPostgres means the peer's bytes are not a PostgreSQL backend's.
var errNotPostgres = errors.New("not a postgresql backend message")

// serverError is a decoded ErrorResponse (or NoticeResponse).
type serverError struct {
	Severity string
	Code     string // SQLSTATE
	Message  string
	// Routine is the server-side function that raised it ("auth_failed").
	Routine string
}

func (e *serverError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Severity, e.Code, e.Message)
}

// startupReply is what a server answered to a StartupMessage.
type startupReply struct {
	// Auth is set when the server sent an authentication request; AuthCode
	// is its code (authOK for trust).
	Auth     bool
	AuthCode int32
	// SASLMechanisms lists what an AuthenticationSASL request offered.
	SASLMechanisms []string
	// Err is set when the server answered with an ErrorResponse.
	Err *serverError
	// Params holds the ParameterStatus messages sent after AuthenticationOk.
	Params map[string]string
	// Ready is true when ReadyForQuery was seen.
	Ready bool
}

// AuthMethod names the authentication the server asked for.
func (r *startupReply) AuthMethod() string {
	if !r.Auth {
		return ""
	}
	return authMethodName(r.AuthCode, r.SASLMechanisms)
}

func authMethodName(code int32, mechs []string) string {
	switch code {
	case authOK:
		return "trust"
	case authKerberosV5:
		return "kerberos-v5"
	case authCleartext:
		return "password"
	case authMD5:
		return "md5"
	case authGSS, authGSSContinue:
		return "gss"
	case authSSPI:
		return "sspi"
	case authSASL, authSASLCont, authSASLFinal:
		for _, m := range mechs {
			if m == "SCRAM-SHA-256" {
				return "scram-sha-256"
			}
		}
		return "sasl"
	}
	return fmt.Sprintf("unknown-%d", code)
}

// buildStartup encodes a v3 StartupMessage with params (sorted by key so
// the bytes are stable).
func buildStartup(params map[string]string) []byte {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var body bytes.Buffer
	_ = binary.Write(&body, binary.BigEndian, int32(protocolVersion))
	for _, k := range keys {
		body.WriteString(k)
		body.WriteByte(0)
		body.WriteString(params[k])
		body.WriteByte(0)
	}
	body.WriteByte(0)
	out := make([]byte, 4, 4+body.Len())
	binary.BigEndian.PutUint32(out, uint32(4+body.Len()))
	return append(out, body.Bytes()...)
}

// terminateMessage is the frontend's 'X' Terminate.
var terminateMessage = []byte{'X', 0, 0, 0, 4}

// readMessage reads one backend message: a type byte, an int32 length that
// counts itself, and the body.
func readMessage(r *bufio.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := int64(binary.BigEndian.Uint32(hdr[1:]))
	if n < 4 || n-4 > maxMessage {
		return 0, nil, fmt.Errorf("%w: message %q length %d", errNotPostgres, hdr[0], n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	return hdr[0], body, nil
}

// readStartupReply reads the server's answer to a StartupMessage: it stops
// at the first authentication request other than AuthenticationOk, at an
// ErrorResponse, or at ReadyForQuery. The first message must be an
// authentication request, an ErrorResponse or a NegotiateProtocolVersion,
// or the peer is not PostgreSQL.
func readStartupReply(rd io.Reader) (*startupReply, error) {
	r := bufio.NewReader(rd)
	rep := &startupReply{}
	for i := 0; i < maxStartupMessages; i++ {
		typ, body, err := readMessage(r)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return rep, err
		}
		if i == 0 && typ != 'R' && typ != 'E' && typ != 'v' {
			return nil, fmt.Errorf("%w: first message type %q", errNotPostgres, typ)
		}
		done, err := rep.handle(typ, body)
		if err != nil {
			if i == 0 {
				return nil, err
			}
			return rep, err
		}
		if done {
			return rep, nil
		}
	}
	return rep, nil
}

// handle folds one message into rep and tells whether the reply is complete.
func (rep *startupReply) handle(typ byte, body []byte) (bool, error) {
	switch typ {
	case 'R':
		code, mechs, err := parseAuth(body)
		if err != nil {
			return false, err
		}
		rep.Auth, rep.AuthCode, rep.SASLMechanisms = true, code, mechs
		return code != authOK, nil
	case 'E':
		e, err := parseError(body)
		if err != nil {
			return false, err
		}
		rep.Err = e
		return true, nil
	case 'S':
		k, v, err := parseParameterStatus(body)
		if err != nil {
			return false, err
		}
		if rep.Params == nil {
			rep.Params = map[string]string{}
		}
		rep.Params[k] = v
		return false, nil
	case 'Z':
		rep.Ready = true
		return true, nil
	case 'K', 'N', 'v':
		// BackendKeyData, NoticeResponse, NegotiateProtocolVersion.
		return false, nil
	}
	return false, fmt.Errorf("%w: unexpected message %q during startup", errNotPostgres, typ)
}

// parseAuth decodes an Authentication* message body.
func parseAuth(body []byte) (int32, []string, error) {
	if len(body) < 4 {
		return 0, nil, fmt.Errorf("%w: short authentication request", errNotPostgres)
	}
	code := int32(binary.BigEndian.Uint32(body))
	rest := body[4:]
	switch code {
	case authOK, authKerberosV5, authCleartext, authGSS, authSSPI:
		if len(rest) != 0 {
			return 0, nil, fmt.Errorf("%w: authentication request %d has %d extra bytes", errNotPostgres, code, len(rest))
		}
	case authMD5:
		if len(rest) != 4 {
			return 0, nil, fmt.Errorf("%w: md5 request without 4-byte salt", errNotPostgres)
		}
	case authSASL:
		mechs, err := cstrings(rest)
		if err != nil || len(mechs) == 0 {
			return 0, nil, fmt.Errorf("%w: bad SASL mechanism list", errNotPostgres)
		}
		return code, mechs, nil
	case authGSSContinue, authSASLCont, authSASLFinal:
	default:
		return 0, nil, fmt.Errorf("%w: unknown authentication request %d", errNotPostgres, code)
	}
	return code, nil, nil
}

// cstrings splits a list of NUL-terminated strings ended by an empty one.
func cstrings(b []byte) ([]string, error) {
	var out []string
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, errors.New("unterminated string")
		}
		if i == 0 {
			return out, nil
		}
		out = append(out, string(b[:i]))
		b = b[i+1:]
	}
}

// parseError decodes an ErrorResponse/NoticeResponse body: (code byte,
// NUL-terminated string)* then a NUL. Severity and SQLSTATE are required.
func parseError(body []byte) (*serverError, error) {
	e := &serverError{}
	b := body
	for {
		if len(b) == 0 {
			return nil, fmt.Errorf("%w: unterminated error response", errNotPostgres)
		}
		f := b[0]
		if f == 0 {
			break
		}
		i := bytes.IndexByte(b[1:], 0)
		if i < 0 {
			return nil, fmt.Errorf("%w: unterminated error field", errNotPostgres)
		}
		v := string(b[1 : 1+i])
		b = b[2+i:]
		switch f {
		case 'S':
			if e.Severity == "" {
				e.Severity = v
			}
		case 'V':
			e.Severity = v // non-localized severity wins
		case 'C':
			e.Code = v
		case 'M':
			e.Message = v
		case 'R':
			e.Routine = v
		}
	}
	if e.Severity == "" || len(e.Code) != 5 {
		return nil, fmt.Errorf("%w: error response without severity or SQLSTATE", errNotPostgres)
	}
	return e, nil
}

// parseParameterStatus decodes a ParameterStatus body: name and value.
func parseParameterStatus(body []byte) (string, string, error) {
	i := bytes.IndexByte(body, 0)
	if i < 0 {
		return "", "", fmt.Errorf("%w: bad parameter status", errNotPostgres)
	}
	j := bytes.IndexByte(body[i+1:], 0)
	if j < 0 || i+1+j != len(body)-1 {
		return "", "", fmt.Errorf("%w: bad parameter status", errNotPostgres)
	}
	return string(body[:i]), string(body[i+1 : i+1+j]), nil
}
