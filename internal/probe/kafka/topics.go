package kafka

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

const (
	// offsetsChunk is how many partitions one ListOffsets request asks for.
	offsetsChunk = 1000
	// frameSlack is what a Fetch answer may hold beyond its records.
	frameSlack = 64 << 10
	// minPartitionBytes is the least a sampled partition may return.
	minPartitionBytes = 4 << 10
)

// ListOffsets timestamps.
const (
	latest   = -1
	earliest = -2
)

// topics lists and samples an exposed broker's topics.
type topics struct {
	s   *session
	b   probe.Budget
	av  apiVersions
	acc access // what the anonymous client may do
}

// topicInfo is one listed topic and its partitions' offsets.
type topicInfo struct {
	name      string
	internal  bool
	parts     []int32
	low, high map[int32]int64
	// elsewhere are partitions another broker leads (error 6): their
	// offsets are not asked there (a broker is one target; its peers are
	// other targets).
	elsewhere map[int32]bool
}

// errNotLeader is NOT_LEADER_OR_FOLLOWER.
const errNotLeader = 6

// flagLowerBound (dataset and result): the record count leaves out the
// partitions other brokers lead.
const flagLowerBound = "records-lower-bound"

// measure lists the topics as datasets with their record counts and
// samples the largest. Topics the ACLs do not let the client read are
// listed flagged, neither counted nor sampled; on a broker whose ACLs let
// it read nothing, only those are listed and nothing more is asked.
func (t *topics) measure(ctx context.Context, res *probe.Result, md metadata) {
	infos := make([]*topicInfo, 0, len(md.Topics))
	var denied []*topicInfo
	for _, tp := range md.Topics {
		if len(infos)+len(denied) >= t.b.MaxListed {
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		ti := &topicInfo{name: tp.Name, internal: tp.Internal || strings.HasPrefix(tp.Name, "__"),
			low: map[int32]int64{}, high: map[int32]int64{}, elsewhere: map[int32]bool{}}
		switch {
		case t.acc.denied[tp.Name]:
			denied = append(denied, ti)
			continue
		case t.acc.protected():
			continue // an internal topic: not listed
		}
		for _, p := range tp.Partitions {
			ti.parts = append(ti.parts, p.Index)
		}
		infos = append(infos, ti)
	}
	for _, ti := range denied {
		ds := probe.Dataset{}
		ds.Name, ds.Kind, ds.Hidden = ti.name, "topic", ti.internal
		ds.AddFlag(flagACLDeniesRead)
		res.Datasets = append(res.Datasets, ds)
	}
	if t.acc.protected() {
		return
	}
	res.AddError(t.offsets(ctx, infos))
	var sizes map[string]int64
	if t.acc.clusterDescribe {
		var err error
		sizes, err = t.logDirs(ctx)
		res.AddError(err)
	}
	start := len(res.Datasets)
	for _, ti := range infos {
		ds := probe.Dataset{}
		ds.Name, ds.Kind, ds.Hidden = ti.name, "topic", ti.internal
		var lower bool
		ds.Records, lower = ti.records()
		if lower {
			ds.AddFlag(flagLowerBound)
			res.AddFlag(flagLowerBound)
		}
		if size, ok := sizes[ti.name]; ok {
			ds.Bytes = finding.Int64(size) // negative: written as null, count-invalid
		}
		res.Datasets = append(res.Datasets, ds)
	}
	probe.SampleLargest(ctx, res, t.b, res.Datasets[start:], func(ctx context.Context, i int, ds *probe.Dataset) error {
		if ds.Hidden || ds.Records == nil || *ds.Records <= 0 {
			return probe.ErrNotSampled
		}
		return t.sample(ctx, infos[i], ds)
	})
}

// records is the topic's record count, latest − earliest offset summed
// over its partitions: nil when a partition's offsets are missing, -1 (a
// count the finding writes as null, flagged count-invalid) when the
// broker's offsets are impossible. Partitions other brokers lead are left
// out, and lower says so.
func (ti *topicInfo) records() (n *int64, lower bool) {
	var sum int64
	for _, p := range ti.parts {
		if ti.elsewhere[p] {
			lower = true
			continue
		}
		lo, okl := ti.low[p]
		hi, okh := ti.high[p]
		if !okl || !okh {
			return nil, false
		}
		if lo < 0 || hi < lo || hi > finding.MaxCount {
			return finding.Int64(-1), false
		}
		sum = finding.SatAdd(sum, hi-lo)
	}
	if lower && sum == 0 {
		return nil, true // none of its records are here to count
	}
	return finding.Int64(sum), lower
}

// offsets asks the earliest and latest offset of every partition, a chunk
// of partitions a request. Partitions the broker answers with an error
// (another broker leads them) are left without offsets.
func (t *topics) offsets(ctx context.Context, infos []*topicInfo) error {
	type part struct {
		ti *topicInfo
		p  int32
	}
	var all []part
	for _, ti := range infos {
		for _, p := range ti.parts {
			all = append(all, part{ti, p})
		}
	}
	failed := map[int16]int{} // error code → partitions
	for len(all) > 0 && ctx.Err() == nil {
		chunk := all[:min(len(all), offsetsChunk)]
		all = all[len(chunk):]
		byName := map[string]*topicInfo{}
		for _, ts := range []int64{earliest, latest} {
			req := kmsg.NewPtrListOffsetsRequest()
			req.SetVersion(verListOffsets)
			idx := map[string]int{}
			for _, c := range chunk {
				byName[c.ti.name] = c.ti
				i, ok := idx[c.ti.name]
				if !ok {
					i = len(req.Topics)
					idx[c.ti.name] = i
					rt := kmsg.NewListOffsetsRequestTopic()
					rt.Topic = c.ti.name
					req.Topics = append(req.Topics, rt)
				}
				rp := kmsg.NewListOffsetsRequestTopicPartition()
				rp.Partition, rp.Timestamp = c.p, ts
				req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
			}
			body, _, err := t.s.call(ctx, req, t.b.MaxResponseBytes, false)
			if err != nil {
				return fmt.Errorf("kafka: list offsets: %w", err)
			}
			offs, errs, err := decodeListOffsets(body)
			if err != nil {
				return err
			}
			for k, off := range offs {
				ti, ok := byName[k.Topic]
				if !ok || !ti.has(k.Partition) {
					continue
				}
				if ts == earliest {
					ti.low[k.Partition] = off
				} else {
					ti.high[k.Partition] = off
				}
			}
			for k, code := range errs {
				ti, ok := byName[k.Topic]
				if code == errNotLeader && ok && ti.has(k.Partition) {
					ti.elsewhere[k.Partition] = true
					continue
				}
				failed[code]++
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("kafka: list offsets: partitions answered with errors %v", failed)
	}
	return ctx.Err()
}

// logDirs asks DescribeLogDirs (all topics) for the bytes each topic
// holds on this broker; nil when the broker does not serve it.
func (t *topics) logDirs(ctx context.Context) (map[string]int64, error) {
	if r, ok := t.av.Versions(keyLogDirs); !ok || verLogDirs < r.Min || verLogDirs > r.Max {
		return nil, nil
	}
	req := kmsg.NewPtrDescribeLogDirsRequest()
	req.SetVersion(verLogDirs)
	req.Topics = nil // every topic
	body, _, err := t.s.call(ctx, req, t.b.MaxResponseBytes, false)
	if err != nil {
		return nil, fmt.Errorf("kafka: describe log dirs: %w", err)
	}
	return decodeLogDirs(body)
}

func (ti *topicInfo) has(p int32) bool {
	for _, q := range ti.parts {
		if q == p {
			return true
		}
	}
	return false
}

// sample fetches the latest records of the topic's partitions that hold
// any, SampleRecords in all, from the offset where that many remain: one
// sessionless Fetch as a plain client (replica −1), no group, no commit.
func (t *topics) sample(ctx context.Context, ti *topicInfo, ds *probe.Dataset) error {
	type part struct {
		p        int32
		from, to int64
	}
	var parts []part
	for _, p := range ti.parts {
		if lo, hi := ti.low[p], ti.high[p]; hi > lo {
			parts = append(parts, part{p: p, from: lo, to: hi})
		}
	}
	sort.SliceStable(parts, func(a, b int) bool { return parts[a].to-parts[a].from > parts[b].to-parts[b].from })
	want := int64(t.b.SampleRecords)
	if want <= 0 || len(parts) == 0 {
		return probe.ErrNotSampled
	}
	parts = parts[:min(int64(len(parts)), want)]
	per := (want + int64(len(parts)) - 1) / int64(len(parts))
	maxBytes := min(t.b.SampleBytes, math.MaxInt32-frameSlack)
	partBytes := max(maxBytes/int64(len(parts)), minPartitionBytes)
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(verFetch)
	req.MaxWaitMillis, req.MinBytes, req.MaxBytes = 0, 1, int32(maxBytes)
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = ti.name
	from := map[int32]int64{}
	for _, p := range parts {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p.p
		rp.FetchOffset = max(p.from, p.to-per)
		rp.PartitionMaxBytes = int32(min(partBytes, math.MaxInt32))
		from[p.p] = rp.FetchOffset
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = []kmsg.FetchRequestTopic{rt}
	body, cut, err := t.s.call(ctx, req, maxBytes+frameSlack, true)
	if err != nil {
		return fmt.Errorf("kafka: fetch %s: %w", ti.name, err)
	}
	fetched, err := decodeFetch(body, cut)
	if err != nil {
		return fmt.Errorf("kafka: fetch %s: %w", ti.name, err)
	}
	used, truncated := int64(0), cut
	codes := map[int16]int{}
	for _, fp := range fetched {
		if fp.Topic != ti.name {
			continue
		}
		start, ok := from[fp.Partition]
		if !ok {
			continue
		}
		if fp.ErrorCode != 0 {
			codes[fp.ErrorCode]++
			continue
		}
		took := int64(0)
		info := eachRecord(fp.Records, t.b.SampleBytes, func(rec record) bool {
			if rec.Offset < start {
				return true
			}
			if took >= per || int64(ds.Sampled) >= want {
				return false
			}
			size := rec.size()
			if used+size > t.b.SampleBytes {
				truncated = true
				if ds.Sampled == 0 {
					ds.AddFlag(probe.FlagRecordTooLarge)
				}
				return false
			}
			used += size
			took++
			ds.Sample = append(ds.Sample, toRecord(rec))
			ds.Sampled++
			return true
		})
		if info.Truncated && took < per {
			truncated = true
		}
		if info.Skipped > 0 {
			ds.AddFlag("batches-unread")
		}
	}
	if truncated {
		ds.AddFlag(probe.FlagSampleTruncated)
		if ds.Sampled == 0 {
			ds.AddFlag(probe.FlagRecordTooLarge)
		}
	}
	if len(codes) > 0 {
		return fmt.Errorf("kafka: fetch %s: partitions answered with errors %v", ti.name, codes)
	}
	return nil
}

func (r record) size() int64 {
	n := int64(len(r.Key) + len(r.Value))
	for _, h := range r.Headers {
		n += int64(len(h.Key) + len(h.Value))
	}
	return n
}

// toRecord flattens one record: a JSON value gives its fields (else the
// value is text under "_value"); the key sits under "_key" and each
// header under "_headers.<name>", flattened the same way.
func toRecord(rec record) classify.Record {
	var r classify.Record
	if rec.Value != nil {
		r = probe.ValueRecord("_value", text(rec.Value))
	}
	if len(rec.Key) > 0 {
		r.Values = append(r.Values, probe.FieldRecord("_key", text(rec.Key)).Values...)
	}
	for _, h := range rec.Headers {
		if len(h.Value) > 0 {
			r.Values = append(r.Values, probe.FieldRecord("_headers."+text([]byte(h.Key)), text(h.Value)).Values...)
		}
	}
	return r
}

// text is b as valid UTF-8 (invalid bytes dropped: binary encodings such
// as Avro keep their embedded strings).
func text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "")
}
