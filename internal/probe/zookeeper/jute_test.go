package zookeeper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func frame(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func TestConnect(t *testing.T) {
	var e encoder
	e.i32(0)
	e.i32(10000)
	e.i64(0x1234)
	e.buffer(make([]byte, 16))
	e.boolean(false)
	f, err := readFrame(bytes.NewReader(frame(e.b)), 256)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := parseConnect(f)
	if err != nil || cr.timeoutMS != 10000 || cr.sessionID != 0x1234 {
		t.Fatalf("%+v %v", cr, err)
	}
	if _, err := parseConnect([]byte("HTTP/1.1 400 Bad Request")); !errors.Is(err, errProtocol) {
		t.Fatalf("http accepted: %v", err)
	}
	if _, err := readFrame(bytes.NewReader([]byte("AAAAAAAA")), 256); !errors.Is(err, errProtocol) {
		t.Fatalf("huge frame: %v", err)
	}
}

func TestReplies(t *testing.T) {
	var e encoder
	e.i32(7)
	e.i64(9)
	e.i32(0)
	e.i32(2)
	e.str("users")
	e.str("config")
	e.b = append(e.b, make([]byte, statLen)...)
	r, err := parseReply(e.b, opGetChildren2)
	if err != nil || r.hdr.xid != 7 || len(r.children) != 2 || r.children[1] != "config" {
		t.Fatalf("%+v %v", r, err)
	}
	var d encoder
	d.i32(8)
	d.i64(9)
	d.i32(errNoAuth)
	r, err = parseReply(d.b, opGetData)
	if err != nil || r.hdr.err != errNoAuth {
		t.Fatalf("%+v %v", r, err)
	}
}

func TestFourLetter(t *testing.T) {
	f := parseFourLetter("Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\nMode: standalone\nNode count: 8\n")
	if version(f["Zookeeper version"]) != "3.8.0" || f["Mode"] != "standalone" || f["Node count"] != "8" {
		t.Fatalf("%v", f)
	}
	m := parseFourLetter("zk_version\t3.8.0-x, built on y\nzk_znode_count\t8\n")
	if m["zk_znode_count"] != "8" {
		t.Fatalf("%v", m)
	}
}

// FuzzReply checks frame and record decoding never panics or overreads.
func FuzzReply(f *testing.F) {
	var e encoder
	e.i32(1)
	e.i64(2)
	e.i32(0)
	e.buffer([]byte(`{"email":"a@example.com"}`))
	e.b = append(e.b, make([]byte, statLen)...)
	f.Add(frame(e.b))
	f.Add(frame([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff}))
	f.Add([]byte("SSH-2.0-OpenSSH_9.2p1\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		fr, err := readFrame(bytes.NewReader(in), 4096)
		if err != nil {
			return
		}
		if len(fr) > 4096 {
			t.Fatalf("frame %d", len(fr))
		}
		_, _ = parseConnect(fr)
		for _, op := range []int32{opGetData, opGetChildren2} {
			if r, err := parseReply(fr, op); err == nil && len(r.data) > len(fr) {
				t.Fatal("data longer than frame")
			}
		}
		parseFourLetter(string(in))
	})
}
