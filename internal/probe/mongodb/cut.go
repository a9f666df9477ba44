package mongodb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// commandCut runs a listing command whose answer may be larger than limit
// (listDatabases on a server with tens of thousands of databases). An
// answer within limit is returned whole; a larger one is read up to limit
// and returned cut, for cutList to take the complete entries from — the
// connection is dropped afterwards. A size limit must never make an open
// server look closed.
func (s *session) commandCut(ctx context.Context, db string, cmd bson.D, limit int64) (doc []byte, cut bool, err error) {
	d, err := s.command(ctx, db, cmd, limit)
	if !errors.Is(err, errMessageTooLarge) {
		return d, false, err
	}
	if err := s.dial(ctx); err != nil {
		return nil, false, err
	}
	defer s.close()
	var msg []byte
	opCode := int32(opQuery)
	s.nextID++
	if s.opMsg {
		body, err := bson.Marshal(append(cmd, bson.E{Key: "$db", Value: db}))
		if err != nil {
			return nil, false, err
		}
		msg, opCode = buildMsg(s.nextID, body), opMsg
	} else {
		body, err := bson.Marshal(cmd)
		if err != nil {
			return nil, false, err
		}
		msg = buildQuery(s.nextID, db+".$cmd", -1, body)
	}
	if _, err := s.conn.Write(msg); err != nil {
		return nil, false, fmt.Errorf("write: %w", err)
	}
	var hb [headerLen]byte
	if _, err := io.ReadFull(s.conn, hb[:]); err != nil {
		return nil, false, fmt.Errorf("read header: %w", err)
	}
	h, _ := parseHeader(hb[:])
	if h.ResponseTo != s.nextID {
		return nil, false, fmt.Errorf("answer to request %d, want %d", h.ResponseTo, s.nextID)
	}
	n := min(int64(h.Length)-headerLen, limit)
	if n < 0 {
		return nil, false, fmt.Errorf("bad message length %d", h.Length)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(s.conn, body); err != nil {
		return nil, false, fmt.Errorf("read body: %w", err)
	}
	switch {
	case h.OpCode == opMsg && opCode == opMsg && len(body) >= 5 && body[4] == 0:
		return body[5:], true, nil
	case h.OpCode == opReply && len(body) >= 20:
		return body[20:], true, nil
	}
	return nil, false, fmt.Errorf("cut answer: opcode %d: %w", h.OpCode, errMessageTooLarge)
}

// cutList returns the complete documents of the array found at path in
// doc, a BSON document that may be cut short anywhere.
func cutList(doc []byte, path ...string) []bson.Raw {
	if len(doc) < 4 {
		return nil
	}
	b := doc[4:]
	for _, key := range path {
		found := false
		for len(b) > 0 && b[0] != 0 {
			t, k, rem, ok := bsoncore.ReadHeader(b)
			if !ok {
				return nil
			}
			if k == key && (t == bsoncore.TypeEmbeddedDocument || t == bsoncore.TypeArray) {
				if len(rem) < 4 {
					return nil
				}
				b, found = rem[4:], true
				break
			}
			_, rest, ok := bsoncore.ReadElement(b)
			if !ok {
				return nil
			}
			b = rest
		}
		if !found {
			return nil
		}
	}
	var out []bson.Raw
	for len(b) > 0 && b[0] != 0 {
		e, rest, ok := bsoncore.ReadElement(b)
		if !ok {
			break
		}
		if v := e.Value(); v.Type == bsoncore.TypeEmbeddedDocument && len(v.Data) >= 5 &&
			int(binary.LittleEndian.Uint32(v.Data)) == len(v.Data) {
			out = append(out, bson.Raw(v.Data))
		}
		b = rest
	}
	return out
}
