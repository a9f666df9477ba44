package memcached

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/probe"
)

const (
	// getBatch is how many keys one "get" asks for.
	getBatch = 20
	// maxValue is the largest item fetched.
	maxValue = 64 << 10
)

// sample lists keys with a bounded metadump and gets the small ones.
func sample(ctx context.Context, env *probe.Env, ds *probe.Dataset) error {
	b := env.Budget
	items, err := listKeys(ctx, env, b.SampleRecords)
	if err != nil {
		return err
	}
	var keys []string
	remaining := b.SampleBytes
	for _, it := range items {
		if !validKey(it.key) {
			continue
		}
		switch {
		case it.size > maxValue:
			ds.AddFlag(probe.FlagRecordTooLarge) // left out for its size: said, not hidden
		case it.size > remaining:
			ds.AddFlag(probe.FlagSampleTruncated)
		default:
			keys = append(keys, it.key)
			remaining -= it.size
		}
	}
	if len(keys) == 0 {
		return nil
	}
	c, err := dial(ctx, env)
	if err != nil {
		return err
	}
	defer c.Close()
	remaining = b.SampleBytes
	for start := 0; start < len(keys) && remaining > 0; start += getBatch {
		batch := keys[start:min(start+getBatch, len(keys))]
		if remaining, err = getBatchInto(c, batch, remaining, ds); err != nil {
			return err
		}
	}
	return nil
}

// busyBackoff is the wait before each retry of a metadump the server
// refused as BUSY (its crawler still walks for a previous, abandoned dump —
// typically leakwatch's own probe a moment before); 750 ms in all.
var busyBackoff = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}

// errBusy is a metadump refused with "BUSY".
var errBusy = errors.New("metadump busy")

// listKeys reads at most n items of "lru_crawler metadump all", retrying
// after a short, bounded backoff while the crawler is busy.
func listKeys(ctx context.Context, env *probe.Env, n int) ([]item, error) {
	for i := 0; ; i++ {
		items, err := listKeysOnce(ctx, env, n)
		if !errors.Is(err, errBusy) || i >= len(busyBackoff) {
			return items, err
		}
		t := time.NewTimer(busyBackoff[i])
		select {
		case <-ctx.Done():
			t.Stop()
			return items, err
		case <-t.C:
		}
	}
}

// listKeysOnce reads at most n items of "lru_crawler metadump all". The
// connection is closed without reading the rest of a long dump.
func listKeysOnce(ctx context.Context, env *probe.Env, n int) ([]item, error) {
	c, err := dial(ctx, env)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, "lru_crawler metadump all\r\n"); err != nil {
		return nil, fmt.Errorf("write metadump: %w", err)
	}
	var items []item
	for len(items) < n {
		line, err := readLine(c.r)
		if err != nil {
			return items, fmt.Errorf("read metadump: %w", err)
		}
		if line == "END" {
			break
		}
		it, ok := parseMetadump(line)
		if !ok {
			// BUSY, CLIENT_ERROR (crawler disabled), ERROR (old server).
			if len(items) == 0 && strings.HasPrefix(line, "BUSY") {
				return nil, fmt.Errorf("metadump refused: %q: %w", trim(line), errBusy)
			}
			return items, fmt.Errorf("metadump refused: %q", trim(line))
		}
		items = append(items, it)
	}
	return items, nil
}

// getBatchInto gets keys and adds one record per value, reading at most
// remaining value bytes; it returns what is left.
func getBatchInto(c *conn, keys []string, remaining int64, ds *probe.Dataset) (int64, error) {
	if _, err := io.WriteString(c, "get "+strings.Join(keys, " ")+"\r\n"); err != nil {
		return remaining, fmt.Errorf("write get: %w", err)
	}
	for i := 0; i <= len(keys); i++ {
		line, err := readLine(c.r)
		if err != nil {
			return remaining, fmt.Errorf("read get: %w", err)
		}
		if line == "END" {
			return remaining, nil
		}
		h, err := parseValueHeader(line)
		if err != nil {
			return remaining, err
		}
		if h.bytes > remaining {
			// The value changed size since the metadump; stop here.
			return 0, nil
		}
		buf := make([]byte, h.bytes+2)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return remaining, fmt.Errorf("read value: %w", err)
		}
		remaining -= h.bytes
		ds.Sample = append(ds.Sample, toRecord(h.key, string(buf[:h.bytes])))
		ds.Sampled++
	}
	return remaining, fmt.Errorf("get: more values than keys: %w", errProtocol)
}

// toRecord flattens one cached value: JSON documents give their fields;
// other values sit under the key's pattern. The raw key is kept under
// "_key" so the classifier also sees data carried in key names.
func toRecord(key, val string) classify.Record {
	return probe.KeyRecord("_key", key, keyPattern(key), val)
}

// keyPattern replaces the variable parts of a key (segments holding digits
// or long ids) with "*": "user:1001:profile" → "user:*:profile".
func keyPattern(key string) string { return probe.KeyPattern{Seps: ":/|", DropEmpty: true}.Of(key) }
