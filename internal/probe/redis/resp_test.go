package redis

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func testLimits() limits { return limits{maxBytes: 1 << 16, maxElems: 64, maxDepth: 4} }

func TestReadValue(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want value
		err  error
	}{
		{"simple", "+PONG\r\n", value{kind: '+', str: "PONG"}, nil},
		{"error", "-NOAUTH Authentication required.\r\n", value{kind: '-', str: "NOAUTH Authentication required."}, nil},
		{"int", ":42\r\n", value{kind: ':', num: 42}, nil},
		{"bulk", "$5\r\nhello\r\n", value{kind: '$', str: "hello"}, nil},
		{"null bulk", "$-1\r\n", value{kind: '$', null: true}, nil},
		{"empty bulk", "$0\r\n\r\n", value{kind: '$'}, nil},
		{"array", "*2\r\n$1\r\na\r\n:1\r\n", value{kind: '*', elems: []value{{kind: '$', str: "a"}, {kind: ':', num: 1}}}, nil},
		{"http", "HTTP/1.1 400 Bad Request\r\n", value{}, errProtocol},
		{"bare lf", "+PONG\n", value{}, errProtocol},
		{"bad int", ":x\r\n", value{}, errProtocol},
		{"bulk too big", "$100000\r\n", value{}, ErrTooLarge},
		{"array too big", "*1000\r\n", value{}, ErrTooLarge},
		{"negative bulk", "$-5\r\n", value{}, errProtocol},
		{"unterminated bulk", "$3\r\nabcXY", value{}, errProtocol},
		{"too deep", "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", value{}, ErrTooLarge},
		{"bytes across elements", "*3\r\n$40000\r\n" + strings.Repeat("a", 40000) + "\r\n$40000\r\n", value{}, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newRespReader(strings.NewReader(tt.in)).readValue(testLimits())
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !equal(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLineTooLong(t *testing.T) {
	in := "+" + strings.Repeat("A", maxLine+10) + "\r\n"
	_, err := newRespReader(strings.NewReader(in)).readValue(testLimits())
	if !errors.Is(err, errProtocol) {
		t.Fatalf("err = %v", err)
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "GET", "k\r\n"))
	want := "*2\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	v, err := newRespReader(strings.NewReader(got)).readValue(testLimits())
	if err != nil || len(v.elems) != 2 || v.elems[1].str != "k\r\n" {
		t.Fatalf("round trip: %+v %v", v, err)
	}
}

func equal(a, b value) bool {
	if a.kind != b.kind || a.str != b.str || a.num != b.num || a.null != b.null || len(a.elems) != len(b.elems) {
		return false
	}
	for i := range a.elems {
		if !equal(a.elems[i], b.elems[i]) {
			return false
		}
	}
	return true
}

// FuzzReadValue checks the decoder never panics, never returns more than its
// limits allow, and round-trips what it accepted.
func FuzzReadValue(f *testing.F) {
	for _, s := range []string{
		"+PONG\r\n", "-ERR x\r\n", ":1\r\n", "$3\r\nabc\r\n", "$-1\r\n", "*-1\r\n",
		"*2\r\n*1\r\n$1\r\na\r\n:5\r\n", "*3\r\n$1\r\n0\r\n*0\r\n", "$999999999999\r\n",
		"*99999999\r\n", "%1\r\n", "SSH-2.0-x\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		lim := testLimits()
		v, err := newRespReader(bytes.NewReader(in)).readValue(lim)
		if err != nil {
			return
		}
		if n := countElems(v); n > lim.maxElems {
			t.Fatalf("%d elements > limit %d", n, lim.maxElems)
		}
		if n := countBytes(v); n > lim.maxBytes {
			t.Fatalf("%d bulk bytes > limit %d", n, lim.maxBytes)
		}
	})
}

func countElems(v value) int {
	n := len(v.elems)
	for _, e := range v.elems {
		n += countElems(e)
	}
	return n
}

func countBytes(v value) int64 {
	var n int64
	if v.kind == kindBulk {
		n = int64(len(v.str))
	}
	for _, e := range v.elems {
		n += countBytes(e)
	}
	return n
}

func TestParseInfo(t *testing.T) {
	in := parseInfo("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n\r\n# Keyspace\r\ndb0:keys=12,expires=1,avg_ttl=0\r\ndb3:keys=40,expires=0,avg_ttl=0\r\ndbx:keys=1\r\ndb4:expires=3\r\n")
	if in["redis_version"] != "7.0.15" || in["redis_mode"] != "standalone" {
		t.Fatalf("info = %v", in)
	}
	ks := in.keyspaces()
	if len(ks) != 2 || ks[0].name() != "db3" || ks[0].keys != 40 || ks[1].name() != "db0" || ks[1].expires != 1 {
		t.Fatalf("keyspaces = %+v", ks)
	}
}

// FuzzParseInfo checks INFO parsing never panics and keeps its bounds.
func FuzzParseInfo(f *testing.F) {
	f.Add("# Server\r\nredis_version:7.0.15\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n")
	f.Add("db99999999999999999:keys=-1\r\n:\r\n::\r\ndb1:keys=9223372036854775807")
	f.Fuzz(func(t *testing.T, s string) {
		in := parseInfo(s)
		if len(in) > maxInfoFields {
			t.Fatalf("%d fields", len(in))
		}
		for _, ks := range in.keyspaces() {
			if ks.keys < 0 || ks.db < 0 || ks.db > maxDB {
				t.Fatalf("bad keyspace %+v", ks)
			}
		}
	})
}

func TestKeyPattern(t *testing.T) {
	for in, want := range map[string]string{
		"user:1001:profile":                    "user:*:profile",
		"session":                              "session",
		"cache:abcdefabcdefabcdefabcdefabcdef": "cache:*",
		"":                                     "",
	} {
		if got := keyPattern(in); got != want {
			t.Errorf("keyPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
