package hazelcast

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The testdata files are a real Hazelcast 5.5.0 member's answers, as
// written on the wire:
//   - open-session.bin: authentication (cluster "dev") accepted, the
//     object list, Map.Size of "sessions", FetchEntries of every partition
//     (0…270) of "sessions" and of "customers" (one entry each map:
//     sessions["sess:abc"] = "user@example.com", customers["cust-1"] =
//     {"email":"a@b.example","token":"x"} as HazelcastJsonValue);
//   - rejected-auth.bin: the same authentication refused by a member of
//     another cluster name.

func messages(t testing.TB, name string) []*message {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(bytes.NewReader(b))
	var out []*message
	for {
		m, err := readMessage(br, 1<<20)
		if err != nil {
			if len(out) == 0 {
				t.Fatalf("%s: %v", name, err)
			}
			return out
		}
		out = append(out, m)
	}
}

func TestRealSession(t *testing.T) {
	ms := messages(t, "open-session.bin")
	if len(ms) != 3+2*271 {
		t.Fatalf("%d messages, want %d", len(ms), 3+2*271)
	}
	// Pipelined requests may be answered in any order.
	slices.SortFunc(ms, func(a, b *message) int { return cmp.Compare(a.correlation(), b.correlation()) })
	a, err := parseAuth(ms[0])
	if err != nil || a.Status != authOK || a.Version != "5.5.0" || a.PartitionCount != 271 || a.ClusterID == "" || a.MemberUUID == "" {
		t.Fatalf("auth %+v %v", a, err)
	}
	objs, cut, err := parseDistributedObjects(ms[1], 100)
	if err != nil || cut || len(objs) != 2 {
		t.Fatalf("objects %+v %v %v", objs, cut, err)
	}
	for _, o := range objs {
		if o.Service != mapService || (o.Name != "sessions" && o.Name != "customers") {
			t.Errorf("object %+v", o)
		}
	}
	if objs, cut, _ := parseDistributedObjects(ms[1], 1); len(objs) != 1 || !cut {
		t.Errorf("max 1: %v %v", objs, cut)
	}
	if n, err := parseMapSize(ms[2]); n != 1 || err != nil {
		t.Errorf("size %d %v", n, err)
	}
	var got []string
	for _, m := range ms[3:] {
		es, err := parseFetchEntries(m)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		for _, e := range es {
			k, _, kok := decodeData(e.Key)
			v, js, vok := decodeData(e.Value)
			if !kok || !vok {
				t.Errorf("undecodable entry %x %x", e.Key, e.Value)
			}
			got = append(got, k+"="+v+map[bool]string{true: " (json)"}[js])
		}
	}
	want := []string{"sess:abc=user@example.com", `cust-1={"email":"a@b.example","token":"x"} (json)`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("entries %q, want %q", got, want)
	}
}

func TestRealRejection(t *testing.T) {
	ms := messages(t, "rejected-auth.bin")
	a, err := parseAuth(ms[0])
	if err != nil || a.Status != authCredentialsFailed || a.Version != "" || a.PartitionCount != -1 {
		t.Errorf("auth %+v %v", a, err)
	}
}

func TestRequestsRoundTrip(t *testing.T) {
	var id [16]byte
	for _, b := range [][]byte{
		authRequest(1, id, "dev", "GOO", "5.0.0", "leakwatch"), distributedObjectsRequest(2),
		mapSizeRequest(3, "m"), fetchEntriesRequest(4, 270, "m", 20),
	} {
		// A request is itself a well-formed message (request header ≥ the
		// response header readMessage checks).
		m, err := readMessage(bufio.NewReader(bytes.NewReader(b)), 1<<10)
		if err != nil || len(b) == 0 {
			t.Fatalf("%x: %v", b, err)
		}
		if m.frames[len(m.frames)-1].flags&flagFinal == 0 {
			t.Errorf("last frame not final")
		}
	}
	m, _ := readMessage(bufio.NewReader(bytes.NewReader(fetchEntriesRequest(9, 270, "m", 20))), 1<<10)
	if p := int32(binary.LittleEndian.Uint32(m.frames[0].content[12:])); p != 270 || m.correlation() != 9 || m.msgType() != msgMapFetchEntries {
		t.Errorf("partition %d corr %d type %#x", p, m.correlation(), m.msgType())
	}
}

func TestReadMessageBounds(t *testing.T) {
	frameOf := func(n int32, flags uint16, content []byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, uint32(n))
		b = binary.LittleEndian.AppendUint16(b, flags)
		return append(b, content...)
	}
	initial := make([]byte, respHeader)
	for name, b := range map[string][]byte{
		"huge length":     frameOf(0x7fffffff, flagUnfragmented|flagFinal, nil),
		"negative length": frameOf(-16, flagUnfragmented|flagFinal, nil),
		"short length":    frameOf(3, flagUnfragmented|flagFinal, nil),
		"fragmented":      frameOf(6+respHeader, flagBeginFragment|flagFinal, initial),
		"tiny initial":    frameOf(6+4, flagUnfragmented|flagFinal, initial[:4]),
		"http":            []byte("HTTP/1.1 400 Bad Request\r\n\r\n"),
		"mysql":           []byte("\x4a\x00\x00\x00\x0a5.7.44\x00"),
	} {
		_, err := readMessage(bufio.NewReader(bytes.NewReader(b)), 1<<20)
		if !errors.Is(err, errMalformed) {
			t.Errorf("%s: %v, want malformed", name, err)
		}
	}
	// More frames than allowed, each small: bounded.
	var b []byte
	b = append(b, frameOf(6+respHeader, flagUnfragmented, initial)...)
	for range maxFrames + 1 {
		b = append(b, frameOf(6, 0, nil)...)
	}
	if _, err := readMessage(bufio.NewReader(bytes.NewReader(b)), 64<<20); !errors.Is(err, errMalformed) {
		t.Errorf("frame flood: %v", err)
	}
}

func TestDecodeData(t *testing.T) {
	data := func(typ int32, p []byte) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint32(b[4:], uint32(typ))
		return append(b, p...)
	}
	str := func(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }
	for _, c := range []struct {
		in   []byte
		want string
		ok   bool
	}{
		{data(typeString, str("héllo")), "héllo", true},
		{data(typeJSON, str(`{"a":1}`)), `{"a":1}`, true},
		{data(typeInteger, []byte{0xff, 0xff, 0xff, 0xfe}), "-2", true},
		{data(typeLong, []byte{0, 0, 0, 0, 0, 0, 1, 0}), "256", true},
		{data(typeBoolean, []byte{1}), "true", true},
		{data(typeString, []byte{0x7f, 0xff, 0xff, 0xff, 'a'}), "", false},
		{data(typeString, []byte{0xff, 0xff, 0xff, 0xff}), "", false},
		{data(-55, []byte{1, 2, 3}), "", false}, // Compact
		{[]byte{1, 2}, "", false},
	} {
		got, _, ok := decodeData(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("%x: %q %v, want %q %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzMessage: any bytes through the frame reader and every parser: no
// panic, bounded results.
func FuzzMessage(f *testing.F) {
	for _, n := range []string{"open-session.bin", "rejected-auth.bin"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var id [16]byte
	f.Add(authRequest(1, id, "dev", "GOO", "5.0.0", "x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReader(bytes.NewReader(b))
		for range 8 {
			m, err := readMessage(br, 64<<10)
			if err != nil {
				return
			}
			if len(m.frames) == 0 || len(m.frames) > maxFrames {
				t.Fatalf("%d frames", len(m.frames))
			}
			_, _ = parseAuth(m)
			objs, _, _ := parseDistributedObjects(m, 10)
			if len(objs) > 10 {
				t.Fatalf("%d objects past max 10", len(objs))
			}
			_, _ = parseMapSize(m)
			es, _ := parseFetchEntries(m)
			for _, e := range es {
				_, _, _ = decodeData(e.Key)
				_, _ = record(e)
			}
			_ = parseError(m)
		}
	})
}
