package cluster

import (
	"errors"
	"fmt"
	"slices"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/monitor"
)

// A result that does not fit one NATS message (a chunk of many exposed
// stores with large, incompressible findings — long random dataset and
// field names — which a hostile network can set up on purpose) is sent
// in parts: split cuts it into as many messages as needed, each within
// the server's max_payload, and the coordinator assembles the parts of
// one attempt (assemble). A check too large for a message even alone is
// reduced (shrink) to a valid finding flagged FlagResultTruncated: what
// was proven (service, status, auth, record counts, classes) is kept.

// FlagResultTruncated (finding): the worker cut the finding to fit one
// message — evidence, dataset fields or datasets were left out (the
// datasets left out are summed up in one dataset of Kind
// DatasetKindLeftOut, their records and classes kept).
const FlagResultTruncated = "result-truncated"

// DatasetKindLeftOut is the kind of the dataset that stands for the
// datasets shrink left out.
const DatasetKindLeftOut = "left-out"

// maxParts bounds the parts of one result (a bogus part count is refused
// before anything is stored).
const maxParts = 100000

// headroom is kept free of a message's max_payload for its headers
// (Nats-Msg-Id) and the part numbers.
const headroom = 4 << 10

// messageLimit is the largest result body for a connection whose server
// accepts maxPayload bytes (0: unknown, nats-server's default 1 MiB).
func messageLimit(maxPayload int64) int {
	if maxPayload <= 0 {
		maxPayload = 1 << 20
	}
	return max(int(maxPayload)-headroom, 1<<10)
}

// split encodes a result as parts, each at most limit bytes: one part
// when it fits, else as many as needed, every part carrying the result's
// header (item, attempt, worker, swept, …), Part i of Parts n, and a
// share of the checks in order. A check too large alone is shrunk.
func split(r Result, limit int) ([][]byte, error) {
	r.Part, r.Parts = 0, 0
	if data, err := encodeLimit(r, limit); err == nil {
		return [][]byte{data}, nil
	} else if !errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	// Pack by each check's own compressed size (a part compresses at
	// least about as well as its checks alone), then verify each part and
	// halve the ones that still do not fit.
	head := r
	head.Checks = nil
	sizes := make([]int, len(r.Checks))
	checks := slices.Clone(r.Checks)
	budget := limit - headerSize(head)
	if budget <= 0 {
		return nil, fmt.Errorf("%w: message limit %d below a result header", ErrTooLarge, limit)
	}
	for i, c := range checks {
		n, err := encodedSize(c)
		if err != nil {
			return nil, err
		}
		if n > budget {
			if checks[i], err = shrink(c, head, limit); err != nil {
				return nil, err
			}
			n, _ = encodedSize(checks[i])
		}
		sizes[i] = n
	}
	var groups [][]monitor.Check
	for start := 0; start < len(checks); {
		end, sum := start+1, sizes[start]
		for end < len(checks) && sum+sizes[end] <= budget {
			sum += sizes[end]
			end++
		}
		groups = append(groups, checks[start:end])
		start = end
	}
	for range 8 { // a part count with more digits may push a part over
		var out [][]byte
		var again [][]monitor.Check
		redo := false
		for _, g := range groups {
			parts, err := fit(head, g, limit, len(groups))
			if err != nil {
				return nil, err
			}
			if len(parts) > 1 {
				redo = true
			}
			again = append(again, parts...)
		}
		groups = again
		if redo {
			continue
		}
		if len(groups) > maxParts {
			return nil, fmt.Errorf("%w: %d parts", ErrTooLarge, len(groups))
		}
		for i, g := range groups {
			p := head
			p.Checks, p.Part, p.Parts = g, i, len(groups)
			data, err := encodeLimit(p, limit)
			if err != nil {
				return nil, err
			}
			out = append(out, data)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: parts do not settle", ErrTooLarge)
}

// fit halves checks until each share fits a message numbered as one of
// about n parts.
func fit(head Result, checks []monitor.Check, limit, n int) ([][]monitor.Check, error) {
	p := head
	p.Checks, p.Part, p.Parts = checks, n, n+1
	_, err := encodeLimit(p, limit)
	if err == nil {
		return [][]monitor.Check{checks}, nil
	}
	if !errors.Is(err, ErrTooLarge) {
		return nil, err
	}
	if len(checks) == 1 {
		c, err := shrink(checks[0], p, limit)
		if err != nil {
			return nil, err
		}
		return [][]monitor.Check{{c}}, nil
	}
	a, err := fit(head, checks[:len(checks)/2], limit, n)
	if err != nil {
		return nil, err
	}
	b, err := fit(head, checks[len(checks)/2:], limit, n)
	if err != nil {
		return nil, err
	}
	return append(a, b...), nil
}

// headerSize is the encoded size of a part without checks.
func headerSize(head Result) int {
	head.Part, head.Parts = maxParts, maxParts
	data, err := encodeLimit(head, 1<<30)
	if err != nil {
		return 1 << 30
	}
	return len(data)
}

// encodedSize is the gzip'd JSON size of v.
func encodedSize(v any) (int, error) {
	data, err := encodeLimit(v, 1<<30)
	return len(data), err
}

// shrink reduces a check whose finding is too large for one message
// (with the part header p) until it fits: the finding's evidence, then
// the datasets' field lists are left out, then as many datasets as
// needed (the last ones; one dataset of kind DatasetKindLeftOut keeps
// their count, records and classes), then long texts are cut. The result
// is flagged FlagResultTruncated; the check's input is not changed.
func shrink(c monitor.Check, p Result, limit int) (monitor.Check, error) {
	fits := func(c monitor.Check) bool {
		q := p
		q.Checks = []monitor.Check{c}
		if q.Parts == 0 {
			q.Part, q.Parts = maxParts, maxParts
		}
		_, err := encodeLimit(q, limit)
		return err == nil
	}
	if fits(c) {
		return c, nil
	}
	c.Reason = cut(c.Reason, 1<<10)
	if c.Finding == nil {
		if fits(c) {
			return c, nil
		}
		return c, fmt.Errorf("%w: a check without a finding", ErrTooLarge)
	}
	f := *c.Finding
	c.Finding = &f
	if !slices.Contains(f.Flags, FlagResultTruncated) {
		f.Flags = append(slices.Clone(f.Flags), FlagResultTruncated)
	}
	f.Evidence = nil
	if fits(c) {
		return c, nil
	}
	all := slices.Clone(f.Datasets)
	for i := range all {
		all[i].Fields = nil
		all[i].Canary = nil
	}
	f.Datasets = all
	if fits(c) {
		return c, nil
	}
	// The largest k of the first datasets that fits, the rest summed up.
	keep := func(k int) {
		f.Datasets = append(slices.Clone(all[:k]), leftOut(all[k:]))
	}
	lo, hi := 0, len(all) // keep(lo) is tried last; find the largest k that fits
	for lo < hi {
		mid := (lo + hi + 1) / 2
		keep(mid)
		if fits(c) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	keep(lo)
	if fits(c) {
		return c, nil
	}
	for i := range f.Datasets {
		f.Datasets[i].Name = cut(f.Datasets[i].Name, 256)
	}
	f.Error, f.Product, f.Version = cut(f.Error, 1<<10), cut(f.Product, 256), cut(f.Version, 256)
	if fits(c) {
		return c, nil
	}
	return c, fmt.Errorf("%w: finding %s even reduced", ErrTooLarge, f.ID)
}

// leftOut is the dataset standing for ds: their number, records (nil if
// none was counted) and classes.
func leftOut(ds []finding.Dataset) finding.Dataset {
	out := finding.Dataset{
		Name:    fmt.Sprintf("(%d datasets left out: the result was too large for one message)", len(ds)),
		Kind:    DatasetKindLeftOut,
		Classes: []finding.ClassCount{},
		Flags:   []string{FlagResultTruncated},
	}
	byClass := map[string]int{}
	for _, d := range ds {
		if d.Records != nil && !d.Hidden {
			out.Records = finding.Int64(finding.SatAdd(valueOr(out.Records), *d.Records))
		}
		out.Sampled += d.Sampled
		for _, cc := range d.Classes {
			i, ok := byClass[cc.Class]
			if !ok {
				i = len(out.Classes)
				byClass[cc.Class] = i
				out.Classes = append(out.Classes, finding.ClassCount{Class: cc.Class})
			}
			out.Classes[i].Sampled += cc.Sampled
			out.Classes[i].Matched += cc.Matched
		}
	}
	return out
}

func valueOr(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// cut shortens s to at most n bytes (on a rune boundary), marked.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i] + "…"
}

// assemble joins the parts of one attempt of a work item (each decoded,
// in any order) into its result; every part 0..n-1 must be there once
// (a repeat of the same part is ignored) with the same item, attempt and
// part count.
func assemble(parts []Result) (Result, error) {
	if len(parts) == 0 {
		return Result{}, errors.New("cluster: assemble: no parts")
	}
	first := parts[0]
	n := max(first.Parts, 1)
	if n > maxParts {
		return Result{}, fmt.Errorf("cluster: assemble: %d parts", n)
	}
	byIndex := make([]*Result, n)
	for i := range parts {
		p := &parts[i]
		if p.ItemID != first.ItemID || p.Attempt != first.Attempt || max(p.Parts, 1) != n {
			return Result{}, fmt.Errorf("cluster: assemble: part %d/%d of %s attempt %d among parts of %s attempt %d (%d parts)",
				p.Part, p.Parts, p.ItemID, p.Attempt, first.ItemID, first.Attempt, n)
		}
		if p.Part < 0 || p.Part >= n {
			return Result{}, fmt.Errorf("cluster: assemble: part %d of %d", p.Part, n)
		}
		if byIndex[p.Part] == nil {
			byIndex[p.Part] = p
		}
	}
	for i, p := range byIndex {
		if p == nil {
			return Result{}, fmt.Errorf("cluster: assemble: %s attempt %d: part %d of %d missing", first.ItemID, first.Attempt, i, n)
		}
	}
	out := *byIndex[0]
	out.Checks = nil
	for _, p := range byIndex {
		out.Checks = append(out.Checks, p.Checks...)
	}
	out.Part, out.Parts = 0, 0
	return out, nil
}
