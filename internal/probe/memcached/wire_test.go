package memcached

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

func TestParseMetadump(t *testing.T) {
	it, ok := parseMetadump("key=user%3A1001 exp=-1 la=1795881493 cas=2 fetch=no cls=1 size=95")
	if !ok || it.key != "user:1001" || it.size != 95 {
		t.Fatalf("%+v %v", it, ok)
	}
	for _, l := range []string{"BUSY currently processing crawler request", "ERROR", "key=%zz size=1", "key= size=3"} {
		if _, ok := parseMetadump(l); ok {
			t.Errorf("accepted %q", l)
		}
	}
}

func TestParseValueHeader(t *testing.T) {
	h, err := parseValueHeader("VALUE user:1 0 42")
	if err != nil || h.key != "user:1" || h.bytes != 42 {
		t.Fatalf("%+v %v", h, err)
	}
	if _, err := parseValueHeader("VALUE k 0 -3"); !errors.Is(err, errProtocol) {
		t.Fatal(err)
	}
}

func binResp(op byte, status uint16, key, val string) []byte {
	h := make([]byte, headerLen)
	h[0], h[1] = magicResponse, op
	binary.BigEndian.PutUint16(h[2:4], uint16(len(key)))
	binary.BigEndian.PutUint16(h[6:8], status)
	binary.BigEndian.PutUint32(h[8:12], uint32(len(key)+len(val)))
	return append(append(h, key...), val...)
}

func TestBinResponse(t *testing.T) {
	r, err := readBinResponse(bytes.NewReader(binResp(opStat, 0, "pid", "42")))
	if err != nil || r.key != "pid" || r.value != "42" || r.opcode != opStat {
		t.Fatalf("%+v %v", r, err)
	}
	big := binResp(opStat, 0, "", "")
	binary.BigEndian.PutUint32(big[8:12], 1<<30)
	if _, err := readBinResponse(bytes.NewReader(big)); !errors.Is(err, errProtocol) {
		t.Fatalf("huge body: %v", err)
	}
	if req := binRequest(opVersion); len(req) != headerLen || !bytes.Contains(req, []byte("\r\n")) {
		t.Fatalf("request %x", req)
	}
}

// FuzzBinResponse checks binary response decoding stays within bounds.
func FuzzBinResponse(f *testing.F) {
	f.Add(binResp(opVersion, 0, "", "1.6.18"))
	f.Add(binResp(opStat, statusAuthError, "", "Auth failure."))
	f.Add([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := readBinResponse(bytes.NewReader(in))
		if err == nil && len(r.key)+len(r.value) > maxBody {
			t.Fatalf("body %d > %d", len(r.key)+len(r.value), maxBody)
		}
	})
}

// FuzzASCII checks the ASCII line parsers never panic and keep bounds.
func FuzzASCII(f *testing.F) {
	f.Add("STAT version 1.6.18\r\nVALUE k 0 5\r\nkey=a%20b exp=-1 size=3\r\nEND\r\n")
	f.Add(strings.Repeat("A", 3*maxLine))
	f.Fuzz(func(t *testing.T, in string) {
		r := bufio.NewReaderSize(strings.NewReader(in), maxLine)
		for i := 0; i < 64; i++ {
			line, err := readLine(r)
			if err != nil {
				return
			}
			if len(line) > maxLine {
				t.Fatalf("line of %d", len(line))
			}
			parseStat(line)
			if it, ok := parseMetadump(line); ok && it.key == "" {
				t.Fatal("empty key accepted")
			}
			if h, err := parseValueHeader(line); err == nil && h.bytes < 0 {
				t.Fatal("negative length")
			}
		}
	})
}
