package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// msg frames one backend message.
func msg(typ byte, body []byte) []byte {
	out := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(out[1:], uint32(4+len(body)))
	return append(out, body...)
}

func i32(v int32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(v))
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	trustReply = cat(
		msg('R', i32(0)),
		msg('S', []byte("server_version\x0015.18 (Debian 15.18-0+deb12u1)\x00")),
		msg('S', []byte("is_superuser\x00on\x00")),
		msg('K', cat(i32(42), i32(7))),
		msg('Z', []byte("I")),
	)
	scramReply  = msg('R', cat(i32(10), []byte("SCRAM-SHA-256-PLUS\x00SCRAM-SHA-256\x00\x00")))
	md5Reply    = msg('R', cat(i32(5), []byte{1, 2, 3, 4}))
	hbaRejected = msg('E', []byte("SFATAL\x00VFATAL\x00C28000\x00Mno pg_hba.conf entry for host \"127.0.0.1\", user \"postgres\", database \"postgres\", no encryption\x00Fauth.c\x00L543\x00RClientAuthentication\x00\x00"))
)

func TestReadStartupReply(t *testing.T) {
	cases := []struct {
		name   string
		in     []byte
		method string
		code   string
		ver    string
	}{
		{"trust", trustReply, "trust", "", "15.18 (Debian 15.18-0+deb12u1)"},
		{"scram", scramReply, "scram-sha-256", "", ""},
		{"md5", md5Reply, "md5", "", ""},
		{"cleartext", msg('R', i32(3)), "password", "", ""},
		{"hba", hbaRejected, "", "28000", ""},
		{"negotiate", cat(msg('v', cat(i32(196608), i32(0))), md5Reply), "md5", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := readStartupReply(bytes.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if rep.AuthMethod() != tc.method {
				t.Errorf("method %q, want %q", rep.AuthMethod(), tc.method)
			}
			if tc.code != "" && (rep.Err == nil || rep.Err.Code != tc.code || rep.Err.Routine != "ClientAuthentication") {
				t.Errorf("error %+v, want code %s", rep.Err, tc.code)
			}
			if rep.Params["server_version"] != tc.ver {
				t.Errorf("server_version %q", rep.Params["server_version"])
			}
		})
	}
}

func TestReadStartupReplyRejects(t *testing.T) {
	for name, in := range map[string][]byte{
		"http":         []byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		"huge":         {'R', 0x7f, 0xff, 0xff, 0xff},
		"short auth":   msg('R', []byte{0, 0}),
		"bad code":     msg('R', i32(99)),
		"md5 nosalt":   msg('R', i32(5)),
		"no sqlstate":  msg('E', []byte("SFATAL\x00Mhi\x00\x00")),
		"unterminated": msg('E', []byte("SFATAL\x00C28000")),
	} {
		if _, err := readStartupReply(bytes.NewReader(in)); !errors.Is(err, errNotPostgres) {
			t.Errorf("%s: err %v, want errNotPostgres", name, err)
		}
	}
}

func TestBuildStartup(t *testing.T) {
	b := buildStartup(map[string]string{"user": "postgres", "database": "db"})
	want := "\x00\x03\x00\x00database\x00db\x00user\x00postgres\x00\x00"
	if int(binary.BigEndian.Uint32(b)) != len(b) || string(b[4:]) != want {
		t.Fatalf("startup %q", b)
	}
}

func FuzzReadStartupReply(f *testing.F) {
	for _, s := range [][]byte{trustReply, scramReply, md5Reply, hbaRejected, msg('R', i32(3)), []byte("HTTP/1.0 200 OK\r\n")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		rep, err := readStartupReply(bytes.NewReader(in))
		if err == nil && rep == nil {
			t.Fatal("nil reply without error")
		}
		if rep == nil {
			return
		}
		// A reply starts with an authentication request, an error or a
		// protocol-version message; an authentication request is named;
		// nothing decoded is longer than the input.
		if in[0] != 'R' && in[0] != 'E' && in[0] != 'v' {
			t.Fatalf("reply from a first message of type %q", in[0])
		}
		if rep.Auth && rep.AuthMethod() == "" {
			t.Fatalf("auth code %d unnamed", rep.AuthCode)
		}
		n := 0
		for k, v := range rep.Params {
			n += len(k) + len(v)
		}
		for _, m := range rep.SASLMechanisms {
			n += len(m)
		}
		if n > len(in) {
			t.Fatalf("%d bytes decoded from %d", n, len(in))
		}
	})
}
