package mongodb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// MongoDB wire protocol framing. Every message starts with a 16-byte header
// (int32 length, requestID, responseTo, opCode, little-endian). Commands go
// out as OP_MSG (wire version >= 6, MongoDB 3.6+) or, for the handshake and
// old servers, as OP_QUERY on "<db>.$cmd"; answers come back as OP_MSG or
// OP_REPLY. Compression is never negotiated, so OP_COMPRESSED never comes.

const (
	opReply = 1
	opQuery = 2004
	opMsg   = 2013

	headerLen = 16

	// msgChecksumPresent is OP_MSG flag bit 0: a CRC-32C trails the sections.
	msgChecksumPresent = 1 << 0
	// replyQueryFailure is OP_REPLY flag bit 1: the document is a $err.
	replyQueryFailure = 1 << 1
)

// errMessageTooLarge means the peer announced a message past our limit; the
// connection is unusable afterwards (the body was not read).
var errMessageTooLarge = errors.New("message larger than limit")

// header is a wire message header.
type header struct {
	Length     int32
	RequestID  int32
	ResponseTo int32
	OpCode     int32
}

func parseHeader(b []byte) (header, error) {
	if len(b) < headerLen {
		return header{}, fmt.Errorf("short header: %d bytes", len(b))
	}
	return header{
		Length:     int32(binary.LittleEndian.Uint32(b[0:])),
		RequestID:  int32(binary.LittleEndian.Uint32(b[4:])),
		ResponseTo: int32(binary.LittleEndian.Uint32(b[8:])),
		OpCode:     int32(binary.LittleEndian.Uint32(b[12:])),
	}, nil
}

func putHeader(b []byte, h header) {
	binary.LittleEndian.PutUint32(b[0:], uint32(h.Length))
	binary.LittleEndian.PutUint32(b[4:], uint32(h.RequestID))
	binary.LittleEndian.PutUint32(b[8:], uint32(h.ResponseTo))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.OpCode))
}

// buildQuery makes an OP_QUERY message. numberToReturn -1 asks for one
// document and no cursor; -n for n documents in a single batch.
func buildQuery(requestID int32, fullCollection string, numberToReturn int32, query []byte) []byte {
	n := headerLen + 4 + len(fullCollection) + 1 + 4 + 4 + len(query)
	b := make([]byte, headerLen, n)
	putHeader(b, header{Length: int32(n), RequestID: requestID, OpCode: opQuery})
	b = binary.LittleEndian.AppendUint32(b, 0) // flags
	b = append(b, fullCollection...)
	b = append(b, 0)
	b = binary.LittleEndian.AppendUint32(b, 0) // numberToSkip
	b = binary.LittleEndian.AppendUint32(b, uint32(numberToReturn))
	return append(b, query...)
}

// buildMsg makes an OP_MSG message with one body section (kind 0).
func buildMsg(requestID int32, body []byte) []byte {
	n := headerLen + 4 + 1 + len(body)
	b := make([]byte, headerLen, n)
	putHeader(b, header{Length: int32(n), RequestID: requestID, OpCode: opMsg})
	b = binary.LittleEndian.AppendUint32(b, 0) // flagBits
	b = append(b, 0)                           // section kind 0: body
	return append(b, body...)
}

// readMessage reads one whole message of at most limit bytes.
func readMessage(r io.Reader, limit int64) (header, []byte, error) {
	var hb [headerLen]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return header{}, nil, fmt.Errorf("read header: %w", err)
	}
	h, _ := parseHeader(hb[:])
	if h.Length < headerLen {
		return h, nil, fmt.Errorf("bad message length %d", h.Length)
	}
	if int64(h.Length) > limit {
		return h, nil, fmt.Errorf("%w: %d > %d bytes", errMessageTooLarge, h.Length, limit)
	}
	body := make([]byte, int(h.Length)-headerLen)
	if _, err := io.ReadFull(r, body); err != nil {
		return h, nil, fmt.Errorf("read body: %w", err)
	}
	return h, body, nil
}

// reply is a decoded server answer.
type reply struct {
	// Docs are the documents: the OP_MSG body (first) and any document
	// sequences, or the OP_REPLY documents.
	Docs []bson.Raw
	// QueryFailure is set for an OP_REPLY whose first document is a $err.
	QueryFailure bool
}

// parseReply decodes the body (after the header) of an OP_REPLY or OP_MSG.
func parseReply(opCode int32, body []byte) (*reply, error) {
	switch opCode {
	case opReply:
		return parseOpReply(body)
	case opMsg:
		return parseOpMsg(body)
	default:
		return nil, fmt.Errorf("unexpected opcode %d", opCode)
	}
}

func parseOpReply(b []byte) (*reply, error) {
	if len(b) < 20 {
		return nil, fmt.Errorf("short OP_REPLY: %d bytes", len(b))
	}
	flags := binary.LittleEndian.Uint32(b[0:])
	n := int32(binary.LittleEndian.Uint32(b[16:]))
	if n < 0 {
		return nil, fmt.Errorf("OP_REPLY: negative document count %d", n)
	}
	docs, err := readDocs(b[20:], int(n))
	if err != nil {
		return nil, fmt.Errorf("OP_REPLY: %w", err)
	}
	if len(docs) != int(n) {
		return nil, fmt.Errorf("OP_REPLY: %d documents announced, %d present", n, len(docs))
	}
	return &reply{Docs: docs, QueryFailure: flags&replyQueryFailure != 0}, nil
}

func parseOpMsg(b []byte) (*reply, error) {
	if len(b) < 5 {
		return nil, fmt.Errorf("short OP_MSG: %d bytes", len(b))
	}
	flags := binary.LittleEndian.Uint32(b[0:])
	b = b[4:]
	if flags&msgChecksumPresent != 0 {
		if len(b) < 4 {
			return nil, errors.New("OP_MSG: missing checksum")
		}
		b = b[:len(b)-4]
	}
	r := &reply{}
	var body bson.Raw
	for len(b) > 0 {
		kind := b[0]
		b = b[1:]
		switch kind {
		case 0:
			doc, rest, err := readDoc(b)
			if err != nil {
				return nil, fmt.Errorf("OP_MSG body: %w", err)
			}
			if body != nil {
				return nil, errors.New("OP_MSG: two body sections")
			}
			body, b = doc, rest
		case 1:
			seq, rest, err := readSequence(b)
			if err != nil {
				return nil, fmt.Errorf("OP_MSG sequence: %w", err)
			}
			r.Docs = append(r.Docs, seq...)
			b = rest
		default:
			return nil, fmt.Errorf("OP_MSG: unknown section kind %d", kind)
		}
	}
	if body == nil {
		return nil, errors.New("OP_MSG: no body section")
	}
	r.Docs = append([]bson.Raw{body}, r.Docs...)
	return r, nil
}

// readSequence reads a kind-1 section: int32 size, cstring identifier,
// documents filling the rest of size.
func readSequence(b []byte) ([]bson.Raw, []byte, error) {
	if len(b) < 4 {
		return nil, nil, errors.New("short sequence")
	}
	size := int(int32(binary.LittleEndian.Uint32(b)))
	if size < 5 || size > len(b) {
		return nil, nil, fmt.Errorf("bad sequence size %d", size)
	}
	seq, rest := b[4:size], b[size:]
	end := -1
	for i, c := range seq {
		if c == 0 {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, nil, errors.New("unterminated sequence identifier")
	}
	docs, err := readDocs(seq[end+1:], -1)
	return docs, rest, err
}

// readDocs reads consecutive BSON documents filling b (max < 0) or max of them.
func readDocs(b []byte, max int) ([]bson.Raw, error) {
	var docs []bson.Raw
	for len(b) > 0 && (max < 0 || len(docs) < max) {
		doc, rest, err := readDoc(b)
		if err != nil {
			return docs, err
		}
		docs = append(docs, doc)
		b = rest
	}
	return docs, nil
}

// readDoc reads one validated BSON document from the front of b.
func readDoc(b []byte) (bson.Raw, []byte, error) {
	if len(b) < 5 {
		return nil, nil, errors.New("short document")
	}
	n := int(int32(binary.LittleEndian.Uint32(b)))
	if n < 5 || n > len(b) {
		return nil, nil, fmt.Errorf("bad document length %d", n)
	}
	doc := bson.Raw(b[:n])
	if err := doc.Validate(); err != nil {
		return nil, nil, fmt.Errorf("invalid document: %w", err)
	}
	return doc, b[n:], nil
}
