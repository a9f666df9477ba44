package influxdb

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// internalDB is InfluxDB's own monitoring database: never listed.
const internalDB = "_internal"

// maxCountSeries is the series cardinality above which a database's
// measurements are not counted: count(*) reads every point.
const maxCountSeries = 100000

// countBatch is how many count(*) statements go in one request.
const countBatch = 50

// measurement is one listed measurement.
type measurement struct {
	db, name string
	records  *int64
	fields   []finding.Field
}

func (m *measurement) fullName() string { return m.db + "." + m.name }

// quoteIdent quotes an InfluxQL identifier.
func quoteIdent(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// measure lists each database's measurements with point counts and keys,
// and samples the largest.
func (c *client) measure(ctx context.Context, res *probe.Result, dbs []string) {
	var all []*measurement
	for _, db := range dbs {
		left := c.env.Budget.MaxListed - len(all)
		if db == internalDB || left <= 0 || ctx.Err() != nil {
			continue
		}
		ms, err := c.listDatabase(ctx, res, db, left)
		if err != nil {
			res.AddErrorf("influxdb: database %s: %v", db, err)
		}
		all = append(all, ms...)
	}
	sort.SliceStable(all, func(i, j int) bool { return count(all[i]) > count(all[j]) })
	start := len(res.Datasets)
	for _, m := range all {
		res.Datasets = append(res.Datasets, probe.Dataset{Dataset: finding.Dataset{Name: m.fullName(), Kind: "measurement", Records: m.records, Fields: m.fields}})
	}
	if c.env.Budget.SampleRecords <= 0 {
		return
	}
	probe.SampleLargest(ctx, res, c.env.Budget, res.Datasets[start:], func(ctx context.Context, i int, ds *probe.Dataset) error {
		recs, cut, err := c.sample(ctx, all[i])
		if cut {
			ds.AddFlag(probe.FlagSampleTruncated)
			if len(recs) == 0 {
				ds.AddFlag(probe.FlagRecordTooLarge)
			}
		}
		ds.Sample, ds.Sampled = recs, len(recs)
		if err != nil {
			return fmt.Errorf("influxdb: sample %s: %w", ds.Name, err)
		}
		return nil
	})
}

func count(m *measurement) int64 {
	if m.records == nil {
		return -1
	}
	return *m.records
}

// listDatabase lists up to limit measurements of db with keys and counts.
func (c *client) listDatabase(ctx context.Context, res *probe.Result, db string, limit int) ([]*measurement, error) {
	lim := c.env.Budget.MaxResponseBytes
	qr, err := c.query(ctx, db, fmt.Sprintf("SHOW MEASUREMENTS LIMIT %d", limit), lim)
	if err != nil {
		return nil, fmt.Errorf("show measurements: %w", err)
	}
	var out []*measurement
	byName := map[string]*measurement{}
	for _, r := range qr.Results {
		for _, s := range r.Series {
			for _, name := range s.column("name") {
				m := &measurement{db: db, name: name}
				out = append(out, m)
				byName[name] = m
			}
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	var errs []string
	if err := c.addKeys(ctx, db, byName); err != nil {
		errs = append(errs, err.Error())
	}
	series, err := c.seriesCardinality(ctx, db)
	if err == nil {
		ev, _ := res.Evidence["series"].(map[string]int64)
		if ev == nil {
			ev = map[string]int64{}
			res.AddEvidence("series", ev)
		}
		ev[db] = series
	}
	if err == nil && series <= maxCountSeries {
		if err := c.addCounts(ctx, db, out); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return out, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return out, nil
}

// seriesCardinality is the database's (estimated) number of series.
func (c *client) seriesCardinality(ctx context.Context, db string) (int64, error) {
	qr, err := c.query(ctx, db, "SHOW SERIES CARDINALITY", c.env.Budget.MaxResponseBytes)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, r := range qr.Results {
		for _, s := range r.Series {
			if n, ok := s.maxCount(); ok {
				total += n
			}
		}
	}
	return total, nil
}

// addKeys attaches field keys (with their types) and tag keys.
func (c *client) addKeys(ctx context.Context, db string, byName map[string]*measurement) error {
	qr, err := c.query(ctx, db, "SHOW FIELD KEYS; SHOW TAG KEYS", c.env.Budget.MaxResponseBytes)
	if err != nil {
		return fmt.Errorf("show keys: %w", err)
	}
	for _, r := range qr.Results {
		for _, s := range r.Series {
			m := byName[s.Name]
			if m == nil {
				continue
			}
			if keys := s.column("fieldKey"); keys != nil {
				types := s.column("fieldType")
				for i, k := range keys {
					f := finding.Field{Name: k}
					if i < len(types) {
						f.Type = types[i]
					}
					m.fields = append(m.fields, f)
				}
			}
			for _, k := range s.column("tagKey") {
				m.fields = append(m.fields, finding.Field{Name: k, Type: "tag"})
			}
		}
	}
	return nil
}

// addCounts counts points with `SELECT count(*)`, many statements a request.
func (c *client) addCounts(ctx context.Context, db string, ms []*measurement) error {
	for start := 0; start < len(ms) && ctx.Err() == nil; start += countBatch {
		batch := ms[start:min(start+countBatch, len(ms))]
		stmts := make([]string, len(batch))
		for i, m := range batch {
			stmts[i] = "SELECT count(*) FROM " + quoteIdent(m.name)
		}
		qr, err := c.query(ctx, db, strings.Join(stmts, "; "), c.env.Budget.MaxResponseBytes)
		if err != nil {
			return fmt.Errorf("count: %w", err)
		}
		for _, r := range qr.Results {
			if r.StatementID < 0 || r.StatementID >= len(batch) || r.Error != "" {
				continue
			}
			var n int64
			for _, s := range r.Series {
				if v, ok := s.maxCount(); ok {
					n += v
				}
			}
			batch[r.StatementID].records = &n
		}
	}
	return nil
}

// sample reads up to SampleRecords points of m as chunked JSON lines, at
// most SampleBytes of them.
// cut reports an answer cut at SampleBytes (points past it not read).
func (c *client) sample(ctx context.Context, m *measurement) (recs []classify.Record, cut bool, err error) {
	b := c.env.Budget
	v := url.Values{
		"q":          {fmt.Sprintf("SELECT * FROM %s LIMIT %d", quoteIdent(m.name), b.SampleRecords)},
		"db":         {m.db},
		"chunked":    {"true"},
		"chunk_size": {strconv.Itoa(max(1, min(b.SampleRecords, 100)))},
	}
	resp, err := c.h.Do(ctx, "GET", "/query?"+v.Encode(), nil, "", b.SampleBytes)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != 200 {
		return nil, false, fmt.Errorf("status %d: %s", resp.StatusCode, errorMessage(resp))
	}
	for _, qr := range decodeChunks(resp.Body, resp.Truncated) {
		for _, r := range qr.Results {
			if r.Error != "" {
				return recs, resp.Truncated, fmt.Errorf("%s", r.Error)
			}
			for _, s := range r.Series {
				recs = append(recs, s.records()...)
			}
		}
	}
	if len(recs) > b.SampleRecords {
		recs = recs[:b.SampleRecords]
	}
	return recs, resp.Truncated, nil
}
