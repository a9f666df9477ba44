package mqtt

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLength(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, 2097151, 268435455} {
		b := appendLength(nil, n)
		got, err := readLength(bytes.NewReader(b))
		if err != nil || got != n {
			t.Errorf("length %d: got %d %v (%x)", n, got, err, b)
		}
	}
	if _, err := readLength(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0x01})); !errors.Is(err, errProtocol) {
		t.Fatal(err)
	}
}

func TestPackets(t *testing.T) {
	c := connectPacket(mqtt311, "leakwatch-x", 30)
	if c[0] != 0x10 || !bytes.Contains(c, []byte("MQTT\x04\x02")) {
		t.Fatalf("connect %x", c)
	}
	r := bufio.NewReader(bytes.NewReader([]byte{0x20, 2, 0, 5}))
	p, err := readPacket(r, 8)
	if err != nil {
		t.Fatal(err)
	}
	if rc, err := parseConnack(p); err != nil || rc != rcNotAuthorized {
		t.Fatalf("rc %d %v", rc, err)
	}
	pub := packet(typePublish<<4|0x03, append([]byte{0, 3, 'a', '/', 'b', 0, 1}, "hi"...)) // QoS 1, retained
	p, err = readPacket(bufio.NewReader(bytes.NewReader(pub)), 64)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parsePublish(p)
	if err != nil || m.topic != "a/b" || string(m.payload) != "hi" || !m.retain {
		t.Fatalf("%+v %v", m, err)
	}
	if _, err := readPacket(bufio.NewReader(bytes.NewReader([]byte{0x30, 0xff, 0x7f})), 64); !errors.Is(err, errTooLarge) {
		t.Fatalf("large: %v", err)
	}
	id, codes, err := parseSuback(rawPacket{first: 0x90, body: []byte{0, 1, 0, 0x80}})
	if err != nil || id != 1 || len(codes) != 2 || codes[1] != subackFailure {
		t.Fatalf("suback %d %v %v", id, codes, err)
	}
}

func TestTopicPattern(t *testing.T) {
	for in, want := range map[string]string{
		"users/1001/profile":       "users/+/profile",
		"devices/cam-7f3a9/status": "devices/+/status",
		"config/broker":            "config/broker",
	} {
		if got := topicPattern(in); got != want {
			t.Errorf("topicPattern(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPackets checks packet framing and decoding never panic or overread.
func FuzzPackets(f *testing.F) {
	f.Add([]byte{0x20, 2, 0, 0})
	f.Add([]byte{0x90, 4, 0, 1, 0, 0x80})
	f.Add(packet(typePublish<<4|0x01, append([]byte{0, 1, 't'}, `{"a":1}`...)))
	f.Add([]byte(strings.Repeat("\xff", 8)))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		for i := 0; i < 16; i++ {
			p, err := readPacket(r, 1024)
			if err != nil {
				return
			}
			if len(p.body) > 1024 {
				t.Fatalf("body %d", len(p.body))
			}
			parseConnack(p)
			parseSuback(p)
			if m, err := parsePublish(p); err == nil {
				if len(m.topic)+len(m.payload) > len(p.body) {
					t.Fatal("publish overread")
				}
				toRecord(m.topic, topicPattern(m.topic), m.payload)
			}
		}
	})
}
