package mongodb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustBSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// opReplyBody builds an OP_REPLY body (after the header).
func opReplyBody(flags uint32, docs ...[]byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, flags)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(docs)))
	for _, d := range docs {
		b = append(b, d...)
	}
	return b
}

func TestRoundTripFraming(t *testing.T) {
	doc := mustBSON(t, bson.D{{Key: "ok", Value: 1.0}, {Key: "maxWireVersion", Value: int32(21)}})
	msg := buildMsg(7, doc)
	h, body, err := readMessage(bytes.NewReader(msg), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h.RequestID != 7 || h.OpCode != opMsg || int(h.Length) != len(msg) {
		t.Fatalf("header %+v", h)
	}
	r, err := parseReply(h.OpCode, body)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := int64Of(r.Docs[0], "maxWireVersion"); n != 21 || commandResult(r.Docs[0], false) != nil {
		t.Fatalf("decoded %v", r.Docs[0])
	}
	if _, _, err := readMessage(bytes.NewReader(msg), 20); !errors.Is(err, errMessageTooLarge) {
		t.Fatalf("limit not enforced: %v", err)
	}

	fail := mustBSON(t, bson.D{{Key: "$err", Value: "not authorized"}, {Key: "code", Value: int32(13)}})
	r, err = parseReply(opReply, opReplyBody(replyQueryFailure, fail))
	if err != nil {
		t.Fatal(err)
	}
	if err := commandResult(r.Docs[0], r.QueryFailure); !isAuthError(err) {
		t.Fatalf("query failure not an auth error: %v", err)
	}
}

func TestOpMsgSequenceAndChecksum(t *testing.T) {
	body := mustBSON(t, bson.D{{Key: "ok", Value: 1}})
	seqDoc := mustBSON(t, bson.D{{Key: "x", Value: "y"}})
	b := binary.LittleEndian.AppendUint32(nil, msgChecksumPresent)
	b = append(b, 0)
	b = append(b, body...)
	b = append(b, 1)
	b = binary.LittleEndian.AppendUint32(b, uint32(4+len("documents")+1+len(seqDoc)))
	b = append(b, "documents\x00"...)
	b = append(b, seqDoc...)
	b = append(b, 0xde, 0xad, 0xbe, 0xef) // checksum
	r, err := parseOpMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Docs) != 2 || stringOf(r.Docs[1], "x") != "y" {
		t.Fatalf("docs %v", r.Docs)
	}
}

func TestToRecord(t *testing.T) {
	doc := mustBSON(t, bson.D{
		{Key: "_id", Value: bson.ObjectID{1, 2, 3}},
		{Key: "user", Value: bson.D{{Key: "email", Value: "a@example.com"}, {Key: "age", Value: int32(41)}}},
		{Key: "tags", Value: bson.A{"x", "y"}},
		{Key: "blob", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2}}},
	})
	r := toRecord(doc)
	got := map[string][]string{}
	for _, v := range r.Values {
		got[v.Path] = append(got[v.Path], v.Text)
	}
	if got["user.email"][0] != "a@example.com" || got["user.age"][0] != "41" || len(got["tags"]) != 2 || got["blob"] != nil {
		t.Fatalf("record %v", got)
	}
	if got["_id"][0] != "010203000000000000000000" {
		t.Fatalf("object id %v", got["_id"])
	}
}

// FuzzParseReply feeds arbitrary message bodies to the reply decoders and
// the flattener; nothing may panic.
func FuzzParseReply(f *testing.F) {
	ok := mustBSON(f, bson.D{{Key: "ok", Value: 1.0}, {Key: "cursor", Value: bson.D{{Key: "firstBatch", Value: bson.A{bson.D{{Key: "a", Value: "b"}}}}}}})
	f.Add(int32(opMsg), append([]byte{0, 0, 0, 0, 0}, ok...))
	f.Add(int32(opReply), opReplyBody(0, ok))
	f.Add(int32(opReply), opReplyBody(replyQueryFailure, ok, ok))
	f.Add(int32(opMsg), []byte{1, 0, 0, 0, 1, 5, 0, 0, 0})
	f.Add(int32(opMsg), []byte{0, 0, 0, 0, 0, 5, 0, 0, 0, 0})
	f.Add(int32(opMsg), []byte{0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, opCode int32, body []byte) {
		r, err := parseReply(opCode, body)
		if err != nil {
			return
		}
		// Every document is valid BSON of its announced length, together
		// they fit the body, an OP_MSG has its body section first, and only
		// an OP_REPLY can carry the query-failure flag.
		total := 0
		for _, d := range r.Docs {
			if err := d.Validate(); err != nil || int(binary.LittleEndian.Uint32(d)) != len(d) {
				t.Fatalf("document %x: %v", d, err)
			}
			total += len(d)
		}
		if total > len(body) {
			t.Fatalf("documents of %d bytes from a body of %d", total, len(body))
		}
		if opCode == opMsg && (len(r.Docs) == 0 || r.QueryFailure) {
			t.Fatalf("OP_MSG: %d documents, query failure %v", len(r.Docs), r.QueryFailure)
		}
		for _, d := range r.Docs {
			_ = commandResult(d, r.QueryFailure)
			_ = toRecord(d)
			_ = firstBatch(d)
			_ = isMongoHello(d)
		}
	})
}

// FuzzReadMessage feeds arbitrary byte streams to the framer.
func FuzzReadMessage(f *testing.F) {
	f.Add(buildMsg(1, mustBSON(f, bson.D{{Key: "ok", Value: 1}})))
	f.Add(buildQuery(1, "admin.$cmd", -1, mustBSON(f, bson.D{{Key: "isMaster", Value: 1}})))
	f.Add([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, body, err := readMessage(bytes.NewReader(b), 1<<16)
		if err != nil {
			return
		}
		if int(h.Length) != len(body)+headerLen {
			t.Fatalf("length %d, body %d", h.Length, len(body))
		}
		_, _ = parseReply(h.OpCode, body)
	})
}
