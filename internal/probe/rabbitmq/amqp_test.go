package rabbitmq

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// startFrame builds a Connection.Start like RabbitMQ's.
func startFrame() []byte {
	var props []byte
	add := func(k string, typ byte, v []byte) {
		props = appendShortString(props, k)
		props = append(props, typ)
		props = append(props, v...)
	}
	add("product", 'S', appendLongString(nil, "RabbitMQ"))
	add("version", 'S', appendLongString(nil, "3.10.8"))
	caps := appendShortString(nil, "publisher_confirms")
	caps = append(caps, 't', 1)
	add("capabilities", 'F', append(binary.BigEndian.AppendUint32(nil, uint32(len(caps))), caps...))
	add("n", 'l', make([]byte, 8))
	add("arr", 'A', []byte{0, 0, 0, 2, 'V', 'V'})
	args := []byte{0, 9}
	args = binary.BigEndian.AppendUint32(args, uint32(len(props)))
	args = append(args, props...)
	args = appendLongString(args, "PLAIN AMQPLAIN")
	args = appendLongString(args, "en_US")
	return methodFrame(classConnection, methodStart, args)
}

func TestParseStart(t *testing.T) {
	f, err := readFrame(bytes.NewReader(startFrame()))
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStart(f)
	if err != nil {
		t.Fatal(err)
	}
	if st.Properties["product"] != "RabbitMQ" || st.Properties["version"] != "3.10.8" || st.Mechanisms != "PLAIN AMQPLAIN" || st.VersionMinor != 9 {
		t.Fatalf("start %+v", st)
	}
	if caps, _ := st.Properties["capabilities"].(map[string]any); caps["publisher_confirms"] != true {
		t.Fatalf("capabilities %v", st.Properties["capabilities"])
	}
	if _, err := readFrame(bytes.NewReader([]byte("AMQP\x00\x01\x00\x00"))); !errors.Is(err, errProtocolHeader) {
		t.Fatalf("protocol header answer: %v", err)
	}
	if _, err := readFrame(bytes.NewReader([]byte{1, 0, 0, 0xff, 0xff, 0xff, 0xff})); err == nil {
		t.Fatal("oversized frame accepted")
	}
}

func TestHandshakeEncoders(t *testing.T) {
	for _, b := range [][]byte{startOk("guest", "guest"), tuneOk([]byte{0, 5, 0, 2, 0, 0, 0, 60}), open("/"), closeConn()} {
		f, err := readFrame(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if class, _, _, err := methodID(f); err != nil || class != classConnection {
			t.Fatalf("frame %x: class %d err %v", b, class, err)
		}
	}
}

// FuzzParseStart feeds arbitrary bytes to the frame reader and the
// Connection.Start / Close decoders.
func FuzzParseStart(f *testing.F) {
	f.Add(startFrame())
	f.Add([]byte("AMQP\x00\x00\x09\x01"))
	f.Add(methodFrame(classConnection, methodClose, []byte{1, 147, 5, 'A', 'C', 'C', 'E', 'S'}))
	f.Add(methodFrame(classConnection, methodStart, []byte{0, 9, 0, 0, 0, 6, 1, 'k', 'F', 0, 0, 0}))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := readFrame(bytes.NewReader(b))
		if err != nil {
			return
		}
		// A frame is what its header announced, ended by the frame-end
		// octet; a method frame on channel 0 re-encodes to the same bytes.
		n := len(fr.Payload)
		if n > maxFrame || 8+n > len(b) || b[7+n] != frameEnd || !bytes.Equal(fr.Payload, b[7:7+n]) {
			t.Fatalf("frame of %d bytes from %d input bytes", n, len(b))
		}
		class, method, args, err := methodID(fr)
		if err == nil && fr.Channel == 0 {
			if re := methodFrame(class, method, args); !bytes.Equal(re, b[:8+n]) {
				t.Fatalf("method frame re-encodes to %x, was %x", re, b[:8+n])
			}
		}
		if st, err := parseStart(fr); err == nil && len(st.Mechanisms)+len(st.Locales) > n {
			t.Fatalf("Connection.Start strings of %d bytes from a frame of %d", len(st.Mechanisms)+len(st.Locales), n)
		}
		if err == nil {
			_, _ = parseClose(args)
			// Tune-Ok is a well-formed Connection method frame whatever
			// Tune carried.
			back, err := readFrame(bytes.NewReader(tuneOk(args)))
			if err != nil {
				t.Fatalf("tuneOk frame: %v", err)
			}
			if c, m, a, err := methodID(back); err != nil || c != classConnection || m != methodTuneOk || len(a) != 8 {
				t.Fatalf("tuneOk: %d.%d %x %v", c, m, a, err)
			}
		}
	})
}

// FuzzQueuePage: a whole page decodes only from valid JSON; a page cut by
// the response cap keeps only items; either survives a JSON round trip
// unchanged (no field is invented or lost) as a whole page.
func FuzzQueuePage(f *testing.F) {
	f.Add([]byte(`{"items":[{"name":"q","vhost":"/","messages":3,"message_bytes":10}],"page_count":1}`))
	f.Add([]byte(`{"items":null}`))
	f.Add([]byte(`{"items":[{"name":"q","messages":-1,"message_bytes":null}],"page_count":2,"total_count":9}`))
	f.Add([]byte(`{"items":[{"name":"q","vhost":"/","messages":3},{"name":"r","vh`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, cut, err := parseQueuePage(b)
		if err != nil {
			return
		}
		if !cut && !json.Valid(b) {
			t.Fatalf("invalid JSON %q decoded as a whole page", b)
		}
		if cut && (p.PageCount != 0 || p.TotalCount != 0) {
			t.Fatalf("cut page with counts %+v", p)
		}
		re, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		back, cut, err := parseQueuePage(re)
		if err != nil || cut || !reflect.DeepEqual(p, back) {
			t.Fatalf("round trip: %+v -> %s -> %+v, cut %v, %v", p, re, back, cut, err)
		}
	})
}
