package kafka

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// record is one record of a record batch (message format v2).
type record struct {
	Offset  int64
	Key     []byte // nil when null
	Value   []byte // nil when null (a tombstone)
	Headers []header
}

type header struct {
	Key   string
	Value []byte
}

// batchInfo is what walking a record set found besides its records.
type batchInfo struct {
	// Truncated: a batch or record ran past the end of the set (the broker
	// cuts sets at the byte limits; so do our caps) or a decompressed
	// batch was cut at the limit.
	Truncated bool
	// Skipped counts batches left unread: the old message formats (magic 0
	// and 1), unknown compression codecs, or a batch that does not decode.
	Skipped int
}

const (
	batchOverhead = 61 // base offset .. record count
	minRecordSize = 7  // a record of empty key, value and headers
	attrCodecMask = 0x07
	attrControl   = 0x20
)

// eachRecord walks the record batches of set and calls f for every data
// record (control batches are skipped) until f returns false. Compressed
// batches are inflated to at most limit bytes in all. It never fails: what
// it cannot read is counted in the returned batchInfo.
func eachRecord(set []byte, limit int64, f func(record) bool) batchInfo {
	var info batchInfo
	for len(set) > 0 {
		if len(set) < 12 {
			info.Truncated = true
			return info
		}
		base := int64(binary.BigEndian.Uint64(set))
		length := int64(int32(binary.BigEndian.Uint32(set[8:])))
		if length < batchOverhead-12 {
			info.Skipped++
			return info // not a batch: the rest cannot be framed
		}
		if 12+length > int64(len(set)) {
			info.Truncated = true
			return info
		}
		batch := set[:12+length]
		set = set[12+length:]
		if magic := int8(batch[16]); magic != 2 {
			info.Skipped++
			continue
		}
		attrs := int16(binary.BigEndian.Uint16(batch[21:]))
		if attrs&attrControl != 0 {
			continue // transaction markers
		}
		count := int64(int32(binary.BigEndian.Uint32(batch[57:])))
		payload := batch[batchOverhead:]
		if codec := attrs & attrCodecMask; codec != 0 {
			out, cut, err := inflate(codec, payload, limit)
			if err != nil && len(out) == 0 {
				info.Skipped++
				continue
			}
			limit -= int64(len(out))
			info.Truncated = info.Truncated || cut || err != nil
			payload = out
		}
		if count < 0 || count > int64(len(payload))/minRecordSize+1 {
			info.Skipped++
			continue
		}
		r := &reader{b: payload}
		for i := int64(0); i < count; i++ {
			rec, ok := readRecord(r, base)
			if !ok {
				info.Truncated = true
				break
			}
			if !f(rec) {
				return info
			}
		}
		if limit <= 0 {
			info.Truncated = true
			return info
		}
	}
	return info
}

// readRecord reads one length-prefixed record.
func readRecord(r *reader, base int64) (record, bool) {
	length := r.varint()
	if r.err != nil || length < 0 || length > int64(len(r.b)) {
		return record{}, false
	}
	body := &reader{b: r.take(int(length))}
	body.int8()   // attributes
	body.varint() // timestamp delta
	rec := record{Offset: base + body.varint()}
	rec.Key = body.varintBytes()
	rec.Value = body.varintBytes()
	n := body.varint()
	if body.err != nil || n < 0 || n > int64(len(body.b))/2 {
		return record{}, false
	}
	for i := int64(0); i < n && body.err == nil; i++ {
		k := string(body.varintBytes())
		rec.Headers = append(rec.Headers, header{Key: k, Value: body.varintBytes()})
	}
	return rec, body.err == nil
}

// varintBytes reads varint-length bytes; nil when null (-1).
func (r *reader) varintBytes() []byte {
	n := r.varint()
	if n == -1 || r.err != nil {
		return nil
	}
	if n < 0 || n > int64(len(r.b)) {
		r.fail("bytes of length %d", n)
		return nil
	}
	return r.take(int(n))
}

// errCodec is a compression codec this prober does not read.
var errCodec = errors.New("unknown compression codec")

// inflate decompresses one batch's records to at most limit bytes; cut
// says the limit was reached.
func inflate(codec int16, p []byte, limit int64) (out []byte, cut bool, err error) {
	if limit <= 0 {
		return nil, true, nil
	}
	var rd io.Reader
	switch codec {
	case 1:
		zr, err := gzip.NewReader(bytes.NewReader(p))
		if err != nil {
			return nil, false, err
		}
		rd = zr
	case 2:
		return unsnappy(p, limit)
	case 3:
		rd = lz4.NewReader(bytes.NewReader(p))
	case 4:
		zr, err := zstd.NewReader(bytes.NewReader(p), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(uint64(limit)+1))
		if err != nil {
			return nil, false, err
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, false, errCodec
	}
	out, err = io.ReadAll(io.LimitReader(rd, limit+1))
	if int64(len(out)) > limit {
		return out[:limit], true, nil
	}
	return out, false, err
}

// xerialMagic starts the framed snappy the Java client writes: blocks of
// int32 length + a raw snappy block, after a 16-byte header.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// unsnappy inflates raw or xerial-framed snappy, block by block, each
// block's decoded length checked against what is left of limit first.
func unsnappy(p []byte, limit int64) ([]byte, bool, error) {
	if !bytes.HasPrefix(p, xerialMagic) {
		return snappyBlock(nil, p, limit)
	}
	if len(p) < 16 {
		return nil, false, errors.New("short xerial header")
	}
	var out []byte
	for p = p[16:]; len(p) > 0; {
		if len(p) < 4 {
			return out, false, errors.New("short xerial block")
		}
		n := int64(binary.BigEndian.Uint32(p))
		if n > int64(len(p)-4) {
			return out, false, errors.New("xerial block past the end")
		}
		var cut bool
		var err error
		out, cut, err = snappyBlock(out, p[4:4+n], limit-int64(len(out)))
		if cut || err != nil {
			return out, cut, err
		}
		p = p[4+n:]
	}
	return out, false, nil
}

func snappyBlock(dst, block []byte, limit int64) ([]byte, bool, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, false, err
	}
	if int64(n) > limit {
		return dst, true, nil
	}
	dec, err := snappy.Decode(nil, block)
	if err != nil {
		return dst, false, err
	}
	return append(dst, dec...), false, nil
}
