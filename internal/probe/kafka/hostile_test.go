package kafka

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// Hand-written brokers for what no real broker does: absurd frame sizes,
// endless answers, impossible counts and offsets, compression bombs. They
// answer ApiVersions and Metadata like a broker (kmsg's encodings), and
// whatever answer says for the rest.

// answers maps an API key to the raw frame (size prefix included) sent
// for it; nil closes the connection. corr is the request's correlation id.
type answers map[int16]func(corr int32) []byte

// frame is body as one answer to corr.
func frame(corr int32, body []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(4+len(body)))
	out = binary.BigEndian.AppendUint32(out, uint32(corr))
	return append(out, body...)
}

// wellBehaved answers ApiVersions and Metadata (topic "t", two partitions,
// at v8: the version the prober asks of a broker serving Metadata 0..13,
// authorized operations omitted).
func wellBehaved() answers {
	return answers{
		keyAPIVersions: func(c int32) []byte { return frame(c, encode(testAPIVersions(), verAPIVersions)) },
		keyMetadata:    func(c int32) []byte { return frame(c, encode(testMetadata("t"), verMetadataACL)) },
	}
}

// serveBroker serves as on a fresh loopback address.
func serveBroker(t *testing.T, as answers) *probetest.Server {
	return probetest.Stall(t, func(c net.Conn) {
		for {
			var hdr [4]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(hdr[:])
			if n < 8 || n > 1<<20 {
				return
			}
			req := make([]byte, n)
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			key, corr := int16(binary.BigEndian.Uint16(req)), int32(binary.BigEndian.Uint32(req[4:]))
			var ts int64
			if key == keyListOffsets {
				ts = listOffsetsTimestamp(req)
			}
			f, ok := as[key]
			if !ok {
				return
			}
			out := f(corr)
			if key == keyListOffsets && out != nil {
				out = listOffsetsAnswer(corr, ts, out)
			}
			if out == nil {
				return
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	})
}

// listOffsetsTimestamp is the timestamp asked by a ListOffsets v1 request
// for its first partition (all partitions ask the same).
func listOffsetsTimestamp(req []byte) int64 {
	r := &reader{b: req[8:]}
	r.string() // client id
	r.int32()  // replica
	r.int32()  // topics
	r.string()
	r.int32() // partitions
	r.int32()
	return r.int64()
}

// listOffsetsAnswer answers "t" partitions 0 and 1 with the offsets
// packed in spec: 16 bytes, earliest then latest.
func listOffsetsAnswer(corr int32, ts int64, spec []byte) []byte {
	off := int64(binary.BigEndian.Uint64(spec[8:]))
	if ts == earliest {
		off = int64(binary.BigEndian.Uint64(spec))
	}
	r := kmsg.NewPtrListOffsetsResponse()
	r.Topics = []kmsg.ListOffsetsResponseTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsResponseTopicPartition{{Partition: 0, Offset: off}, {Partition: 1, Offset: off}}}}
	return frame(corr, encode(r, verListOffsets))
}

func offsetSpec(lo, hi int64) func(int32) []byte {
	return func(int32) []byte {
		return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, uint64(lo)), uint64(hi))
	}
}

// fetchAnswer answers Fetch with set as partition 0's records of "t".
func fetchAnswer(set []byte) func(int32) []byte {
	return func(c int32) []byte {
		r := kmsg.NewPtrFetchResponse()
		r.Topics = []kmsg.FetchResponseTopic{{Topic: "t", Partitions: []kmsg.FetchResponseTopicPartition{{Partition: 0, HighWatermark: 10, RecordBatches: set}}}}
		return frame(c, encode(r, verFetch))
	}
}

// hostileProbe probes s under a small budget and fails the test when it
// takes long or reads past the byte budget.
func hostileProbe(t *testing.T, s *probetest.Server) (*probe.Result, error, *probe.Env) {
	t.Helper()
	env := probetest.Env(s.Addr, s.Port)
	env.Budget.MaxResponseBytes = 1 << 20
	env.Budget.SampleBytes = 1 << 16
	env.Budget.MaxBytes = 4 << 20
	env.Budget.IOTimeout = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	res, err := New().Probe(ctx, env)
	if d := time.Since(began); d > 8*time.Second {
		t.Errorf("probe took %v", d)
	}
	if n := env.BytesRead(); n > env.Budget.MaxBytes {
		t.Errorf("read %d bytes, budget %d", n, env.Budget.MaxBytes)
	}
	if res != nil {
		probetest.ValidFinding(t, probetest.ToFinding(t, "kafka", env.Target, res))
	}
	return res, err, env
}

func TestHostileHugeFrameLength(t *testing.T) {
	for name, size := range map[string]uint32{"huge": 0x7fffffff, "negative": 0xfffffff0, "tiny": 2} {
		t.Run(name, func(t *testing.T) {
			s := serveBroker(t, answers{keyAPIVersions: func(int32) []byte { return binary.BigEndian.AppendUint32(nil, size) }})
			res, err, env := hostileProbe(t, s)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("got %+v, %v; want not-this-service", res, err)
			}
			if env.BytesRead() > 64 {
				t.Errorf("read %d bytes of a frame it should refuse", env.BytesRead())
			}
		})
	}
}

// TestHostileEndlessMetadata: an identified broker whose Metadata answer
// claims 2 GiB and never ends costs the response cap, and is no exposure.
func TestHostileEndlessMetadata(t *testing.T) {
	as := wellBehaved()
	as[keyMetadata] = func(c int32) []byte {
		out := binary.BigEndian.AppendUint32(nil, 0x7fffffff)
		out = binary.BigEndian.AppendUint32(out, uint32(c))
		return append(out, bytes.Repeat([]byte{0xff}, 3<<20)...)
	}
	res, err, env := hostileProbe(t, serveBroker(t, as))
	if err != nil || res.Status != finding.StatusUnknown || res.Error == "" {
		t.Fatalf("got %+v, %v; want unknown with an error", res, err)
	}
	if n := env.BytesRead(); n > 2<<20 {
		t.Errorf("read %d bytes past a 1 MiB response cap", n)
	}
}

// TestHostileBogusCounts: impossible offsets give no count (count-invalid);
// a fetch answer whose batch claims 2^31 records and whose record claims
// a huge header count samples nothing and does not allocate for them.
func TestHostileBogusCounts(t *testing.T) {
	for name, spec := range map[string][2]int64{"negative": {-5, 10}, "inverted": {100, 3}, "overflowing": {-1 << 63, 1<<63 - 1}} {
		t.Run(name, func(t *testing.T) {
			as := wellBehaved()
			as[keyListOffsets] = offsetSpec(spec[0], spec[1])
			res, err, env := hostileProbe(t, serveBroker(t, as))
			if err != nil || res.Status != finding.StatusExposed {
				t.Fatalf("got %+v, %v", res, err)
			}
			f := probetest.ToFinding(t, "kafka", env.Target, res)
			if len(f.Datasets) != 1 || f.Datasets[0].Records != nil || !slices.Contains(f.Datasets[0].Flags, finding.FlagCountInvalid) {
				t.Errorf("datasets %+v", f.Datasets)
			}
		})
	}
	t.Run("record-counts", func(t *testing.T) {
		batch := testBatch(0, 0, "a", "b")
		binary.BigEndian.PutUint32(batch[57:], 0x7fffffff) // records in the batch
		// one record claiming 2^30 headers in 6 bytes
		body := binary.AppendVarint([]byte{0, 0, 0, 1, 2, 'v'}, 1<<30)
		rec := binary.AppendVarint(nil, int64(len(body)))
		rawb := kmsg.RecordBatch{FirstOffset: 2, Magic: 2, NumRecords: 1, Records: append(rec, body...)}
		raw := rawb.AppendTo(nil)
		binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
		as := wellBehaved()
		as[keyListOffsets] = offsetSpec(0, 5)
		as[keyFetch] = fetchAnswer(append(batch, raw...))
		res, err, _ := hostileProbe(t, serveBroker(t, as))
		if err != nil || res.Status != finding.StatusExposed {
			t.Fatalf("got %+v, %v", res, err)
		}
		if d := res.Datasets[0]; d.Sampled != 0 || !slices.Contains(d.Flags, "batches-unread") || !slices.Contains(d.Flags, probe.FlagSampleTruncated) {
			t.Errorf("sampled %d of bogus batches, flags %v", d.Sampled, d.Flags)
		}
	})
}

// TestHostileFetch: a fetch answer that claims 2 GiB is read up to the
// sample cap (flagged), and a gzip bomb inflates only to the sample budget.
func TestHostileFetch(t *testing.T) {
	t.Run("huge-frame", func(t *testing.T) {
		as := wellBehaved()
		as[keyListOffsets] = offsetSpec(0, 5)
		as[keyFetch] = func(c int32) []byte {
			out := binary.BigEndian.AppendUint32(nil, 0x7fffffff)
			out = binary.BigEndian.AppendUint32(out, uint32(c))
			return append(out, bytes.Repeat([]byte{0}, 2<<20)...)
		}
		res, err, env := hostileProbe(t, serveBroker(t, as))
		if err != nil || res.Status != finding.StatusExposed {
			t.Fatalf("got %+v, %v", res, err)
		}
		if n := env.BytesRead(); n > 1<<20 {
			t.Errorf("read %d bytes for a 64 KiB sample", n)
		}
	})
	t.Run("gzip-bomb", func(t *testing.T) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(make([]byte, 256<<20))
		zw.Close()
		b := kmsg.RecordBatch{Magic: 2, Attributes: 1, NumRecords: 3, Records: buf.Bytes()}
		raw := b.AppendTo(nil)
		binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
		as := wellBehaved()
		as[keyListOffsets] = offsetSpec(0, 3)
		as[keyFetch] = fetchAnswer(raw)
		began := time.Now()
		res, err, _ := hostileProbe(t, serveBroker(t, as))
		if err != nil || res.Status != finding.StatusExposed {
			t.Fatalf("got %+v, %v", res, err)
		}
		if !slices.Contains(res.Datasets[0].Flags, probe.FlagSampleTruncated) {
			t.Errorf("flags %v, want %s", res.Datasets[0].Flags, probe.FlagSampleTruncated)
		}
		t.Logf("bomb handled in %v", time.Since(began))
	})
}

// TestOldBrokerAPIVersions: a broker older than 2.4 answers ApiVersions v3
// with UNSUPPORTED_VERSION in the v0 form; the prober asks again at v0 and
// goes on (no release line: such brokers list no features).
func TestOldBrokerAPIVersions(t *testing.T) {
	as := wellBehaved()
	var asked atomic.Int32
	as[keyAPIVersions] = func(c int32) []byte {
		av := testAPIVersions()
		if asked.Add(1) == 1 {
			av.ErrorCode = 35
		}
		return frame(c, encode(av, 0))
	}
	as[keyListOffsets] = offsetSpec(0, 0)
	res, err, _ := hostileProbe(t, serveBroker(t, as))
	if err != nil || res.Status != finding.StatusExposed || res.Version != "" || asked.Load() != 2 {
		t.Fatalf("got %+v, %v after %d ApiVersions requests", res, err, asked.Load())
	}
}

// TestHostileAuthorizedOperations: forms of Metadata v8 no real broker
// sends for an all-topics request. Bitfields with bit 31, UNKNOWN or ANY
// set are ignored (flagged; the topic is read as from a broker without
// operations); a topic answered TOPIC_AUTHORIZATION_FAILED is listed
// flagged and never asked for; when that leaves nothing readable, the
// broker is protected and nothing but Metadata is asked.
func TestHostileAuthorizedOperations(t *testing.T) {
	for _, ops := range []int32{-1, -1<<31 | 1<<opRead, 0x7fffffff, 1<<opAny | 1<<opRead, 1} {
		t.Run(fmt.Sprintf("ops-%#x", ops), func(t *testing.T) {
			as := wellBehaved()
			as[keyMetadata] = func(c int32) []byte {
				r := testMetadata("t")
				r.AuthorizedOperations, r.Topics[0].AuthorizedOperations = ops, ops
				return frame(c, encode(r, verMetadataACL))
			}
			as[keyListOffsets] = offsetSpec(0, 0)
			res, err, _ := hostileProbe(t, serveBroker(t, as))
			if err != nil || res.Status != finding.StatusExposed || len(res.Datasets) != 1 || !slices.Contains(res.Flags, flagOpsInvalid) || slices.Contains(res.Flags, flagACLRestricted) {
				t.Fatalf("got %+v, %v; want exposed as without operations, flagged %s", res, err, flagOpsInvalid)
			}
		})
	}
	for _, readable := range []bool{false, true} {
		t.Run(fmt.Sprintf("refused-topic-readable-%v", readable), func(t *testing.T) {
			var asked sync.Map
			as := answers{}
			for k, f := range wellBehaved() {
				as[k] = func(c int32) []byte { asked.Store(k, true); return f(c) }
			}
			as[keyMetadata] = func(c int32) []byte {
				r := testMetadata("t", "refused")
				r.Topics[1].ErrorCode, r.Topics[1].Partitions = errTopicAuthorization, nil
				if !readable {
					r.Topics = r.Topics[1:]
				}
				return frame(c, encode(r, verMetadataACL))
			}
			as[keyListOffsets] = func(c int32) []byte { asked.Store(keyListOffsets, true); return offsetSpec(0, 0)(c) }
			res, err, _ := hostileProbe(t, serveBroker(t, as))
			if err != nil {
				t.Fatal(err)
			}
			got := probetest.Datasets(res)
			if d, ok := got["refused"]; !ok || d.Records != nil || d.Sampled != 0 || !slices.Contains(d.Flags, flagACLDeniesRead) {
				t.Errorf("refused topic: %+v (listed %v)", d, ok)
			}
			_, offsets := asked.Load(keyListOffsets)
			if readable {
				if res.Status != finding.StatusExposed || len(got) != 2 || !offsets {
					t.Errorf("status %s, datasets %v, offsets asked %v", res.Status, probetest.DatasetNames(res), offsets)
				}
				return
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || res.Evidence["auth_challenge"] != challengeACL || offsets {
				t.Errorf("status %s/%s evidence %v, offsets asked %v; want protected (%s), nothing asked", res.Status, res.Auth, res.Evidence, offsets, challengeACL)
			}
		})
	}
}
