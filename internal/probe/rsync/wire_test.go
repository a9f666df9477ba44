package rsync

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// flist29 is a real protocol-29 file list as rsync 3.x sends it for
// "--server --sender -r . pub/" (captured from the Debian daemon), inside
// one MSG_DATA frame, followed by the io_error int.
var flist29 = []byte(";\x00\x00\x07\x19\x01.\x00\x10\x00\x00\xf0\xfc\nk\xedA\x00\x00\x9a\x03sub\x00\x10\x00\x00" +
	"\x98\x05x.csv\x04\x00\x00\x00\xa4\x81\x00\x00\x9a\tsub/y.txt\x06\x00\x00\x00\x00\x00\x00\x00\x00")

func TestReadFileList(t *testing.T) {
	d := &demux{r: bytes.NewReader(flist29)}
	es, complete, err := readFileList(d, 10)
	if err != nil || !complete || len(es) != 4 {
		t.Fatalf("%v %v %v", es, complete, err)
	}
	if es[1].Name != "sub" || !es[1].IsDir() || es[2].Name != "x.csv" || es[2].Size != 4 || !es[2].IsRegular() || es[3].Name != "sub/y.txt" || !es[3].IsRegular() {
		t.Errorf("entries %+v", es)
	}
	es, complete, _ = readFileList(&demux{r: bytes.NewReader(flist29)}, 2)
	if len(es) != 2 || complete {
		t.Errorf("limit: %d %v", len(es), complete)
	}
	// Name prefix longer than the previous name is rejected.
	bad := []byte{xmitSameName, 9, 1, 'x'}
	if _, _, err := readFileList(bytes.NewReader(bad), 10); err == nil {
		t.Error("bad prefix accepted")
	}
}

func TestDemuxSkipsMessages(t *testing.T) {
	var b []byte
	msg := []byte("rsync: some warning\n")
	b = binary.LittleEndian.AppendUint32(b, uint32(mplexBase+msgError)<<24|uint32(len(msg)))
	b = append(b, msg...)
	b = binary.LittleEndian.AppendUint32(b, uint32(mplexBase)<<24|3)
	b = append(b, "abc"...)
	d := &demux{r: bytes.NewReader(b)}
	var out [3]byte
	if _, err := d.Read(out[:]); err != nil || string(out[:]) != "abc" || d.errors != 1 {
		t.Fatalf("%q %v %d", out, err, d.errors)
	}
}

func TestReadTokens(t *testing.T) {
	var b []byte
	b = binary.LittleEndian.AppendUint32(b, 5)
	b = append(b, "hello"...)
	b = binary.LittleEndian.AppendUint32(b, 6)
	b = append(b, " world"...)
	b = binary.LittleEndian.AppendUint32(b, 0)
	data, complete, err := readTokens(bytes.NewReader(b), 100)
	if err != nil || !complete || string(data) != "hello world" {
		t.Fatalf("%q %v %v", data, complete, err)
	}
	data, complete, _ = readTokens(bytes.NewReader(b), 7)
	if string(data) != "hello w" || complete {
		t.Fatalf("limit %q %v", data, complete)
	}
}

func TestText(t *testing.T) {
	g, err := parseGreeting("@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4")
	if err != nil || g.Major != 32 || len(g.Digests) != 5 {
		t.Fatalf("%+v %v", g, err)
	}
	if g, err := parseGreeting("@RSYNCD: 30"); err != nil || g.Major != 30 {
		t.Fatalf("%+v %v", g, err)
	}
	for _, bad := range []string{"SSH-2.0-x", "@RSYNCD:", "@RSYNCD: x.y", "220 ftp"} {
		if _, err := parseGreeting(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if m, ok := parseModuleLine("pub            \tpublic files"); !ok || m.Name != "pub" || m.Comment != "public files" {
		t.Errorf("module %+v", m)
	}
	if m, ok := parseModuleLine("my files       \tspaces allowed"); !ok || m.Name != "my files" {
		t.Errorf("module with a space %+v", m)
	}
	if _, ok := parseModuleLine("@RSYNCD: EXIT"); ok {
		t.Error("exit taken for a module")
	}
	if a, ok := classifyLine("@RSYNCD: AUTHREQD T8PX9q+6cEcYvLOQ6rHBAQ"); !ok || a != answerAuth {
		t.Error("authreqd")
	}
}

func FuzzWire(f *testing.F) {
	f.Add(flist29)
	f.Add([]byte("@RSYNCD: 31.0 md5\n"))
	f.Add([]byte{7, 0, 0, 7, 0x44, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{5, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseGreeting(string(b))
		_, _ = parseModuleLine(string(b))
		_, _ = classifyLine(string(b))
		for _, r := range []interface {
			Read([]byte) (int, error)
		}{&demux{r: bytes.NewReader(b)}, bytes.NewReader(b)} {
			es, _, _ := readFileList(r, 5)
			if len(es) > 5 {
				t.Fatal("over max")
			}
			for _, e := range es {
				if len(e.Name) > maxNameLen {
					t.Fatal("name over max")
				}
			}
		}
		if data, _, _ := readTokens(bytes.NewReader(b), 64); len(data) > 64 {
			t.Fatal("tokens over limit")
		}
	})
}
