package hostile

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// ---- Kafka-shaped -------------------------------------------------------------

type kafkaOpts struct {
	topics    []string // topic names (one partition each)
	extra     int      // extra generated topics
	clusterID string
	low, high int64         // every partition's earliest and latest offset
	values    []string      // record values of every fetch answer
	key       string        // every record's key
	header    [2]string     // every record's header (name, value)
	mechs     []string      // SASL mechanisms: set = a SASL listener (Metadata dropped)
	frameSize func() uint32 // if set, the size prefix of every Fetch answer
	// ops, if set, is every topic's and the cluster's authorized-operations
	// bitfield (Metadata v8); refused answers every topic
	// TOPIC_AUTHORIZATION_FAILED (an ACL'd broker asked for it by name).
	ops     *int32
	refused bool
}

// kafkaBroker answers Kafka requests (kmsg's encodings) with hostile
// content chosen by o.
func kafkaBroker(o kafkaOpts) func(net.Conn, <-chan struct{}) {
	if o.topics == nil && o.extra == 0 {
		o.topics = []string{"t"}
	}
	if o.high == 0 && o.low == 0 {
		o.high = int64(len(o.values))
	}
	answer := func(key, version int16, body []byte) []byte {
		switch key {
		case 18:
			r := kmsg.NewPtrApiVersionsResponse()
			for _, k := range [][3]int16{{1, 4, 17}, {2, 1, 9}, {3, 0, 13}, {17, 0, 1}, {18, 0, 4}} {
				r.ApiKeys = append(r.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k[0], MinVersion: k[1], MaxVersion: k[2]})
			}
			r.SetVersion(3)
			return r.AppendTo(nil)
		case 3:
			if o.mechs != nil {
				return nil
			}
			r := kmsg.NewPtrMetadataResponse()
			r.Brokers = []kmsg.MetadataResponseBroker{{NodeID: 1, Host: "127.0.0.1", Port: 9092}}
			r.ClusterID = kmsg.StringPtr(o.clusterID)
			for i := range len(o.topics) + o.extra {
				name := fmt.Sprintf("topic-%07d", i)
				if i < len(o.topics) {
					name = o.topics[i]
				}
				t := kmsg.NewMetadataResponseTopic()
				t.Topic = kmsg.StringPtr(name)
				t.Partitions = []kmsg.MetadataResponseTopicPartition{{Leader: 1}}
				if o.ops != nil {
					t.AuthorizedOperations = *o.ops
				}
				if o.refused {
					t.ErrorCode, t.Partitions = 29, nil
				}
				r.Topics = append(r.Topics, t)
			}
			if o.ops != nil {
				r.AuthorizedOperations = *o.ops
			}
			r.SetVersion(version) // as asked
			return r.AppendTo(nil)
		case 17:
			r := kmsg.NewPtrSASLHandshakeResponse()
			r.ErrorCode, r.SupportedMechanisms = 33, o.mechs
			r.SetVersion(1)
			return r.AppendTo(nil)
		case 2:
			var req kmsg.ListOffsetsRequest
			req.SetVersion(1)
			if req.ReadFrom(body) != nil {
				return nil
			}
			r := kmsg.NewPtrListOffsetsResponse()
			for _, t := range req.Topics {
				rt := kmsg.ListOffsetsResponseTopic{Topic: t.Topic}
				for _, p := range t.Partitions {
					off := o.high
					if p.Timestamp == -2 {
						off = o.low
					}
					rt.Partitions = append(rt.Partitions, kmsg.ListOffsetsResponseTopicPartition{Partition: p.Partition, Offset: off})
				}
				r.Topics = append(r.Topics, rt)
			}
			r.SetVersion(1)
			return r.AppendTo(nil)
		case 1:
			var req kmsg.FetchRequest
			req.SetVersion(4)
			if req.ReadFrom(body) != nil || len(req.Topics) == 0 {
				return nil
			}
			var recs []byte
			for i, v := range o.values {
				rec := kmsg.Record{OffsetDelta: int32(i), Key: []byte(o.key), Value: []byte(v)}
				if o.header[0] != "" {
					rec.Headers = []kmsg.Header{{Key: o.header[0], Value: []byte(o.header[1])}}
				}
				rec.Length = int32(len(rec.AppendTo(nil)) - 1)
				recs = rec.AppendTo(recs)
			}
			b := kmsg.RecordBatch{Magic: 2, NumRecords: int32(len(o.values)), LastOffsetDelta: int32(len(o.values) - 1), Records: recs}
			batch := b.AppendTo(nil)
			binary.BigEndian.PutUint32(batch[8:], uint32(len(batch)-12))
			r := kmsg.NewPtrFetchResponse()
			r.Topics = []kmsg.FetchResponseTopic{{Topic: req.Topics[0].Topic,
				Partitions: []kmsg.FetchResponseTopicPartition{{HighWatermark: o.high, RecordBatches: batch}}}}
			r.SetVersion(4)
			return r.AppendTo(nil)
		}
		return nil
	}
	return func(c net.Conn, quit <-chan struct{}) {
		for {
			var hdr [4]byte
			if _, err := io.ReadFull(c, hdr[:]); err != nil {
				return
			}
			n := binary.BigEndian.Uint32(hdr[:])
			if n < 10 || n > 1<<20 {
				return
			}
			req := make([]byte, n)
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			key, version := int16(binary.BigEndian.Uint16(req)), int16(binary.BigEndian.Uint16(req[2:]))
			corr := req[4:8]
			idLen := int(int16(binary.BigEndian.Uint16(req[8:])))
			body := req[10+max(idLen, 0):]
			out := answer(key, version, body)
			if out == nil {
				return
			}
			size := uint32(4 + len(out))
			if key == 1 && o.frameSize != nil {
				size = o.frameSize()
			}
			frame := append(binary.BigEndian.AppendUint32(nil, size), corr...)
			if _, err := c.Write(append(frame, out...)); err != nil {
				return
			}
		}
	}
}

// kafkaBehaviours are the Kafka-shaped cases.
func kafkaBehaviours() []behaviour {
	only := []string{"kafka"}
	bidi := "ok " + plantedBidi + " " + plantedANSI
	return []behaviour{
		{name: "kafka-listing-past-cap", probers: only, serve: fixed(kafkaBroker(kafkaOpts{extra: 5000})),
			check: exposedWith("kafka", probe.FlagDatasetsTruncated)},
		{name: "kafka-record-past-sample-budget", probers: only,
			serve: fixed(kafkaBroker(kafkaOpts{values: []string{fmt.Sprintf(`{"note":"%s"}`, strings.Repeat("x", 2<<20))}})),
			check: exposedWith("kafka", probe.FlagRecordTooLarge)},
		{name: "kafka-hostile-topic-names", probers: only, planted: hostileNames,
			serve: fixed(kafkaBroker(kafkaOpts{topics: append([]string{"ok"}, hostileNames...), values: []string{`{"a":1}`}}))},
		{name: "kafka-hostile-records", probers: only, planted: hostileNames,
			serve: fixed(kafkaBroker(kafkaOpts{key: plantedToken, header: [2]string{plantedEmail, plantedToken},
				values: []string{fmt.Sprintf(`{%s:%s,"x":[%s]}`, js(plantedToken), js(plantedEmail), js(plantedToken)), plantedEmail}}))},
		{name: "kafka-hostile-cluster-and-mechanisms", probers: only, planted: []string{plantedBidi, plantedANSI, plantedEmail},
			serve: fixed(kafkaBroker(kafkaOpts{mechs: []string{plantedEmail + bidi, bidi}}))},
		{name: "kafka-hostile-cluster-id", probers: only, planted: []string{plantedBidi, plantedANSI, plantedEmail},
			serve: fixed(kafkaBroker(kafkaOpts{clusterID: plantedEmail + bidi, values: []string{"v"}}))},
		{name: "kafka-negative-offsets", probers: only, serve: fixed(kafkaBroker(kafkaOpts{low: -50, high: -5})), check: noNegativeCounts},
		{name: "kafka-overflowing-offsets", probers: only, serve: fixed(kafkaBroker(kafkaOpts{low: -1 << 63, high: 1<<63 - 1})), check: noNegativeCounts},
		{name: "kafka-fetch-frame-2gib", probers: only,
			serve: fixed(kafkaBroker(kafkaOpts{values: []string{"a", "b"}, frameSize: func() uint32 { return 0x7fffffff }}))},
		{name: "kafka-deep-record", probers: only, serve: fixed(kafkaBroker(kafkaOpts{values: []string{deepJSON(20000)}}))},
		{name: "kafka-absurd-authorized-operations", probers: only,
			serve: fixed(kafkaBroker(kafkaOpts{ops: &absurdOps, values: []string{"v"}})),
			check: exposedWith("kafka", "authorized-operations-invalid")},
		{name: "kafka-every-topic-refused", probers: only, planted: hostileNames,
			serve: fixed(kafkaBroker(kafkaOpts{topics: hostileNames, extra: 5000, refused: true, values: []string{"v"}})),
			check: protectedRefused},
	}
}

// absurdOps sets every bit: UNKNOWN, ANY and bit 31 included, which no
// broker sends.
var absurdOps int32 = -1

// protectedRefused wants the Kafka finding protected and none of its
// (refused) topics counted or sampled.
func protectedRefused(t *testing.T, fs []finding.Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Service != "kafka" {
			continue
		}
		if f.Status != finding.StatusProtected || f.Evidence["auth_challenge"] != "acl-denies-anonymous" {
			t.Errorf("kafka status %s evidence %v, want protected (acl-denies-anonymous)", f.Status, f.Evidence)
		}
		for _, d := range f.Datasets {
			if d.Records != nil || d.Sampled != 0 || !slices.Contains(d.Flags, "acl-denies-read") {
				t.Errorf("refused topic counted or read: %+v", d)
			}
		}
	}
}
