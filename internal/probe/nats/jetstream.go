package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	natsgo "github.com/nats-io/nats.go"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

const (
	// namesPage is how many names one STREAM.NAMES page holds (server side).
	namesPage = 1024
	// getWorkers is how many MSG.GET requests run at once.
	getWorkers = 8
)

// jetStream reads JetStream's request/reply API.
type jetStream struct {
	nc *natsgo.Conn
	b  probe.Budget
}

// request sends one API request and waits (bounded by ctx and the IO
// timeout) for the reply.
func (j *jetStream) request(ctx context.Context, subject string, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithTimeout(ctx, j.b.IOTimeout)
	defer cancel()
	msg, err := j.nc.RequestWithContext(rctx, subject, data)
	if err != nil {
		return nil, err
	}
	return msg.Data, nil
}

// measure lists the streams as datasets and samples the largest.
func (j *jetStream) measure(ctx context.Context, res *probe.Result) error {
	raw, err := j.request(ctx, "$JS.API.INFO", struct{}{})
	if errors.Is(err, natsgo.ErrNoResponders) {
		return nil // JetStream is off (or not for this account)
	}
	if err != nil {
		return fmt.Errorf("nats: jetstream info: %w", err)
	}
	var ai accountInfo
	if err := decodeAPI(raw, &ai, func() *apiError { return ai.Error }); err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	res.AddEvidence("jetstream_streams", ai.Streams)
	res.AddEvidence("jetstream_consumers", ai.Consumers)
	res.AddEvidence("jetstream_storage_bytes", ai.Storage)
	names, err := j.streamNames(ctx, res)
	if err != nil {
		return err
	}
	infos := j.streamInfos(ctx, names)
	sort.SliceStable(infos, func(a, b int) bool { return infos[a].State.Messages > infos[b].State.Messages })
	start := len(res.Datasets)
	for _, si := range infos {
		ds := probe.Dataset{}
		ds.Name, ds.Kind = si.Config.Name, "stream"
		ds.Records, ds.Bytes = finding.Int64(si.State.Messages), finding.Int64(si.State.Bytes)
		res.Datasets = append(res.Datasets, ds)
	}
	probe.SampleLargest(ctx, res, j.b, res.Datasets[start:], func(ctx context.Context, i int, ds *probe.Dataset) error {
		if infos[i].State.Messages > 0 {
			j.sample(ctx, infos[i], ds)
		}
		return nil
	})
	return nil
}

// streamNames pages through STREAM.NAMES up to MaxListed names.
func (j *jetStream) streamNames(ctx context.Context, res *probe.Result) ([]string, error) {
	var names []string
	for offset := 0; len(names) < j.b.MaxListed; {
		raw, err := j.request(ctx, "$JS.API.STREAM.NAMES", map[string]int{"offset": offset})
		if err != nil {
			return names, fmt.Errorf("nats: stream names: %w", err)
		}
		var sn streamNames
		if err := decodeAPI(raw, &sn, func() *apiError { return sn.Error }); err != nil {
			return names, fmt.Errorf("nats: %w", err)
		}
		for _, n := range sn.Streams {
			if validStreamName(n) && len(names) < j.b.MaxListed {
				names = append(names, n)
			}
		}
		offset += len(sn.Streams)
		if len(sn.Streams) == 0 || offset >= sn.Total || len(sn.Streams) > namesPage {
			if sn.Total > len(names) {
				res.AddFlag("datasets-truncated")
			}
			break
		}
	}
	return names, nil
}

// streamInfos fetches STREAM.INFO for each name; failures are skipped.
func (j *jetStream) streamInfos(ctx context.Context, names []string) []streamInfo {
	out := make([]streamInfo, 0, len(names))
	for _, n := range names {
		if ctx.Err() != nil {
			break
		}
		raw, err := j.request(ctx, "$JS.API.STREAM.INFO."+n, struct{}{})
		if err != nil {
			continue
		}
		var si streamInfo
		if decodeAPI(raw, &si, func() *apiError { return si.Error }) != nil || si.Config.Name != n {
			continue
		}
		out = append(out, si)
	}
	return out
}

// sample reads the first stored messages by sequence (MSG.GET changes
// nothing: no consumer is created), a few requests at a time.
func (j *jetStream) sample(ctx context.Context, si streamInfo, ds *probe.Dataset) {
	want := int64(j.b.SampleRecords)
	first, last := si.State.FirstSeq, si.State.LastSeq
	if last-first+1 < want {
		want = max(last-first+1, 0)
	}
	recs := make([]*classify.Record, want)
	sizes := make([]int, want)
	g := probe.NewGroup(getWorkers)
	for i := int64(0); i < want && ctx.Err() == nil; i++ {
		g.Go(func() { recs[i], sizes[i] = j.get(ctx, si.Config.Name, first+i) })
	}
	g.Wait()
	used := int64(0)
	for i, r := range recs {
		if r == nil {
			continue
		}
		if used+int64(sizes[i]) > j.b.SampleBytes {
			ds.AddFlag(probe.FlagSampleTruncated)
			if len(ds.Sample) == 0 {
				ds.AddFlag(probe.FlagRecordTooLarge)
			}
			break
		}
		used += int64(sizes[i])
		ds.Sample = append(ds.Sample, *r)
		ds.Sampled++
	}
}

// get reads one message; nil when it is gone or unreadable.
func (j *jetStream) get(ctx context.Context, stream string, seq int64) (*classify.Record, int) {
	raw, err := j.request(ctx, "$JS.API.STREAM.MSG.GET."+stream, map[string]int64{"seq": seq})
	if err != nil {
		return nil, 0
	}
	var m storedMessage
	if decodeAPI(raw, &m, func() *apiError { return m.Error }) != nil {
		return nil, 0
	}
	r := toRecord(m.Message.Subject, m.Message.Data)
	return &r, len(m.Message.Data)
}

// toRecord flattens one message: JSON gives its fields, anything else sits
// under the subject pattern. The raw subject is kept under "_subject".
func toRecord(subject string, data []byte) classify.Record {
	return probe.KeyRecord("_subject", subject, subjectPattern(subject), strings.ToValidUTF8(string(data), ""))
}

// subjectPattern replaces variable tokens (holding digits or long ids)
// with "*": "orders.1001.created" → "orders.*.created".
func subjectPattern(s string) string { return probe.KeyPattern{Seps: "."}.Of(s) }
