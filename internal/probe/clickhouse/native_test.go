package clickhouse

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func helloPacket(name string, major, minor, rev uint64, tz, display string, patch uint64) []byte {
	b := appendUvarint(nil, serverHello)
	b = appendString(b, name)
	b = appendUvarint(b, major)
	b = appendUvarint(b, minor)
	b = appendUvarint(b, rev)
	b = appendString(b, tz)
	b = appendString(b, display)
	return appendUvarint(b, patch)
}

func exceptionPacket(code int32, name, msg string, nested bool) []byte {
	b := appendUvarint(nil, serverException)
	b = binary.LittleEndian.AppendUint32(b, uint32(code))
	b = appendString(b, name)
	b = appendString(b, msg)
	b = appendString(b, "stack")
	if nested {
		b = append(b, 1)
		b = binary.LittleEndian.AppendUint32(b, 1)
		b = appendString(b, "DB::Exception")
		b = appendString(b, "inner")
		b = appendString(b, "")
		return append(b, 0)
	}
	return append(b, 0)
}

var (
	hello1816 = helloPacket("ClickHouse", 18, 16, 54412, "UTC", "vm", 1)
	wrongPass = exceptionPacket(193, "DB::Exception", "Wrong password for user default", false)
)

func TestReadHelloReply(t *testing.T) {
	h, e, err := readHelloReply(bufio.NewReader(bytes.NewReader(hello1816)))
	if err != nil || e != nil || h.Version() != "18.16.1" || h.Timezone != "UTC" || h.DisplayName != "vm" {
		t.Fatalf("hello %+v exc %v err %v", h, e, err)
	}
	h, e, err = readHelloReply(bufio.NewReader(bytes.NewReader(exceptionPacket(516, "DB::Exception", "default: Authentication failed", true))))
	if err != nil || h != nil || e.Code != 516 {
		t.Fatalf("hello %+v exc %v err %v", h, e, err)
	}
	for name, in := range map[string][]byte{
		"http":     []byte("HTTP/1.1 400 Bad Request\r\n"),
		"badname":  helloPacket("\x01\x02", 18, 16, 54412, "", "", 0),
		"revision": helloPacket("ClickHouse", 18, 16, 7, "", "", 0),
		"huge":     append([]byte{0}, binary.AppendUvarint(nil, 1<<40)...),
	} {
		if _, _, err := readHelloReply(bufio.NewReader(bytes.NewReader(in))); !errors.Is(err, errNotNative) {
			t.Errorf("%s: err %v, want errNotNative", name, err)
		}
	}
}

func TestBuildHello(t *testing.T) {
	b := buildHello("default", "")
	want := "\x00\x09leakwatch\x12\x10\x8c\xa9\x03\x00\x07default\x00"
	if string(b) != want {
		t.Fatalf("hello %q, want %q", b, want)
	}
}

func FuzzReadHelloReply(f *testing.F) {
	for _, s := range [][]byte{hello1816, wrongPass, exceptionPacket(516, "DB::Exception", "x", true), []byte("HTTP/1.0 400 Bad Request\r\n")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		h, e, err := readHelloReply(bufio.NewReader(bytes.NewReader(in)))
		if err == nil && (h == nil) == (e == nil) {
			t.Fatalf("want exactly one of hello and exception: %v %v", h, e)
		}
		if h != nil {
			_ = h.Version()
		}
	})
}
