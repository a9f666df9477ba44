package etcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

const (
	// maxWalk bounds the range calls spent discovering prefixes.
	maxWalk = 200
	// maxPrefixes bounds the prefixes listed as datasets.
	maxPrefixes = 100
	// keyLimit bounds the answer to a one-key keys-only range.
	keyLimit = 64 << 10
)

// keySet is one dataset: the keys under a prefix, or the keys without one.
type keySet struct {
	name   string
	lo, hi []byte   // the prefix range; nil for loose keys
	keys   [][]byte // loose keys (no prefix), as found by the walk
	count  int64
	other  bool // keys the bounded walk did not reach
	parent bool // loose keys directly under a deeper walk's prefix
}

// datasets splits the keyspace into prefix datasets with exact counts. When
// a single prefix holds everything (as "/registry/" in Kubernetes) the walk
// goes one level deeper.
func (c *client) datasets(ctx context.Context, total int64) ([]*keySet, error) {
	if total == 0 {
		return nil, nil
	}
	steps := 0
	sets, err := c.walk(ctx, []byte{0}, []byte{0}, 1, &steps)
	if err == nil && len(sets) == 1 && sets[0].lo != nil && sets[0].count == total {
		deeper, derr := c.walk(ctx, sets[0].lo, sets[0].hi, 2, &steps)
		if derr == nil && len(deeper) > 1 {
			sets = deeper
		}
	}
	var counted int64
	for _, s := range sets {
		counted += s.count
	}
	if counted < total {
		sets = append(sets, &keySet{name: "(other)", count: total - counted, other: true})
	}
	sortSets(sets)
	return sets, err
}

// walk visits [lo, hi) one prefix at a time: the first key at or after the
// cursor names a prefix, which is counted and then skipped whole.
func (c *client) walk(ctx context.Context, lo, hi []byte, depth int, steps *int) ([]*keySet, error) {
	var sets []*keySet
	var loose *keySet
	start := lo
	maxSets := min(c.env.Budget.MaxListed, maxPrefixes)
	for *steps < maxWalk && len(sets) < maxSets && ctx.Err() == nil {
		*steps++
		r, err := c.rangeCall(ctx, rangeRequest{Key: start, RangeEnd: hi, Limit: 1, KeysOnly: true}, keyLimit)
		if err != nil {
			return sets, err
		}
		if len(r.Kvs) == 0 {
			break
		}
		k := r.Kvs[0].Key
		p, ok := prefixAt(k, depth)
		if !ok {
			if loose == nil {
				loose = &keySet{name: "(root)"}
				if depth > 1 {
					loose.name, loose.parent = string(lo), true
				}
				sets = append(sets, loose)
			}
			loose.count++
			if len(loose.keys) < c.env.Budget.SampleRecords {
				loose.keys = append(loose.keys, k)
			}
			start = append(bytes.Clone(k), 0)
			continue
		}
		end := prefixEnd(p)
		*steps++
		cr, err := c.rangeCall(ctx, rangeRequest{Key: p, RangeEnd: end, CountOnly: true}, keyLimit)
		if err != nil {
			return sets, err
		}
		sets = append(sets, &keySet{name: string(p), lo: bytes.Clone(p), hi: end, count: int64(cr.Count)})
		if len(end) == 1 && end[0] == 0 {
			break
		}
		start = end
	}
	return sets, nil
}

// sampleAll lists the datasets and samples the largest.
func (c *client) sampleAll(ctx context.Context, res *probe.Result, sets []*keySet) {
	b := c.env.Budget
	if len(sets) > b.MaxListed {
		sets = sets[:b.MaxListed]
		res.AddFlag("datasets-truncated")
	}
	start := len(res.Datasets)
	for _, s := range sets {
		ds := probe.Dataset{}
		ds.Name, ds.Kind, ds.Records = s.name, "keyspace", finding.Int64(s.count)
		if s.other {
			ds.Flags = append(ds.Flags, "not-walked")
		}
		res.Datasets = append(res.Datasets, ds)
	}
	probe.SampleLargest(ctx, res, b, res.Datasets[start:], func(ctx context.Context, i int, ds *probe.Dataset) error {
		if s := sets[i]; !s.other && s.count > 0 {
			if err := c.sample(ctx, s, ds); err != nil {
				return fmt.Errorf("etcd: sample %s: %w", s.name, err)
			}
		}
		return nil
	})
}

// sample reads up to SampleRecords pairs of one dataset within SampleBytes.
func (c *client) sample(ctx context.Context, s *keySet, ds *probe.Dataset) error {
	b := c.env.Budget
	// base64 makes values a third larger; headers and keys need a little more.
	limit := b.SampleBytes*4/3 + 4096
	if s.lo == nil {
		return c.sampleKeys(ctx, s.keys, limit, ds)
	}
	n := int64(b.SampleRecords)
	for n > 0 {
		r, err := c.rangeCall(ctx, rangeRequest{Key: s.lo, RangeEnd: s.hi, Limit: n}, limit)
		if errors.Is(err, errTruncated) {
			n /= 4 // large values: ask for fewer
			ds.AddFlag(probe.FlagSampleTruncated)
			if n == 0 {
				ds.AddFlag(probe.FlagRecordTooLarge) // even one pair is past the budget
			}
			continue
		}
		if err != nil {
			return err
		}
		add(ds, r.Kvs, b)
		return nil
	}
	return nil
}

// sampleKeys reads loose keys one by one.
func (c *client) sampleKeys(ctx context.Context, keys [][]byte, limit int64, ds *probe.Dataset) error {
	for _, k := range keys {
		if ds.Sampled >= c.env.Budget.SampleRecords || ctx.Err() != nil {
			break
		}
		r, err := c.rangeCall(ctx, rangeRequest{Key: k}, limit)
		if errors.Is(err, errTruncated) {
			ds.AddFlag(probe.FlagRecordTooLarge) // left out for its size: said, not hidden
			continue
		}
		if err != nil {
			return err
		}
		add(ds, r.Kvs, c.env.Budget)
	}
	return nil
}

// add turns pairs into records until the record or byte budget is spent.
func add(ds *probe.Dataset, kvs []keyValue, b probe.Budget) {
	used := int64(0)
	for _, r := range ds.Sample {
		used += int64(r.Size())
	}
	for _, kv := range kvs {
		if ds.Sampled >= b.SampleRecords {
			return
		}
		if used >= b.SampleBytes {
			ds.AddFlag(probe.FlagSampleTruncated)
			return
		}
		rec := toRecord(kv)
		used += int64(rec.Size())
		ds.Sample = append(ds.Sample, rec)
		ds.Sampled++
	}
}
