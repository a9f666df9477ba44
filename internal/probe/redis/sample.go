package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// errDenied means the server refused a read command (ACL NOPERM / NOAUTH).
var errDenied = errors.New("read denied")

const (
	// maxScanCalls bounds the SCAN iterations per database.
	maxScanCalls = 32
	// aggElems is how many elements of a hash/list/set/zset are read.
	aggElems = 32
	// streamEntries is how many stream entries are read.
	streamEntries = 8
	// maxValue is the largest string value read whole; longer ones are
	// read as a prefix with GETRANGE.
	maxValue = 64 << 10
	// prefixLen is how much of an over-long string is read.
	prefixLen = 4 << 10
)

// sampleDB samples one database into ds within the budget.
func sampleDB(ctx context.Context, s *session, b probe.Budget, ks keyspace, ds *probe.Dataset) error {
	lim := limits{maxBytes: b.SampleBytes, maxElems: 4096, maxDepth: 4}
	sel, err := s.do(ctx, lim, "SELECT", dbArg(ks))
	if err != nil {
		return fmt.Errorf("select: %w", err)
	}
	if sel.isError() {
		return replyErr("SELECT", sel)
	}
	keys, err := scanKeys(ctx, s, lim, b.SampleRecords)
	if err != nil || len(keys) == 0 {
		return err
	}
	types, err := pipelineEach(ctx, s, lim, keys, func(k string) []string { return []string{"TYPE", k} })
	if err != nil {
		return fmt.Errorf("type: %w", err)
	}
	sizes, err := pipelineEach(ctx, s, lim, keys, func(k string) []string { return sizeCmd(k, types[k]) })
	if err != nil {
		return fmt.Errorf("size: %w", err)
	}
	return fetch(ctx, s, b, keys, types, sizes, ds)
}

// scanKeys collects up to n distinct keys with a bounded number of SCAN calls.
func scanKeys(ctx context.Context, s *session, lim limits, n int) ([]string, error) {
	count := strconv.Itoa(min(max(n, 10), 1000))
	seen := map[string]bool{}
	var keys []string
	cursor := "0"
	for i := 0; i < maxScanCalls && len(keys) < n; i++ {
		v, err := s.do(ctx, lim, "SCAN", cursor, "COUNT", count)
		if err != nil {
			return keys, fmt.Errorf("scan: %w", err)
		}
		if v.isError() {
			return keys, replyErr("SCAN", v)
		}
		if v.kind != kindArray || len(v.elems) != 2 || v.elems[1].kind != kindArray {
			return keys, fmt.Errorf("scan: unexpected reply shape: %w", errProtocol)
		}
		for _, k := range v.elems[1].elems {
			if len(keys) < n && !seen[k.str] {
				seen[k.str] = true
				keys = append(keys, k.str)
			}
		}
		cursor = v.elems[0].str
		if cursor == "0" {
			break
		}
	}
	return keys, nil
}

// pipelineEach runs one command per key and maps the simple/integer replies
// by key. Keys whose command is nil are skipped.
func pipelineEach(ctx context.Context, s *session, lim limits, keys []string, cmd func(string) []string) (map[string]value, error) {
	var cmds [][]string
	var order []string
	for _, k := range keys {
		if c := cmd(k); c != nil {
			cmds = append(cmds, c)
			order = append(order, k)
		}
	}
	vals, err := s.pipeline(ctx, lim, cmds)
	out := make(map[string]value, len(vals))
	for i, v := range vals {
		out[order[i]] = v
	}
	return out, err
}

// sizeCmd is the cheap size command for a key of the given TYPE.
func sizeCmd(key string, typ value) []string {
	switch typ.str {
	case "string":
		return []string{"STRLEN", key}
	case "hash":
		return []string{"HLEN", key}
	case "set":
		return []string{"SCARD", key}
	}
	return nil
}

// fetchCmd is the bounded read for one key; nil for types not sampled.
func fetchCmd(key, typ string, size value, remaining int64) []string {
	n := size.num
	switch typ {
	case "string":
		if readWhole(n, remaining) {
			return []string{"GET", key}
		}
		return []string{"GETRANGE", key, "0", strconv.FormatInt(stringCost(n, remaining)-1, 10)}
	case "hash":
		if n <= 2*aggElems {
			return []string{"HGETALL", key}
		}
		return []string{"HSCAN", key, "0", "COUNT", strconv.Itoa(aggElems)}
	case "list":
		return []string{"LRANGE", key, "0", strconv.Itoa(aggElems - 1)}
	case "set":
		if n <= aggElems {
			return []string{"SMEMBERS", key}
		}
		return []string{"SSCAN", key, "0", "COUNT", strconv.Itoa(aggElems)}
	case "zset":
		return []string{"ZRANGE", key, "0", strconv.Itoa(aggElems - 1)}
	case "stream":
		return []string{"XREVRANGE", key, "+", "-", "COUNT", strconv.Itoa(streamEntries)}
	}
	return nil
}

// readWhole tells whether a string of n bytes is read with GET.
func readWhole(n, remaining int64) bool { return n <= remaining && n <= maxValue }

// stringCost is how many bytes reading a string of n bytes takes.
func stringCost(n, remaining int64) int64 {
	if readWhole(n, remaining) {
		return n
	}
	return max(min(remaining, prefixLen), 1)
}

// fetch reads the planned keys and turns each into one record. The reads
// are pipelined; each reply may use at most the bytes still left in the
// dataset's budget.
func fetch(ctx context.Context, s *session, b probe.Budget, keys []string, types, sizes map[string]value, ds *probe.Dataset) error {
	remaining := b.SampleBytes
	var cmds [][]string
	var order []string
	planned := remaining
	for _, k := range keys {
		if planned <= 0 {
			ds.AddFlag(probe.FlagSampleTruncated) // keys left unread for the budget
			break
		}
		t := types[k].str
		c := fetchCmd(k, t, sizes[k], planned)
		if c == nil {
			continue
		}
		if c[0] == "GETRANGE" {
			ds.AddFlag(probe.FlagSampleTruncated) // a value read in part only
		}
		if t == "string" {
			planned -= stringCost(sizes[k].num, planned)
		}
		cmds = append(cmds, c)
		order = append(order, k)
	}
	if len(cmds) == 0 {
		return nil
	}
	if err := s.send(ctx, cmds...); err != nil {
		return fmt.Errorf("fetch: %w", err)
	}
	for i, k := range order {
		if remaining <= 0 {
			ds.AddFlag(probe.FlagSampleTruncated)
			s.close() // unread replies remain in the stream
			return nil
		}
		v, err := s.recv(limits{maxBytes: remaining, maxElems: 4096, maxDepth: 4})
		if err != nil {
			return fmt.Errorf("fetch %s: %w", cmds[i][0], err)
		}
		if v.isError() || v.null {
			continue
		}
		rec := toRecord(k, types[k].str, v)
		remaining -= int64(rec.Size())
		ds.Sample = append(ds.Sample, rec)
		ds.Sampled++
	}
	return nil
}

// replyErr turns an error reply to a read command into an error; auth and
// ACL refusals wrap errDenied.
func replyErr(cmd string, v value) error {
	code, _, _ := strings.Cut(v.text(), " ")
	if authError(v.text()) {
		return fmt.Errorf("%s: %s: %w", strings.ToLower(cmd), code, errDenied)
	}
	return fmt.Errorf("%s: server error %s", strings.ToLower(cmd), code)
}

// toRecord flattens one key's value. Hash and stream fields become paths;
// JSON strings are flattened; other values sit under the key's pattern
// (digits and ids replaced by "*"). The raw key is kept under "_key" so the
// classifier also sees data carried in key names.
func toRecord(key, typ string, v value) classify.Record {
	pat := keyPattern(key)
	var r classify.Record
	switch typ {
	case "string":
		r = probe.ValueRecord(pat, v.str)
	case "hash":
		r = pairsRecord(v)
	case "list", "set", "zset":
		for _, e := range flatElems(v) {
			r.Values = append(r.Values, probe.ValueRecord(pat, e).Values...)
		}
	case "stream":
		for _, entry := range v.elems {
			if len(entry.elems) == 2 {
				r.Values = append(r.Values, pairsRecord(entry.elems[1]).Values...)
			}
		}
	}
	r.Values = append(r.Values, classify.Value{Path: "_key", Text: key})
	return r
}

// pairsRecord makes a record from a field/value array (HGETALL, HSCAN,
// stream entry).
func pairsRecord(v value) classify.Record {
	el := v.elems
	if len(el) == 2 && el[1].kind == kindArray { // HSCAN: [cursor, [f, v, ...]]
		el = el[1].elems
	}
	var r classify.Record
	for i := 0; i+1 < len(el); i += 2 {
		r.Values = append(r.Values, probe.FieldRecord(el[i].str, el[i+1].str).Values...)
	}
	return r
}

// flatElems returns the strings of an array reply, also of a SSCAN reply.
func flatElems(v value) []string {
	el := v.elems
	if len(el) == 2 && el[1].kind == kindArray {
		el = el[1].elems
	}
	out := make([]string, 0, len(el))
	for _, e := range el {
		out = append(out, e.str)
	}
	return out
}

// keyPattern replaces the variable parts of a key (segments holding digits
// or long ids) with "*": "user:1001:profile" → "user:*:profile".
func keyPattern(key string) string { return probe.KeyPattern{Seps: ":", DropEmpty: true}.Of(key) }
