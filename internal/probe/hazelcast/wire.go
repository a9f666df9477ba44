package hazelcast

// A small, bounded codec for the few messages of the Hazelcast Open Binary
// Client Protocol (2.x, spoken by Hazelcast 4.0 and later) the prober
// needs: Client.Authentication, Client.GetDistributedObjects, Map.Size and
// Map.FetchEntries. No Go client library serves it from this project's
// module sources, and the public client dials and discovers members on its
// own; the message layouts follow the protocol's published definitions.
//
// A message is a sequence of frames, each: int32 LE frame length (header
// included), uint16 LE flags, content. The first (initial) frame holds the
// message type (int32), correlation id (int64) and, in a request, the
// partition id (int32) or, in a response, the backup-ack count (uint8),
// then the message's fixed-size fields. Variable-size fields follow one a
// frame; lists and custom types are bracketed by begin/end frames. The
// last frame carries the final flag. All integers are little-endian; the
// serialized keys and values inside (Hazelcast "Data") are big-endian.

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Frame flags.
const (
	flagBeginFragment = 1 << 15
	flagEndFragment   = 1 << 14
	flagFinal         = 1 << 13
	flagBeginStruct   = 1 << 12
	flagEndStruct     = 1 << 11
	flagNull          = 1 << 10
	flagEvent         = 1 << 9

	flagUnfragmented = flagBeginFragment | flagEndFragment
)

// Message types (service id << 16 | method id << 8 | 0 request, 1 response).
const (
	msgError                  = 0x000000
	msgAuthentication         = 0x000100
	msgAuthenticationResp     = 0x000101
	msgGetDistributedObjects  = 0x000800
	msgGetDistributedObjsResp = 0x000801
	msgMapSize                = 0x012A00
	msgMapSizeResp            = 0x012A01
	msgMapFetchEntries        = 0x013800
	msgMapFetchEntriesResp    = 0x013801
)

const (
	frameHeader   = 6
	requestHeader = 16 // type, correlation id, partition id
	respHeader    = 13 // type, correlation id, backup acks
	uuidSize      = 17 // isNull byte + two int64
)

// Authentication statuses.
const (
	authOK                 = 0
	authCredentialsFailed  = 1
	authSerializationError = 2
	authNotAllowed         = 3
)

var errMalformed = errors.New("hazelcast: malformed message")

type frame struct {
	flags   uint16
	content []byte
}

func (f frame) is(flag uint16) bool { return f.flags&flag != 0 }

// message is a decoded message: its frames in order.
type message struct {
	frames []frame
}

// msgType is the message type of the initial frame.
func (m *message) msgType() int32 {
	return int32(binary.LittleEndian.Uint32(m.frames[0].content))
}

// correlation is the correlation id of the initial frame.
func (m *message) correlation() int64 {
	return int64(binary.LittleEndian.Uint64(m.frames[0].content[4:]))
}

// fixed is the fixed-size part of a response's initial frame (after the
// header); nil when the frame is too short to hold a header.
func (m *message) fixed() []byte {
	if len(m.frames[0].content) < respHeader {
		return nil
	}
	return m.frames[0].content[respHeader:]
}

// Limits of one message: a member answer the prober asks for is small;
// anything past these is hostile or not Hazelcast.
const (
	maxFrames = 1 << 16
)

// readMessage reads one message of at most maxBytes (frames and headers
// together, ≥ 1 KiB) and at most maxFrames frames. Fragmented messages
// (members only fragment what a client asked to be fragmented) are an
// error.
func readMessage(r *bufio.Reader, maxBytes int) (*message, error) {
	if maxBytes < 1<<10 {
		maxBytes = 1 << 10
	}
	var m message
	total := 0
	var hdr [frameHeader]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if len(m.frames) > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		n := int64(int32(binary.LittleEndian.Uint32(hdr[:4])))
		flags := binary.LittleEndian.Uint16(hdr[4:])
		if n < frameHeader || n-frameHeader > int64(maxBytes-total) {
			return nil, fmt.Errorf("%w: frame length %d (budget %d)", errMalformed, n, maxBytes-total)
		}
		if len(m.frames) == 0 {
			// Checked before the content is read: another protocol's bytes
			// fail here at once instead of waiting for a "frame" to fill.
			if flags&flagUnfragmented != flagUnfragmented {
				return nil, fmt.Errorf("%w: fragmented message or not a frame (flags %#04x)", errMalformed, flags)
			}
			if n-frameHeader < respHeader {
				return nil, fmt.Errorf("%w: initial frame of %d bytes", errMalformed, n-frameHeader)
			}
		}
		content := make([]byte, n-frameHeader)
		if _, err := io.ReadFull(r, content); err != nil {
			return nil, fmt.Errorf("%w: frame content: %w", errMalformed, err)
		}
		total += int(n)
		m.frames = append(m.frames, frame{flags: flags, content: content})
		if flags&flagFinal != 0 {
			return &m, nil
		}
		if len(m.frames) >= maxFrames {
			return nil, fmt.Errorf("%w: more than %d frames", errMalformed, maxFrames)
		}
	}
}

// request builds a request message.
type request struct {
	frames []frame
}

// newRequest starts a request: the initial frame with its header and
// room for fixed bytes of fixed-size fields (filled by the caller).
func newRequest(msgType int32, corr int64, partition int32, fixed int) (*request, []byte) {
	c := make([]byte, requestHeader+fixed)
	binary.LittleEndian.PutUint32(c, uint32(msgType))
	binary.LittleEndian.PutUint64(c[4:], uint64(corr))
	binary.LittleEndian.PutUint32(c[12:], uint32(partition))
	return &request{frames: []frame{{flags: flagUnfragmented, content: c}}}, c[requestHeader:]
}

func (q *request) str(s string) *request {
	q.frames = append(q.frames, frame{content: []byte(s)})
	return q
}

func (q *request) null() *request {
	q.frames = append(q.frames, frame{flags: flagNull})
	return q
}

func (q *request) begin() *request {
	q.frames = append(q.frames, frame{flags: flagBeginStruct})
	return q
}

func (q *request) end() *request {
	q.frames = append(q.frames, frame{flags: flagEndStruct})
	return q
}

func (q *request) raw(b []byte) *request {
	q.frames = append(q.frames, frame{content: b})
	return q
}

// bytes encodes the message; the last frame gets the final flag.
func (q *request) bytes() []byte {
	size := 0
	for _, f := range q.frames {
		size += frameHeader + len(f.content)
	}
	out := make([]byte, 0, size)
	for i, f := range q.frames {
		flags := f.flags
		if i == len(q.frames)-1 {
			flags |= flagFinal
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(frameHeader+len(f.content)))
		out = binary.LittleEndian.AppendUint16(out, flags)
		out = append(out, f.content...)
	}
	return out
}

// ---- Client.Authentication -------------------------------------------------

// authRequest is Client.Authentication with the 2.0 field set (later
// fields are optional to members): cluster name, no username or password,
// the client's UUID (members require one), serialization version 1,
// client type, version, name and no labels.
func authRequest(corr int64, clientUUID [16]byte, cluster, clientType, clientVersion, clientName string) []byte {
	q, fixed := newRequest(msgAuthentication, corr, -1, uuidSize+1)
	fixed[0] = 0 // not null
	copy(fixed[1:uuidSize], clientUUID[:])
	fixed[uuidSize] = 1
	q.str(cluster).null().null().str(clientType).str(clientVersion).str(clientName).begin().end()
	return q.bytes()
}

// authAnswer is what the prober keeps of an authentication response.
type authAnswer struct {
	Status         byte
	PartitionCount int32
	Version        string // serverHazelcastVersion
	MemberUUID     string
	ClusterID      string
}

// parseAuth decodes an authentication response. Fields a member left out
// (short initial frame, missing frames) stay zero.
func parseAuth(m *message) (*authAnswer, error) {
	if m.msgType() != msgAuthenticationResp {
		return nil, fmt.Errorf("%w: message type %#x, want authentication response", errMalformed, m.msgType())
	}
	f := m.fixed()
	if len(f) < 1 {
		return nil, fmt.Errorf("%w: authentication response without status", errMalformed)
	}
	a := &authAnswer{Status: f[0]}
	if len(f) >= 1+uuidSize {
		a.MemberUUID = uuidString(f[1 : 1+uuidSize])
	}
	if len(f) >= 1+uuidSize+1+4 {
		a.PartitionCount = int32(binary.LittleEndian.Uint32(f[1+uuidSize+1:]))
	}
	if off := 1 + uuidSize + 1 + 4; len(f) >= off+uuidSize {
		a.ClusterID = uuidString(f[off : off+uuidSize])
	}
	// Variable fields: address (nullable struct), then the server version.
	i := 1
	if i < len(m.frames) {
		next, err := skipValue(m.frames, i)
		if err != nil {
			return a, nil
		}
		i = next
	}
	if i < len(m.frames) && !m.frames[i].is(flagNull|flagBeginStruct|flagEndStruct) {
		a.Version = text(m.frames[i].content, 64)
	}
	return a, nil
}

// uuidString formats a protocol UUID (isNull, most, least significant
// bits); "" when null.
func uuidString(b []byte) string {
	if len(b) < uuidSize || b[0] != 0 {
		return ""
	}
	hi := binary.LittleEndian.Uint64(b[1:])
	lo := binary.LittleEndian.Uint64(b[9:])
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", hi>>32, (hi>>16)&0xffff, hi&0xffff, lo>>48, lo&0xffffffffffff)
}

// skipValue returns the index past the value starting at frames[i]: a
// null or plain frame, or a begin/end bracketed structure (nested).
func skipValue(frames []frame, i int) (int, error) {
	if !frames[i].is(flagBeginStruct) {
		return i + 1, nil
	}
	depth := 0
	for ; i < len(frames); i++ {
		switch {
		case frames[i].is(flagBeginStruct):
			depth++
		case frames[i].is(flagEndStruct):
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
	}
	return i, fmt.Errorf("%w: structure without end", errMalformed)
}

// text is b as a valid UTF-8 string of at most max bytes.
func text(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return string([]rune(string(b)))
}

// ---- Client.GetDistributedObjects -----------------------------------------

func distributedObjectsRequest(corr int64) []byte {
	q, _ := newRequest(msgGetDistributedObjects, corr, -1, 0)
	return q.bytes()
}

// distObject is one distributed object (service name and object name).
type distObject struct {
	Service, Name string
}

// parseDistributedObjects decodes the list of DistributedObjectInfo
// structures (service name, name), at most max of them; cut says more
// were listed.
func parseDistributedObjects(m *message, max int) (objs []distObject, cut bool, err error) {
	if m.msgType() != msgGetDistributedObjsResp {
		return nil, false, fmt.Errorf("%w: message type %#x, want distributed objects", errMalformed, m.msgType())
	}
	fr := m.frames
	if len(fr) < 2 || !fr[1].is(flagBeginStruct) {
		return nil, false, fmt.Errorf("%w: no object list", errMalformed)
	}
	for i := 2; i < len(fr); {
		if fr[i].is(flagEndStruct) {
			return objs, false, nil
		}
		if !fr[i].is(flagBeginStruct) {
			return objs, false, fmt.Errorf("%w: list element is not a structure", errMalformed)
		}
		next, err := skipValue(fr, i)
		if err != nil {
			return objs, false, err
		}
		var strs []string
		for _, f := range fr[i+1 : next-1] {
			if !f.is(flagBeginStruct|flagEndStruct|flagNull) && len(strs) < 2 {
				strs = append(strs, text(f.content, 512))
			}
		}
		if len(strs) == 2 {
			if len(objs) >= max {
				return objs, true, nil
			}
			objs = append(objs, distObject{Service: strs[0], Name: strs[1]})
		}
		i = next
	}
	return objs, false, fmt.Errorf("%w: object list without end", errMalformed)
}

// ---- Map.Size --------------------------------------------------------------

func mapSizeRequest(corr int64, name string) []byte {
	q, _ := newRequest(msgMapSize, corr, -1, 0)
	return q.str(name).bytes()
}

func parseMapSize(m *message) (int32, error) {
	if m.msgType() != msgMapSizeResp {
		return 0, fmt.Errorf("%w: message type %#x, want map size", errMalformed, m.msgType())
	}
	f := m.fixed()
	if len(f) < 4 {
		return 0, fmt.Errorf("%w: map size response without size", errMalformed)
	}
	return int32(binary.LittleEndian.Uint32(f)), nil
}

// ---- Map.FetchEntries ------------------------------------------------------

// fetchEntriesRequest asks one partition (the message's partition id) for
// up to batch entries of map name from the start: one iteration pointer
// (index MaxInt32, size -1), as the Java client begins a partition.
func fetchEntriesRequest(corr int64, partition int32, name string, batch int32) []byte {
	q, fixed := newRequest(msgMapFetchEntries, corr, partition, 4)
	binary.LittleEndian.PutUint32(fixed, uint32(batch))
	ptr := make([]byte, 8)
	binary.LittleEndian.PutUint32(ptr, 0x7fffffff)
	binary.LittleEndian.PutUint32(ptr[4:], 0xffffffff)
	return q.str(name).raw(ptr).bytes()
}

// entry is one serialized key and value (Hazelcast Data; nil for null).
type entry struct {
	Key, Value []byte
}

// parseFetchEntries decodes the entries of a FetchEntries response:
// iteration pointers (one frame), then a bracketed list of key, value
// frames.
func parseFetchEntries(m *message) ([]entry, error) {
	if m.msgType() != msgMapFetchEntriesResp {
		return nil, fmt.Errorf("%w: message type %#x, want fetched entries", errMalformed, m.msgType())
	}
	fr := m.frames
	if len(fr) < 3 || !fr[2].is(flagBeginStruct) {
		return nil, fmt.Errorf("%w: no entry list", errMalformed)
	}
	var out []entry
	for i := 3; i < len(fr); i += 2 {
		if fr[i].is(flagEndStruct) {
			return out, nil
		}
		if i+1 >= len(fr) || fr[i].is(flagBeginStruct) || fr[i+1].is(flagBeginStruct|flagEndStruct) {
			break
		}
		e := entry{}
		if !fr[i].is(flagNull) {
			e.Key = fr[i].content
		}
		if !fr[i+1].is(flagNull) {
			e.Value = fr[i+1].content
		}
		out = append(out, e)
	}
	return out, fmt.Errorf("%w: entry list without end", errMalformed)
}

// ---- errors ----------------------------------------------------------------

// parseError reads the first error holder of an error message (type 0):
// a list of structures, each an initial frame (error code), the class
// name and a nullable message; for the prober's error text.
func parseError(m *message) string {
	fr := m.frames
	for i := 1; i+3 < len(fr); i++ {
		if fr[i].is(flagBeginStruct) && fr[i+1].is(flagBeginStruct) {
			s := text(fr[i+3].content, 100)
			if !fr[i+4-1].is(flagNull) && i+4 < len(fr) && !fr[i+4].is(flagNull|flagBeginStruct|flagEndStruct) {
				s += ": " + text(fr[i+4].content, 200)
			}
			return s
		}
	}
	return "unknown error"
}

// ---- serialized values (Hazelcast Data) -------------------------------------

// Serialization type ids (big-endian int32 after a 4-byte partition hash).
const (
	typeString  = -11
	typeJSON    = -130
	typeInteger = -7
	typeLong    = -8
	typeBoolean = -4
)

// decodeData turns a serialized key or value into text when it is one of
// the types a cache usually holds (String, HazelcastJsonValue, integers,
// booleans); ok is false for other types (Compact, Portable, Java
// serialization …) and for broken data.
func decodeData(b []byte) (s string, json bool, ok bool) {
	if len(b) < 8 {
		return "", false, false
	}
	typ := int32(binary.BigEndian.Uint32(b[4:]))
	p := b[8:]
	switch typ {
	case typeString, typeJSON:
		if len(p) < 4 {
			return "", false, false
		}
		n := int32(binary.BigEndian.Uint32(p))
		if n < 0 || int(n) > len(p)-4 {
			return "", false, false
		}
		return text(p[4:4+n], len(p)), typ == typeJSON, true
	case typeInteger:
		if len(p) < 4 {
			return "", false, false
		}
		return fmt.Sprint(int32(binary.BigEndian.Uint32(p))), false, true
	case typeLong:
		if len(p) < 8 {
			return "", false, false
		}
		return fmt.Sprint(int64(binary.BigEndian.Uint64(p))), false, true
	case typeBoolean:
		if len(p) < 1 {
			return "", false, false
		}
		return fmt.Sprint(p[0] != 0), false, true
	}
	return "", false, false
}

// newReader wraps a connection for readMessage.
func newReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 16<<10) }
