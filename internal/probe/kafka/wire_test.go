package kafka

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// encode is resp in wire form at version v (kmsg's encoder: the decoders
// here are checked against it).
func encode(resp kmsg.Response, v int16) []byte {
	resp.SetVersion(v)
	return resp.AppendTo(nil)
}

func testAPIVersions() *kmsg.ApiVersionsResponse {
	r := kmsg.NewPtrApiVersionsResponse()
	for _, k := range [][3]int16{{keyFetch, 4, 17}, {keyListOffsets, 1, 9}, {keyMetadata, 0, 13}, {keySaslHandshake, 0, 1}, {keyAPIVersions, 0, 4}} {
		r.ApiKeys = append(r.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k[0], MinVersion: k[1], MaxVersion: k[2]})
	}
	r.SupportedFeatures = []kmsg.ApiVersionsResponseSupportedFeature{{Name: "metadata.version", MinVersion: 7, MaxVersion: 33}}
	r.FinalizedFeatures = []kmsg.ApiVersionsResponseFinalizedFeature{{Name: "metadata.version", MaxVersionLevel: 31, MinVersionLevel: 31}}
	r.FinalizedFeaturesEpoch = 5
	return r
}

func testMetadata(topics ...string) *kmsg.MetadataResponse {
	r := kmsg.NewPtrMetadataResponse()
	r.Brokers = []kmsg.MetadataResponseBroker{{NodeID: 1, Host: "127.0.0.1", Port: 9092}}
	r.ClusterID = kmsg.StringPtr("c1")
	r.ControllerID = 1
	for _, name := range topics {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = kmsg.StringPtr(name)
		for p := int32(0); p < 2; p++ {
			t.Partitions = append(t.Partitions, kmsg.MetadataResponseTopicPartition{Partition: p, Leader: 1, Replicas: []int32{1}, ISR: []int32{1}})
		}
		r.Topics = append(r.Topics, t)
	}
	return r
}

func TestDecodeAPIVersions(t *testing.T) {
	for _, v := range []int16{0, 1, 3} {
		av, err := decodeAPIVersions(encode(testAPIVersions(), v), v)
		if err != nil || len(av.APIs) != 5 || plausible(av) != nil {
			t.Fatalf("v%d: %+v %v", v, av, err)
		}
		if r, ok := av.Versions(keyFetch); !ok || r.Min != 4 || r.Max != 17 {
			t.Errorf("v%d fetch %+v", v, r)
		}
		if v == 3 && (av.SupportedMetadata != 33 || av.FinalizedMetadata != 31) {
			t.Errorf("features %d %d", av.SupportedMetadata, av.FinalizedMetadata)
		}
	}
	if release(33) != "4.4" || release(5) != "" || metadataVersionName(31) != "4.4-IV0" {
		t.Error("release names")
	}
}

func TestDecodeMetadata(t *testing.T) {
	for _, v := range []int16{verMetadata, verMetadataACL} {
		body := encode(testMetadata("users", "orders"), v)
		md, err := decodeMetadata(body, false, v)
		if err != nil || len(md.Brokers) != 1 || md.ClusterID != "c1" || len(md.Topics) != 2 || md.Topics[1].Name != "orders" || len(md.Topics[1].Partitions) != 2 {
			t.Fatalf("v%d: %+v %v", v, md, err)
		}
		if md.ClusterOps != opsOmitted || md.Topics[0].Ops != opsOmitted {
			t.Errorf("v%d: operations %d/%d, want omitted", v, md.ClusterOps, md.Topics[0].Ops)
		}
		// cut inside the second topic: the first is kept
		md, err = decodeMetadata(body[:len(body)-10], true, v)
		if err != nil || len(md.Topics) != 1 {
			t.Fatalf("v%d cut: %+v %v", v, md, err)
		}
		if _, err := decodeMetadata(body[:len(body)-10], false, v); !errors.Is(err, errProtocol) {
			t.Fatalf("v%d short answer: %v", v, err)
		}
		// a topic count no frame can hold
		bogus := append([]byte{}, body[:4]...)
		bogus = binary.BigEndian.AppendUint32(bogus, 0x7fffffff)
		if _, err := decodeMetadata(bogus, false, v); !errors.Is(err, errProtocol) {
			t.Fatalf("v%d bogus count: %v", v, err)
		}
	}
	if _, err := decodeMetadata(encode(testMetadata("a"), 9), false, 9); !errors.Is(err, errProtocol) {
		t.Fatalf("v9 decoded: %v", err)
	}
}

// TestDecodeMetadataOperations: v8 carries each topic's and the cluster's
// authorized operations (kmsg's encoding, with leader epochs and offline
// replicas); anonymousAccess reads them.
func TestDecodeMetadataOperations(t *testing.T) {
	r := testMetadata("open", "described", "refused")
	r.Topics[0].AuthorizedOperations = 1<<opRead | 1<<opDescribe
	r.Topics[1].AuthorizedOperations = 1 << opDescribe
	r.Topics[2].ErrorCode, r.Topics[2].Partitions = errTopicAuthorization, nil
	r.Topics[0].Partitions[1].LeaderEpoch, r.Topics[0].Partitions[1].OfflineReplicas = 7, []int32{3, 4}
	r.AuthorizedOperations = 0
	md, err := decodeMetadata(encode(r, verMetadataACL), false, verMetadataACL)
	if err != nil || len(md.Topics) != 3 || md.ClusterOps != 0 || md.Topics[0].Ops != 1<<opRead|1<<opDescribe || md.Topics[1].Ops != 1<<opDescribe || len(md.Topics[0].Partitions) != 2 {
		t.Fatalf("%+v %v", md, err)
	}
	a := anonymousAccess(md)
	if !a.restricted || a.readable != 1 || !a.denied["described"] || !a.denied["refused"] || a.denied["open"] || a.clusterDescribe || a.protected() || a.invalid {
		t.Errorf("access %+v", a)
	}
	// every topic denied: protected
	r.Topics = r.Topics[1:]
	md, _ = decodeMetadata(encode(r, verMetadataACL), false, verMetadataACL)
	if a := anonymousAccess(md); !a.protected() {
		t.Errorf("access %+v, want protected", a)
	}
	// anonymous may describe the cluster, no topic: still protected
	r = testMetadata()
	r.AuthorizedOperations = 1 << opDescribe
	md, _ = decodeMetadata(encode(r, verMetadataACL), false, verMetadataACL)
	if a := anonymousAccess(md); !a.protected() || !a.clusterDescribe {
		t.Errorf("cluster describe only: access %+v, want protected", a)
	}
	// no authorizer: every operation granted, nothing restricted
	r = testMetadata("a")
	r.AuthorizedOperations, r.Topics[0].AuthorizedOperations = 0x1fa0, 0xdf8 // as Kafka 4.4 answers
	md, _ = decodeMetadata(encode(r, verMetadataACL), false, verMetadataACL)
	if a := anonymousAccess(md); a.restricted || a.readable != 1 || a.invalid {
		t.Errorf("access %+v, want unrestricted", a)
	}
	// bitfields no broker sends are ignored (and flagged): the topic is
	// read as if none were given
	for _, ops := range []int32{-1, 1 << opAny, 1, -2} {
		r = testMetadata("a")
		r.AuthorizedOperations, r.Topics[0].AuthorizedOperations = ops, ops
		md, _ = decodeMetadata(encode(r, verMetadataACL), false, verMetadataACL)
		if a := anonymousAccess(md); a.restricted || a.readable != 1 || !a.invalid || !a.clusterDescribe {
			t.Errorf("ops %#x: access %+v", ops, a)
		}
	}
}

func TestDecodeListOffsets(t *testing.T) {
	r := kmsg.NewPtrListOffsetsResponse()
	r.Topics = []kmsg.ListOffsetsResponseTopic{{Topic: "a", Partitions: []kmsg.ListOffsetsResponseTopicPartition{
		{Partition: 0, Offset: 42}, {Partition: 1, ErrorCode: 6, Offset: -1}}}}
	offs, errs, err := decodeListOffsets(encode(r, verListOffsets))
	if err != nil || offs[offsetKey{"a", 0}] != 42 || errs[offsetKey{"a", 1}] != 6 || len(offs) != 1 {
		t.Fatalf("%v %v %v", offs, errs, err)
	}
}

func TestDecodeLogDirs(t *testing.T) {
	r := kmsg.NewPtrDescribeLogDirsResponse()
	r.Dirs = []kmsg.DescribeLogDirsResponseDir{
		{Dir: "/a", Topics: []kmsg.DescribeLogDirsResponseDirTopic{
			{Topic: "t", Partitions: []kmsg.DescribeLogDirsResponseDirTopicPartition{{Partition: 0, Size: 100}, {Partition: 1, Size: 50}, {Partition: 2, Size: 999, IsFuture: true}}},
			{Topic: "bad", Partitions: []kmsg.DescribeLogDirsResponseDirTopicPartition{{Partition: 0, Size: -7}, {Partition: 1, Size: 5}}}}},
		{Dir: "/b", ErrorCode: 57, Topics: []kmsg.DescribeLogDirsResponseDirTopic{{Topic: "t", Partitions: []kmsg.DescribeLogDirsResponseDirTopicPartition{{Size: 1000}}}}},
	}
	sizes, err := decodeLogDirs(encode(r, verLogDirs))
	if err != nil || sizes["t"] != 150 || sizes["bad"] >= 0 {
		t.Fatalf("%v %v", sizes, err)
	}
}

// testBatch is a v2 record batch (kmsg's encoding) of values at base,
// compressed with codec (0 none, 1 gzip).
func testBatch(base int64, codec int16, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		rec := kmsg.Record{OffsetDelta: int32(i), Key: []byte("k"), Value: []byte(v), Headers: []kmsg.Header{{Key: "h", Value: []byte("x")}}}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		recs = rec.AppendTo(recs)
	}
	if codec == 1 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(recs)
		zw.Close()
		recs = buf.Bytes()
	}
	b := kmsg.RecordBatch{FirstOffset: base, Magic: 2, Attributes: codec, LastOffsetDelta: int32(len(values) - 1),
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(values)), Records: recs}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

func TestEachRecord(t *testing.T) {
	set := append(testBatch(10, 0, `{"email":"a@b.example"}`, "two"), testBatch(12, 1, "three")...)
	var got []record
	info := eachRecord(set, 1<<20, func(r record) bool { got = append(got, r); return true })
	if info.Truncated || info.Skipped != 0 || len(got) != 3 || got[2].Offset != 12 || string(got[2].Value) != "three" || got[0].Headers[0].Key != "h" {
		t.Fatalf("%+v %+v", info, got)
	}
	r := toRecord(got[0])
	paths := map[string]string{}
	for _, v := range r.Values {
		paths[v.Path] = v.Text
	}
	if paths["email"] != "a@b.example" || paths["_key"] != "k" || paths["_headers.h"] != "x" {
		t.Errorf("record %v", paths)
	}
	// cut in the second batch
	got = nil
	info = eachRecord(set[:len(set)-5], 1<<20, func(r record) bool { got = append(got, r); return true })
	if !info.Truncated || len(got) != 2 {
		t.Fatalf("cut: %+v %d", info, len(got))
	}
}

// TestCompressionBomb: a gzip batch inflating to 64 MiB is read only up to
// the limit.
func TestCompressionBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(make([]byte, 64<<20))
	zw.Close()
	b := kmsg.RecordBatch{Magic: 2, Attributes: 1, NumRecords: 1 << 30, Records: buf.Bytes()}
	raw := b.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	out, cut, err := inflate(1, buf.Bytes(), 1<<16)
	if !cut || len(out) != 1<<16 || err != nil {
		t.Fatalf("inflate: %d %v %v", len(out), cut, err)
	}
	info := eachRecord(raw, 1<<16, func(record) bool { return true })
	if !info.Truncated && info.Skipped == 0 {
		t.Fatalf("%+v", info)
	}
}

func TestReadFrame(t *testing.T) {
	frame := func(n int32, body string) *bytes.Reader {
		return bytes.NewReader(append(binary.BigEndian.AppendUint32(nil, uint32(n)), body...))
	}
	if b, cut, err := readFrame(frame(6, "abcdef"), 10, false); err != nil || cut || string(b) != "abcdef" {
		t.Fatalf("%q %v %v", b, cut, err)
	}
	for _, n := range []int32{-5, 0, 3, 0x7fffffff} {
		if _, _, err := readFrame(frame(n, "abcdef"), 10, false); !errors.Is(err, errFrame) {
			t.Errorf("size %d: %v", n, err)
		}
	}
	if b, cut, err := readFrame(frame(0x7fffffff, "abcdefghijkl"), 10, true); err != nil || !cut || len(b) != 10 {
		t.Errorf("prefix: %q %v %v", b, cut, err)
	}
	if _, _, err := readFrame(bytes.NewReader([]byte{0x15, 3, 3, 0, 2, 2, 50}), 1000, false); !errors.Is(err, errTLSRecord) {
		t.Errorf("tls alert: %v", err)
	}
	if _, _, err := readFrame(frame(100, "abc"), 1000, false); err == nil {
		t.Error("short frame accepted")
	}
}

// FuzzDecode feeds every decoder and the frame reader arbitrary bytes: no
// panic, no count larger than the bytes could hold.
func FuzzDecode(f *testing.F) {
	f.Add(encode(testAPIVersions(), 3))
	f.Add(encode(testAPIVersions(), 0))
	f.Add(encode(testMetadata("users", "orders"), verMetadata))
	f.Add(encode(testMetadata("users", "orders"), verMetadataACL))
	f.Add(testBatch(5, 0, `{"a":1}`, "b"))
	f.Add(testBatch(5, 1, "gz"))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []int16{0, 3} {
			if av, err := decodeAPIVersions(b, v); err == nil && len(av.APIs) > len(b)/6 {
				t.Fatalf("%d apis from %d bytes", len(av.APIs), len(b))
			}
		}
		for _, cut := range []bool{false, true} {
			for _, v := range []int16{verMetadata, verMetadataACL} {
				if md, err := decodeMetadata(b, cut, v); err == nil {
					if len(md.Topics) > len(b)/9 || len(md.Brokers) > len(b)/12 {
						t.Fatalf("v%d: %d topics from %d bytes", v, len(md.Topics), len(b))
					}
					if a := anonymousAccess(md); a.readable+len(a.denied) > len(md.Topics) || (a.protected() && !a.restricted) {
						t.Fatalf("v%d: access %+v of %d topics", v, a, len(md.Topics))
					}
				}
			}
			if ps, err := decodeFetch(b, cut); err == nil && len(ps) > len(b)/30+1 {
				t.Fatalf("%d partitions from %d bytes", len(ps), len(b))
			}
		}
		decodeListOffsets(b)
		decodeLogDirs(b)
		decodeSaslHandshake(b)
		n := 0
		eachRecord(b, 1<<16, func(r record) bool { n++; toRecord(r); return n < 1000 })
		readFrame(bytes.NewReader(b), 1<<10, true)
	})
}

// TestRecordCounts: the count sums latest − earliest; partitions another
// broker leads make it a flagged lower bound; impossible offsets make it
// invalid; a missing partition makes it unknown.
func TestRecordCounts(t *testing.T) {
	ti := func(lo, hi map[int32]int64, elsewhere ...int32) *topicInfo {
		t := &topicInfo{parts: []int32{0, 1, 2}, low: lo, high: hi, elsewhere: map[int32]bool{}}
		for _, p := range elsewhere {
			t.elsewhere[p] = true
		}
		return t
	}
	all := map[int32]int64{0: 10, 1: 0, 2: 5}
	for _, c := range []struct {
		name  string
		t     *topicInfo
		want  int64 // -2: nil
		lower bool
	}{
		{"all here", ti(map[int32]int64{0: 0, 1: 0, 2: 1}, all), 14, false},
		{"one elsewhere", ti(map[int32]int64{0: 0, 2: 1}, map[int32]int64{0: 10, 2: 5}, 1), 14, true},
		{"all elsewhere", ti(map[int32]int64{}, map[int32]int64{}, 0, 1, 2), -2, true},
		{"missing", ti(map[int32]int64{0: 0, 1: 0}, all), -2, false},
		{"inverted", ti(map[int32]int64{0: 11, 1: 0, 2: 0}, all), -1, false},
	} {
		n, lower := c.t.records()
		got := int64(-2)
		if n != nil {
			got = *n
		}
		if got != c.want || lower != c.lower {
			t.Errorf("%s: %d lower %v, want %d lower %v", c.name, got, lower, c.want, c.lower)
		}
	}
}
