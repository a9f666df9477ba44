package zookeeper

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The ZooKeeper client protocol: length-prefixed frames of big-endian
// "jute" records. Only what a read-only client needs is encoded: connect,
// getChildren2, getData, closeSession.

// Operation codes.
const (
	opGetData      = 4
	opGetChildren2 = 12
	opCloseSession = -11
)

// Error codes in reply headers.
const (
	errOK     = 0
	errNoNode = -101
	errNoAuth = -102
)

// statLen is the size of a Stat record.
const statLen = 68

// errProtocol marks bytes that are not ZooKeeper's.
var errProtocol = errors.New("not a ZooKeeper frame")

// encoder appends jute values.
type encoder struct{ b []byte }

func (e *encoder) i32(v int32) { e.b = binary.BigEndian.AppendUint32(e.b, uint32(v)) }
func (e *encoder) i64(v int64) { e.b = binary.BigEndian.AppendUint64(e.b, uint64(v)) }
func (e *encoder) boolean(v bool) {
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}
func (e *encoder) buffer(v []byte) { e.i32(int32(len(v))); e.b = append(e.b, v...) }
func (e *encoder) str(v string)    { e.buffer([]byte(v)) }

// frame prefixes the encoded record with its length.
func (e *encoder) frame() []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(e.b)))
	return append(out, e.b...)
}

// connectRequest opens a new session, read-only allowed.
func connectRequest(timeoutMS int32) []byte {
	var e encoder
	e.i32(0)         // protocol version
	e.i64(0)         // last zxid seen
	e.i32(timeoutMS) // session timeout
	e.i64(0)         // session id: new session
	e.buffer(make([]byte, 16))
	e.boolean(true) // a read-only server may answer
	return e.frame()
}

// request encodes one request with header xid/op and a path argument.
func request(xid int32, op int32, path string) []byte {
	var e encoder
	e.i32(xid)
	e.i32(op)
	if op != opCloseSession {
		e.str(path)
		e.boolean(false) // no watch
	}
	return e.frame()
}

// decoder reads jute values from one frame.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("short record: %w", errProtocol)
		return false
	}
	return true
}

func (d *decoder) i32() int32 {
	if !d.need(4) {
		return 0
	}
	v := int32(binary.BigEndian.Uint32(d.b))
	d.b = d.b[4:]
	return v
}

func (d *decoder) i64() int64 {
	if !d.need(8) {
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b))
	d.b = d.b[8:]
	return v
}

// buffer reads a length-prefixed byte string; -1 is null.
func (d *decoder) buffer() []byte {
	n := d.i32()
	if n == -1 || d.err != nil {
		return nil
	}
	if !d.need(int(n)) {
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// connectResponse is the server's answer to connectRequest.
type connectResponse struct {
	protocolVersion int32
	timeoutMS       int32
	sessionID       int64
}

// parseConnect decodes a connect response; a zero timeout means the server
// refused the session.
func parseConnect(frame []byte) (connectResponse, error) {
	d := decoder{b: frame}
	r := connectResponse{protocolVersion: d.i32(), timeoutMS: d.i32(), sessionID: d.i64()}
	passwd := d.buffer()
	if d.err != nil {
		return connectResponse{}, d.err
	}
	if r.protocolVersion != 0 || len(passwd) != 16 || r.timeoutMS < 0 {
		return connectResponse{}, fmt.Errorf("connect response fields: %w", errProtocol)
	}
	return r, nil
}

// replyHeader starts every reply.
type replyHeader struct {
	xid  int32
	zxid int64
	err  int32
}

// stat is the metadata of one znode (the fields leakwatch uses).
type stat struct {
	dataLength  int32
	numChildren int32
	mzxid       int64
}

func (d *decoder) stat() stat {
	if !d.need(statLen) {
		return stat{}
	}
	var s stat
	d.i64() // czxid
	s.mzxid = d.i64()
	d.i64() // ctime
	d.i64() // mtime
	d.i32() // version
	d.i32() // cversion
	d.i32() // aversion
	d.i64() // ephemeralOwner
	s.dataLength = d.i32()
	s.numChildren = d.i32()
	d.i64() // pzxid
	return s
}

// reply is one decoded reply: header plus the body of getData or
// getChildren2.
type reply struct {
	hdr      replyHeader
	data     []byte
	children []string
	stat     stat
	// childrenCut is set when the list held more than maxChildren names.
	childrenCut bool
}

// maxChildren bounds a children list.
const maxChildren = 1 << 16

// parseReply decodes a reply to op.
func parseReply(frame []byte, op int32) (reply, error) {
	d := decoder{b: frame}
	r := reply{hdr: replyHeader{xid: d.i32(), zxid: d.i64(), err: d.i32()}}
	if d.err != nil || r.hdr.err != errOK {
		return r, d.err
	}
	switch op {
	case opGetData:
		r.data = d.buffer()
		r.stat = d.stat()
	case opGetChildren2:
		n := d.i32()
		if n < -1 {
			return reply{}, fmt.Errorf("children count %d: %w", n, errProtocol)
		}
		if n > maxChildren {
			// More children than we list: keep the first ones and say so
			// (a size limit must not make an open ensemble look closed).
			for i := 0; i < maxChildren && d.err == nil; i++ {
				r.children = append(r.children, string(d.buffer()))
			}
			r.childrenCut = true
			return r, d.err
		}
		for i := int32(0); i < n && d.err == nil; i++ {
			r.children = append(r.children, string(d.buffer()))
		}
		r.stat = d.stat()
	}
	return r, d.err
}

// readFrame reads one length-prefixed frame of at most max bytes.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var l [4]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(l[:]))
	if n < 0 || int(n) > max {
		return nil, fmt.Errorf("frame of %d bytes: %w", n, errProtocol)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("frame body: %w", err)
	}
	return b, nil
}
