package zookeeper

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

const (
	// maxOps bounds the requests of one probe's walk.
	maxOps = 2000
	// batchSize is how many requests are pipelined at once.
	batchSize = 32
	// listLimit bounds one getChildren2 reply.
	listLimit = 1 << 20
	// maxValue is the largest znode data sampled (ZooKeeper's own default
	// limit is 1 MiB).
	maxValue = 64 << 10
)

// systemNode is ZooKeeper's own subtree (quotas, dynamic config).
const systemNode = "zookeeper"

// walker counts and samples subtrees within an operation budget.
type walker struct {
	s   *session
	b   probe.Budget
	ops int
}

// tree is what the walk learned about one top-level znode.
type tree struct {
	path       string
	count      int64
	complete   bool
	denied     bool
	candidates []candidate // znodes with data small enough to sample
	tooLarge   bool        // a znode's data was too large to sample
}

// candidate is a znode to sample and its data size.
type candidate struct {
	path string
	size int64
}

// measure lists, counts and samples the top-level subtrees.
func (w *walker) measure(ctx context.Context, res *probe.Result, top []string) {
	sort.Strings(top)
	var trees []*tree
	for _, name := range top {
		if name == systemNode {
			continue
		}
		if len(trees) >= w.b.MaxListed {
			res.AddFlag("datasets-truncated")
			break
		}
		trees = append(trees, &tree{path: "/" + name})
	}
	for _, t := range trees {
		if err := w.walk(ctx, t); err != nil {
			res.AddErrorf("zookeeper: walk %s: %v", t.path, err)
		}
	}
	sort.SliceStable(trees, func(i, j int) bool { return trees[i].count > trees[j].count })
	denied := 0
	first := len(res.Datasets)
	for _, t := range trees {
		ds := probe.Dataset{}
		ds.Name, ds.Kind = t.path, "path"
		if t.complete {
			ds.Records = finding.Int64(t.count)
		}
		if t.denied {
			denied++
			ds.Flags = append(ds.Flags, "acl-protected")
		}
		if t.tooLarge {
			ds.AddFlag(probe.FlagRecordTooLarge)
		}
		res.Datasets = append(res.Datasets, ds)
	}
	// Most znodes first (the order of trees).
	_ = probe.SampleInOrder(ctx, res, w.b, res.Datasets[first:], nil, func(_ context.Context, i int, ds *probe.Dataset) error {
		if err := w.sample(trees[i], ds); err != nil {
			return fmt.Errorf("zookeeper: sample %s: %v", trees[i].path, err)
		}
		return nil
	})
	if denied > 0 && denied == len(trees) {
		// The tree is visible but ACLs refuse every subtree's data.
		protect(res)
		res.AddFlag("tree-visible")
	}
}

// walk visits t's subtree breadth first with pipelined getChildren2 calls
// (which return each znode's own Stat) until the operation budget ends.
func (w *walker) walk(ctx context.Context, t *tree) error {
	queue := []string{t.path}
	t.complete = true
	for len(queue) > 0 {
		if w.ops <= 0 || ctx.Err() != nil {
			t.complete = false
			return nil
		}
		n := min(len(queue), batchSize, w.ops)
		calls := make([]call, n)
		for i, p := range queue[:n] {
			calls[i] = call{op: opGetChildren2, path: p, max: listLimit}
		}
		queue = queue[n:]
		w.ops -= n
		replies, err := w.s.batch(calls)
		if err != nil {
			t.complete = false
			return err
		}
		for i, r := range replies {
			queue = w.visit(t, calls[i].path, r, queue)
		}
	}
	return nil
}

// visit accounts one znode's reply and queues its children.
func (w *walker) visit(t *tree, p string, r reply, queue []string) []string {
	switch r.hdr.err {
	case errOK:
	case errNoNode: // deleted meanwhile
		return queue
	case errNoAuth:
		t.count++
		t.denied, t.complete = true, false
		return queue
	default:
		t.complete = false
		return queue
	}
	if r.childrenCut {
		t.complete = false
	}
	t.count++
	if r.stat.dataLength > 0 && int64(r.stat.dataLength) <= min(w.b.SampleBytes, maxValue) &&
		len(t.candidates) < w.b.SampleRecords {
		t.candidates = append(t.candidates, candidate{path: p, size: int64(r.stat.dataLength)})
	} else if int64(r.stat.dataLength) > min(w.b.SampleBytes, maxValue) {
		t.tooLarge = true // a value left out for its size is said, not hidden
	}
	for _, c := range r.children {
		queue = append(queue, path.Join(p, c))
	}
	return queue
}

// sample reads the data of t's candidate znodes within the budget. Each
// batch asks only for what its announced sizes fit into what is left.
func (w *walker) sample(t *tree, ds *probe.Dataset) error {
	remaining := w.b.SampleBytes
	cands := t.candidates
	for len(cands) > 0 && remaining > 0 && w.ops > 0 {
		var calls []call
		planned := int64(0)
		for len(cands) > 0 && len(calls) < min(batchSize, w.ops) && planned+cands[0].size <= remaining {
			c := cands[0]
			cands = cands[1:]
			planned += c.size
			// A znode may have grown since the walk: its reply may use
			// what is left of the budget, no more.
			calls = append(calls, call{op: opGetData, path: c.path, max: remaining + statLen + 64})
		}
		if len(calls) == 0 {
			return nil
		}
		w.ops -= len(calls)
		replies, err := w.s.batch(calls)
		for i, r := range replies {
			if r.hdr.err != errOK || len(r.data) == 0 || int64(len(r.data)) > remaining {
				continue
			}
			remaining -= int64(len(r.data))
			ds.Sample = append(ds.Sample, toRecord(calls[i].path, r.data))
			ds.Sampled++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// toRecord flattens one znode's data: JSON gives its fields, other data
// sits under the znode's path pattern. The raw path is kept under "_key".
func toRecord(p string, data []byte) classify.Record {
	return probe.KeyRecord("_key", p, pathPattern(p), strings.ToValidUTF8(string(data), ""))
}

// pathPattern replaces variable segments (holding digits or long ids) with
// "*": "/app/users/1001" → "/app/users/*".
func pathPattern(p string) string { return probe.KeyPattern{Seps: "/"}.Of(p) }
