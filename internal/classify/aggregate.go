// Aggregation: the per-class tallies of one dataset (matched records,
// rules, fields, masked examples, hash inputs, distinct-value counts) and
// the Output built from them.

package classify

import (
	"hash/maphash"
	"slices"
	"sort"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// classAgg accumulates one class over a dataset's sample.
type classAgg struct {
	matched  int
	values   int
	confSum  float64
	rules    []string
	fields   []string
	examples []string
	// norms are the first MaxHashes distinct normalised values; they are
	// turned into keyed hashes when the output is built and never leave.
	norms      []string
	freq       map[uint64]int32
	normHashes []uint64
	tries      int
	exTries    int
}

const maxFields = 12

// maxTries bounds the attempts to find distinct examples and hash inputs
// per class and dataset.
const maxTries = 256

// maxExampleTries bounds the masks rendered per class and dataset (masks of
// repetitive classes collide: "[lat/lon]").
const maxExampleTries = 32

// reset empties an aggregate for the next dataset, keeping its map and
// slices (examples were handed to the output and are not reused).
func (a *classAgg) reset() {
	clear(a.norms) // drop references to sampled values
	*a = classAgg{
		rules:      a.rules[:0],
		fields:     a.fields[:0],
		norms:      a.norms[:0],
		freq:       a.freq,
		normHashes: a.normHashes[:0],
	}
	if len(a.freq) > 4096 {
		a.freq = nil // let an outsized map go
	}
	clear(a.freq)
}

func (r *run) add(d det, pi *pathInfo) {
	a := r.agg[d.c]
	if a == nil {
		a = &r.aggs[d.c]
		r.agg[d.c] = a
	}
	a.values++
	a.confSum += float64(d.conf)
	ps := r.seen[pi]
	if ps == nil {
		if r.slabN == len(r.slabs)*slabSize {
			r.slabs = append(r.slabs, new([slabSize]pathSeen))
		}
		ps = &r.slabs[r.slabN/slabSize][r.slabN%slabSize]
		*ps = pathSeen{}
		r.slabN++
		r.seen[pi] = ps
	}
	if !ps.classes.has(d.c) {
		ps.classes.add(d.c)
		a.fields = addUnique(a.fields, pi.safe, maxFields)
	}
	if ps.rule[d.c] != d.rule {
		ps.rule[d.c] = d.rule
		a.rules = addUnique(a.rules, d.rule, 16)
	}
	norm := d.norm
	if norm == "" {
		norm = d.raw
	}
	collect := len(a.norms) < r.e.maxHashes && hashed[d.c] || len(a.examples) < r.e.maxExamples && a.exTries < maxExampleTries
	if !identifying[d.c] && !collect {
		return
	}
	h := maphash.String(r.seed, norm)
	first := true
	if identifying[d.c] {
		if a.freq == nil {
			a.freq = make(map[uint64]int32, 64)
		}
		n := a.freq[h]
		a.freq[h] = n + 1
		first = n == 0
	}
	// Hash inputs and examples: the first distinct values (compared by
	// their 64-bit hash), with bounded attempts for repetitive classes.
	if first && collect && a.tries < maxTries && !slices.Contains(a.normHashes, h) {
		a.tries++
		if len(a.norms) < r.e.maxHashes && hashed[d.c] {
			a.norms = append(a.norms, norm)
		}
		a.normHashes = append(a.normHashes, h)
		if len(a.examples) < r.e.maxExamples && a.exTries < maxExampleTries {
			a.exTries++
			a.examples = addUnique(a.examples, mask(d), r.e.maxExamples)
		}
	}
}

func addUnique(list []string, s string, max int) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	if len(list) >= max {
		return list
	}
	return append(list, s)
}

func (r *run) output(in Input) Output {
	var out Output
	schemaSig := r.schemaClasses(in.Schema)
	for c := class(0); c < numClasses; c++ {
		a := r.agg[c]
		if a != nil && a.matched > 0 {
			cc := finding.ClassCount{
				Class:      c.String(),
				Sampled:    r.sampled,
				Matched:    a.matched,
				Source:     "values",
				Confidence: round2(a.confSum / float64(a.values)),
				Rules:      sorted(a.rules),
				Fields:     sorted(a.fields),
				Examples:   a.examples,
				Hashes:     r.e.hashes(a.norms),
			}
			if s, ok := schemaSig[c]; ok {
				cc.Fields = mergeSorted(cc.Fields, s.fields)
			}
			estimate(&cc, in.Records, a)
			out.Classes = append(out.Classes, cc)
			continue
		}
		if s, ok := schemaSig[c]; ok {
			out.Classes = append(out.Classes, finding.ClassCount{
				Class:      c.String(),
				Sampled:    r.sampled,
				Matched:    0,
				Source:     "schema",
				Confidence: round2(float64(s.conf)),
				Rules:      sorted(s.rules),
				Fields:     sorted(s.fields),
				Examples:   []string{},
			})
		}
	}
	for l := range r.canary {
		out.Canaries = append(out.Canaries, l)
	}
	sort.Strings(out.Canaries)
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func mergeSorted(a, b []string) []string {
	for _, x := range b {
		a = addUnique(a, x, maxFields)
	}
	sort.Strings(a)
	return a
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
