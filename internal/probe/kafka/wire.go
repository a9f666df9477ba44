package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Responses are decoded here, not by kmsg: kmsg's decoders allocate an
// array of its declared length before reading its elements (up to ~160
// bytes of Go structs per byte of frame: a hostile frame of a few MiB would
// cost gigabytes). These decoders cap every count by the bytes left for
// the smallest possible element and grow slices as elements are read.
// Requests are encoded by kmsg (see conn.go).

// errProtocol marks an answer that does not decode as the Kafka protocol.
var errProtocol = errors.New("kafka: protocol error")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errProtocol, fmt.Sprintf(format, args...))
}

// reader reads big-endian Kafka primitives from one frame; the first
// failure sticks (err) and every later read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = protoErr(format, args...)
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("need %d bytes, have %d", n, len(r.b))
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) int8() int8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return int8(b[0])
}

func (r *reader) int16() int16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

func (r *reader) int32() int32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

func (r *reader) int64() int64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// uvarint is an unsigned varint of at most 5 bytes (a uint32).
func (r *reader) uvarint() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n > 5 || v > math.MaxUint32 {
		r.fail("bad unsigned varint")
		return 0
	}
	r.b = r.b[n:]
	return uint32(v)
}

// varint is a zig-zag varint of at most 10 bytes.
func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads an int32 array length; -1 (null) is 0. A length that the
// bytes left cannot hold with elements of at least minSize bytes fails.
func (r *reader) count(minSize int) int {
	return r.checkCount(int64(r.int32()), minSize)
}

// compactCount reads a compact (uvarint length+1) array length.
func (r *reader) compactCount(minSize int) int {
	return r.checkCount(int64(r.uvarint())-1, minSize)
}

func (r *reader) checkCount(n int64, minSize int) int {
	if r.err != nil {
		return 0
	}
	if n == -1 {
		return 0
	}
	if n < 0 || n*int64(minSize) > int64(len(r.b)) {
		r.fail("array of %d elements in %d bytes", n, len(r.b))
		return 0
	}
	return int(n)
}

// capFor is a slice capacity for n elements, grown as they are read.
func capFor(n int) int { return min(n, 64) }

func (r *reader) string() string {
	n := r.int16()
	if n == -1 {
		return ""
	}
	return string(r.take(int(n)))
}

func (r *reader) compactString() string {
	n := int64(r.uvarint()) - 1
	if n == -1 {
		return ""
	}
	if n > math.MaxInt32 {
		r.fail("string length %d", n)
		return ""
	}
	return string(r.take(int(n)))
}

// bytes reads nullable int32-length bytes (nil when null).
func (r *reader) bytes() []byte {
	n := r.int32()
	if n == -1 {
		return nil
	}
	return r.take(int(n))
}

// tags skips a tagged-field section.
func (r *reader) tags(each func(tag uint32, r *reader)) {
	n := r.checkCount(int64(r.uvarint()), 2)
	for i := 0; i < n && r.err == nil; i++ {
		tag := r.uvarint()
		size := r.uvarint()
		body := r.take(int(size))
		if r.err == nil && each != nil {
			each(tag, &reader{b: body})
		}
	}
}

func (r *reader) done() error { return r.err }

// ---- ApiVersions (key 18) --------------------------------------------------

// apiRange is what the broker serves of one API.
type apiRange struct{ Key, Min, Max int16 }

// apiVersions is an ApiVersions answer.
type apiVersions struct {
	ErrorCode int16
	APIs      []apiRange
	// SupportedMetadata and FinalizedMetadata are the metadata.version
	// feature levels (v3+; 0 when absent).
	SupportedMetadata, FinalizedMetadata int16
}

// Versions returns the served range of key.
func (a apiVersions) Versions(key int16) (apiRange, bool) {
	for _, r := range a.APIs {
		if r.Key == key {
			return r, true
		}
	}
	return apiRange{}, false
}

// decodeAPIVersions decodes an ApiVersions body (after the correlation
// id) at version v (0..3). A broker that does not serve v answers in the
// v0 form with error 35 (UNSUPPORTED_VERSION); the caller retries at 0.
func decodeAPIVersions(b []byte, v int16) (apiVersions, error) {
	r := &reader{b: b}
	var out apiVersions
	out.ErrorCode = r.int16()
	flexible := v >= 3
	var n int
	if flexible {
		n = r.compactCount(7)
	} else {
		n = r.count(6)
	}
	out.APIs = make([]apiRange, 0, capFor(n))
	for i := 0; i < n && r.err == nil; i++ {
		a := apiRange{Key: r.int16(), Min: r.int16(), Max: r.int16()}
		if flexible {
			r.tags(nil)
		}
		out.APIs = append(out.APIs, a)
	}
	if v >= 1 {
		r.int32() // throttle_time_ms
	}
	if flexible {
		r.tags(func(tag uint32, t *reader) {
			switch tag {
			case 0: // SupportedFeatures
				eachFeature(t, func(name string, _, max int16) {
					if name == "metadata.version" {
						out.SupportedMetadata = max
					}
				})
			case 2: // FinalizedFeatures
				eachFeature(t, func(name string, max, _ int16) {
					if name == "metadata.version" {
						out.FinalizedMetadata = max
					}
				})
			}
		})
	}
	if err := r.done(); err != nil {
		return apiVersions{}, fmt.Errorf("api versions: %w", err)
	}
	return out, nil
}

// eachFeature walks a feature array: name, then two int16 levels (min and
// max for supported features, max and min for finalized ones), tags.
func eachFeature(t *reader, f func(name string, a, b int16)) {
	n := t.compactCount(6)
	for i := 0; i < n && t.err == nil; i++ {
		name := t.compactString()
		a, b := t.int16(), t.int16()
		t.tags(nil)
		if t.err == nil {
			f(name, a, b)
		}
	}
}

// ---- SaslHandshake (key 17) v1 ---------------------------------------------

// decodeSaslHandshake returns the error code and the mechanisms offered.
func decodeSaslHandshake(b []byte) (int16, []string, error) {
	r := &reader{b: b}
	code := r.int16()
	n := r.count(2)
	mechs := make([]string, 0, capFor(n))
	for i := 0; i < n && r.err == nil; i++ {
		mechs = append(mechs, r.string())
	}
	if err := r.done(); err != nil {
		return 0, nil, fmt.Errorf("sasl handshake: %w", err)
	}
	return code, mechs, nil
}

// ---- Metadata (key 3) v4 and v8 --------------------------------------------

type broker struct {
	NodeID int32
	Host   string
	Port   int32
}

type partition struct {
	ErrorCode int16
	Index     int32
	Leader    int32
}

type topic struct {
	ErrorCode  int16
	Name       string
	Internal   bool
	Partitions []partition
	// Ops is the bitfield of the operations the client may do on the
	// topic (v8+, asked for): bit n is ACL operation n. opsOmitted when
	// not known.
	Ops int32
}

type metadata struct {
	Brokers      []broker
	ClusterID    string
	ControllerID int32
	Topics       []topic
	// ClusterOps is the cluster's bitfield (v8..v10, asked for), like
	// topic.Ops; opsOmitted when not known.
	ClusterOps int32
}

// opsOmitted is the authorized-operations value of an answer that does
// not carry them (Kafka's default: not asked, or before v8).
const opsOmitted = math.MinInt32

// decodeMetadata decodes a Metadata body at version v (4 or 8: both not
// flexible; v5 adds offline replicas, v7 leader epochs, v8 the authorized
// operations of each topic and of the cluster). When cut is true the frame
// was read only up to its cap: the topics before the cut are returned
// (the cluster's operations then unknown).
func decodeMetadata(b []byte, cut bool, v int16) (metadata, error) {
	if v != 4 && v != 8 {
		return metadata{}, protoErr("metadata version %d not decoded", v)
	}
	r := &reader{b: b}
	m := metadata{ClusterOps: opsOmitted}
	r.int32() // throttle_time_ms
	n := r.count(12)
	m.Brokers = make([]broker, 0, capFor(n))
	for i := 0; i < n && r.err == nil; i++ {
		br := broker{NodeID: r.int32(), Host: r.string(), Port: r.int32()}
		r.string() // rack
		m.Brokers = append(m.Brokers, br)
	}
	m.ClusterID = r.string()
	m.ControllerID = r.int32()
	// smallest topic: error, empty name, internal, no partitions (+ ops);
	// smallest partition: error, index, leader (+ epoch), two (three) empty
	// node lists.
	topicMin, partMin := 9, 18
	if v >= 8 {
		topicMin, partMin = 13, 26
	}
	n = r.count(topicMin)
	m.Topics = make([]topic, 0, capFor(n))
	for i := 0; i < n && r.err == nil; i++ {
		t := topic{ErrorCode: r.int16(), Name: r.string(), Internal: r.int8() != 0, Ops: opsOmitted}
		np := r.count(partMin)
		t.Partitions = make([]partition, 0, capFor(np))
		for j := 0; j < np && r.err == nil; j++ {
			p := partition{ErrorCode: r.int16(), Index: r.int32(), Leader: r.int32()}
			if v >= 7 {
				r.int32() // leader epoch
			}
			r.skipInt32s() // replica nodes
			r.skipInt32s() // isr nodes
			if v >= 5 {
				r.skipInt32s() // offline replicas
			}
			t.Partitions = append(t.Partitions, p)
		}
		if v >= 8 {
			t.Ops = r.int32()
		}
		if r.err == nil {
			m.Topics = append(m.Topics, t)
		}
	}
	if v >= 8 {
		if ops := r.int32(); r.err == nil {
			m.ClusterOps = ops
		}
	}
	if r.err != nil && cut && len(m.Brokers) > 0 {
		return m, nil
	}
	if err := r.done(); err != nil {
		return metadata{}, fmt.Errorf("metadata: %w", err)
	}
	return m, nil
}

func (r *reader) skipInt32s() {
	n := r.count(4)
	r.take(4 * n)
}

// ---- ListOffsets (key 2) v1 ------------------------------------------------

// offsetKey names one partition.
type offsetKey struct {
	Topic     string
	Partition int32
}

// decodeListOffsets decodes a ListOffsets v1 body into partition → offset
// (partitions answered with an error are left out; their codes are in
// errs).
func decodeListOffsets(b []byte) (offs map[offsetKey]int64, errs map[offsetKey]int16, err error) {
	r := &reader{b: b}
	offs, errs = map[offsetKey]int64{}, map[offsetKey]int16{}
	n := r.count(6)
	for i := 0; i < n && r.err == nil; i++ {
		name := r.string()
		np := r.count(22)
		for j := 0; j < np && r.err == nil; j++ {
			k := offsetKey{Topic: name, Partition: r.int32()}
			code := r.int16()
			r.int64() // timestamp
			off := r.int64()
			if r.err != nil {
				break
			}
			if code != 0 {
				errs[k] = code
				continue
			}
			offs[k] = off
		}
	}
	if err := r.done(); err != nil {
		return nil, nil, fmt.Errorf("list offsets: %w", err)
	}
	return offs, errs, nil
}

// ---- Fetch (key 1) v4 ------------------------------------------------------

// fetchedPartition is one partition of a Fetch answer.
type fetchedPartition struct {
	Topic         string
	Partition     int32
	ErrorCode     int16
	HighWatermark int64
	// Records is the partition's record set: record batches, the last one
	// possibly cut short (the broker cuts at the byte limits, and so does a
	// frame read only up to its cap).
	Records []byte
}

// decodeFetch decodes a Fetch v4 body. When cut is true the frame was read
// only up to its cap: a record set running past the end is kept as far as
// it goes and decoding stops there without error.
func decodeFetch(b []byte, cut bool) ([]fetchedPartition, error) {
	r := &reader{b: b}
	var out []fetchedPartition
	r.int32() // throttle_time_ms
	n := r.count(6)
	for i := 0; i < n && r.err == nil; i++ {
		name := r.string()
		np := r.count(30)
		for j := 0; j < np && r.err == nil; j++ {
			p := fetchedPartition{Topic: name, Partition: r.int32(), ErrorCode: r.int16(), HighWatermark: r.int64()}
			r.int64() // last stable offset
			na := r.count(16)
			r.take(16 * na) // aborted transactions
			size := r.int32()
			if r.err != nil {
				break
			}
			if size > 0 {
				if cut && int(size) > len(r.b) {
					p.Records = r.b
					out = append(out, p)
					return out, nil
				}
				p.Records = r.take(int(size))
			} else if size < -1 {
				r.fail("record set size %d", size)
			}
			if r.err == nil {
				out = append(out, p)
			}
		}
	}
	if r.err != nil && cut && len(out) > 0 {
		return out, nil // the cut fell inside a partition's header
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	return out, nil
}

// ---- DescribeLogDirs (key 35) v1 -------------------------------------------

// decodeLogDirs decodes a DescribeLogDirs v1 body into the bytes each
// topic's partitions hold on this broker (future replicas, mid-move
// between log dirs, left out); log dirs answered with an error are
// skipped.
func decodeLogDirs(b []byte) (map[string]int64, error) {
	r := &reader{b: b}
	sizes := map[string]int64{}
	r.int32() // throttle_time_ms
	n := r.count(8)
	for i := 0; i < n && r.err == nil; i++ {
		code := r.int16()
		r.string() // log dir
		nt := r.count(6)
		for j := 0; j < nt && r.err == nil; j++ {
			name := r.string()
			np := r.count(21)
			for k := 0; k < np && r.err == nil; k++ {
				r.int32() // partition
				size := r.int64()
				r.int64() // offset lag
				future := r.int8() != 0
				if code == 0 && !future && r.err == nil {
					sizes[name] = satAddSigned(sizes[name], size)
				}
			}
		}
	}
	if err := r.done(); err != nil {
		return nil, fmt.Errorf("describe log dirs: %w", err)
	}
	return sizes, nil
}

// satAddSigned adds b ≥ 0 to a, keeping a negative (invalid) sum
// negative and a large one from wrapping.
func satAddSigned(a, b int64) int64 {
	if a < 0 || b < 0 {
		return min(a, b, -1)
	}
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
