package clickhouse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// systemDatabases are never listed.
const systemDatabases = `'system', 'INFORMATION_SCHEMA', 'information_schema'`

// maxColumns bounds the rows read from system.columns.
const maxColumns = 50000

// client runs queries over the HTTP interface with GET (read-only mode on
// the server) and per-query limits as URL settings.
type client struct {
	h   *probe.HTTP
	env *probe.Env
	// noSettings is set when the user's profile is readonly=1, where no
	// setting may be passed.
	noSettings bool
	// own counts the queries this probe sent that the server ran (and so
	// counted in system.events Query), for the access evidence.
	own int64
	// idPrefix starts the query_id of every query this probe sends, so
	// that system.query_log tells leakwatch's queries from others'.
	idPrefix string
}

// get runs q with settings and reads at most limit bytes of the answer.
func (c *client) get(ctx context.Context, q string, settings url.Values, limit int64) (*probe.HTTPResponse, error) {
	v := url.Values{}
	if !c.noSettings {
		for k, vs := range settings {
			v[k] = vs
		}
		v.Set("max_execution_time", strconv.Itoa(max(1, int(c.env.Budget.IOTimeout.Seconds()))))
	}
	v.Set("query", q)
	if c.idPrefix == "" {
		c.idPrefix = newIDPrefix()
	}
	v.Set("query_id", c.idPrefix+strconv.FormatInt(c.own, 10))
	resp, err := c.h.Do(ctx, "GET", "/?"+v.Encode(), nil, "", limit)
	if err != nil {
		// It may have reached the server and run: counted as own, so a
		// lost answer never becomes a foreign query.
		c.own++
		return nil, err
	}
	if code, ok := exceptionCode(resp.Body); ok && code == 164 && !c.noSettings {
		// Refused while applying the URL settings, before the query ran.
		c.noSettings = true // "Cannot modify setting in readonly mode"
		return c.get(ctx, q, nil, limit)
	}
	c.own++
	return resp, nil
}

// rows runs q (which must end in FORMAT JSONEachRow) and decodes each line.
// A line cut by the byte limit is dropped.
func (c *client) rows(ctx context.Context, q string, settings url.Values, limit int64) ([]map[string]any, error) {
	rows, _, err := c.rowsCut(ctx, q, settings, limit)
	return rows, err
}

// rowsCut is rows, and whether the answer was cut at limit.
func (c *client) rowsCut(ctx context.Context, q string, settings url.Values, limit int64) ([]map[string]any, bool, error) {
	resp, err := c.get(ctx, q, settings, limit)
	if err != nil {
		return nil, false, err
	}
	if resp.StatusCode != 200 {
		return nil, false, fmt.Errorf("status %d: %s", resp.StatusCode, firstLine(resp.Body))
	}
	return decodeLines(resp.Body, resp.Truncated), resp.Truncated, nil
}

// decodeLines decodes JSONEachRow output; undecodable lines are skipped.
func decodeLines(body []byte, truncated bool) []map[string]any {
	if truncated {
		if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
			body = body[:i]
		} else {
			return nil
		}
	}
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 0, 64<<10), len(body)+1)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var m map[string]any
		if d.Decode(&m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// str and num read JSONEachRow fields; 64-bit integers arrive quoted.
func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) (int64, bool) {
	switch v := m[k].(type) {
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	case string:
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// table is one listed table.
type table struct {
	db, name, engine string
	records, bytes   *int64
	fields           []finding.Field
}

func (t *table) fullName() string { return t.db + "." + t.name }

// sampledEngines store their rows locally and read them without side
// effects. Others (Kafka consumes messages, Distributed, MySQL, URL, S3,
// … reach other servers, Dictionary may load a remote source) are listed
// but never read.
func sampledEngine(e string) bool {
	switch e {
	case "Log", "TinyLog", "StripeLog", "Memory":
		return true
	}
	return strings.HasSuffix(e, "MergeTree")
}

// measure lists databases (the second signal), tables with their parts'
// rows and bytes, and samples the largest tables.
func (c *client) measure(ctx context.Context, res *probe.Result) {
	lim := c.env.Budget.MaxResponseBytes
	dbs, cut, err := c.rowsCut(ctx, "SELECT name FROM system.databases FORMAT JSONEachRow", nil, lim)
	if err != nil {
		res.AddErrorf("clickhouse: list databases: %v", err)
		return
	}
	res.Status = finding.StatusExposed
	res.AddEvidence("databases", len(dbs))
	if cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	tables, cut, err := c.listTables(ctx)
	if cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	if err != nil {
		res.AddErrorf("clickhouse: %v", err)
		return
	}
	if cut, err := c.addParts(ctx, tables); err != nil {
		res.AddErrorf("clickhouse: %v", err)
	} else if cut {
		// Parts past the response cap: some tables' rows and bytes unknown.
		res.AddEvidence("parts_truncated", true)
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	if cut, err := c.addColumns(ctx, tables); err != nil {
		res.AddErrorf("clickhouse: %v", err)
	} else if cut {
		// Columns past maxColumns or the response cap: fields incomplete.
		res.AddEvidence("columns_truncated", true)
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	sort.SliceStable(tables, func(i, j int) bool { return size(tables[i]) > size(tables[j]) })
	for _, t := range tables {
		res.Datasets = append(res.Datasets, probe.Dataset{Dataset: finding.Dataset{
			Name: t.fullName(), Kind: "table", Records: t.records, Bytes: t.bytes, Fields: t.fields,
		}})
	}
	if c.env.Budget.SampleRecords > 0 {
		// Largest by bytes first (the order of res.Datasets); tables of
		// other engines take no turn.
		_ = probe.SampleInOrder(ctx, res, c.env.Budget, res.Datasets, nil, func(ctx context.Context, i int, ds *probe.Dataset) error {
			t := tables[i]
			if !sampledEngine(t.engine) {
				return probe.ErrNotSampled
			}
			recs, cut, err := c.sample(ctx, t)
			if cut {
				ds.AddFlag(probe.FlagSampleTruncated)
			}
			ds.Sample, ds.Sampled = recs, len(recs)
			if err != nil {
				return fmt.Errorf("clickhouse: sample %s: %v", t.fullName(), err)
			}
			return nil
		})
	}
	c.readAccess(ctx, res)
}

func size(t *table) int64 {
	if t.bytes == nil {
		return -1
	}
	return *t.bytes
}

// listTables reads system.tables outside the system databases; cut says
// the catalog had more than the listing budget or the response cap allows.
func (c *client) listTables(ctx context.Context) (tables []*table, cut bool, err error) {
	max := c.env.Budget.MaxListed
	q := fmt.Sprintf(`SELECT database, name, engine FROM system.tables
WHERE database NOT IN (%s) AND NOT is_temporary ORDER BY database, name LIMIT %d FORMAT JSONEachRow`,
		systemDatabases, max+1)
	rows, cut, err := c.rowsCut(ctx, q, nil, c.env.Budget.MaxResponseBytes)
	if err != nil {
		return nil, false, fmt.Errorf("list tables: %w", err)
	}
	if len(rows) > max {
		rows, cut = rows[:max], true
	}
	out := make([]*table, 0, len(rows))
	for _, r := range rows {
		out = append(out, &table{db: str(r, "database"), name: str(r, "name"), engine: str(r, "engine")})
	}
	return out, cut, nil
}

// addParts sets rows and bytes of MergeTree tables from their active
// parts; cut says the answer was cut at the response cap.
func (c *client) addParts(ctx context.Context, tables []*table) (cut bool, err error) {
	byName := map[string]*table{}
	for _, t := range tables {
		byName[t.fullName()] = t
	}
	q := fmt.Sprintf(`SELECT database, table, sum(rows) AS rows, sum(bytes_on_disk) AS bytes
FROM system.parts WHERE active AND database NOT IN (%s) GROUP BY database, table FORMAT JSONEachRow`, systemDatabases)
	rows, cut, err := c.rowsCut(ctx, q, nil, c.env.Budget.MaxResponseBytes)
	if err != nil {
		return false, fmt.Errorf("read parts: %w", err)
	}
	for _, r := range rows {
		t := byName[str(r, "database")+"."+str(r, "table")]
		if t == nil {
			continue
		}
		if n, ok := num(r, "rows"); ok {
			t.records = &n
		}
		if n, ok := num(r, "bytes"); ok {
			t.bytes = &n
		}
	}
	// A MergeTree table without active parts is empty (unless its parts
	// were past the cut: then unknown).
	for _, t := range tables {
		if t.records == nil && strings.HasSuffix(t.engine, "MergeTree") && !cut {
			var zero, zb int64
			t.records, t.bytes = &zero, &zb
		}
	}
	return cut, nil
}

// addColumns attaches system.columns to the listed tables; cut says more
// than maxColumns exist or the answer was cut at the response cap.
func (c *client) addColumns(ctx context.Context, tables []*table) (cut bool, err error) {
	byName := map[string]*table{}
	for _, t := range tables {
		byName[t.fullName()] = t
	}
	q := fmt.Sprintf(`SELECT database, table, name, type FROM system.columns
WHERE database NOT IN (%s) LIMIT %d FORMAT JSONEachRow`, systemDatabases, maxColumns+1)
	rows, cut, err := c.rowsCut(ctx, q, nil, c.env.Budget.MaxResponseBytes)
	if err != nil {
		return false, fmt.Errorf("list columns: %w", err)
	}
	if len(rows) > maxColumns {
		rows, cut = rows[:maxColumns], true
	}
	for _, r := range rows {
		if t := byName[str(r, "database")+"."+str(r, "table")]; t != nil {
			t.fields = append(t.fields, finding.Field{Name: str(r, "name"), Type: str(r, "type")})
		}
	}
	return cut, nil
}

// quoteIdent quotes a ClickHouse identifier with backticks.
func quoteIdent(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "`" + strings.ReplaceAll(s, "`", "\\`") + "`"
}

// sample reads up to SampleRecords rows of t, capped at SampleBytes both on
// the server (max_result_bytes, overflow mode break) and on the wire.
func (c *client) sample(ctx context.Context, t *table) ([]classify.Record, bool, error) {
	b := c.env.Budget
	q := fmt.Sprintf("SELECT * FROM %s.%s LIMIT %d FORMAT JSONEachRow", quoteIdent(t.db), quoteIdent(t.name), b.SampleRecords)
	settings := url.Values{
		"max_result_bytes":     {strconv.FormatInt(b.SampleBytes, 10)},
		"result_overflow_mode": {"break"},
	}
	rows, cut, err := c.rowsCut(ctx, q, settings, b.SampleBytes)
	if err != nil {
		return nil, false, err
	}
	if !cut && len(rows) < b.SampleRecords {
		// result_overflow_mode=break ends the answer cleanly at a block
		// boundary once max_result_bytes (counted in memory, not on the
		// wire) is reached: no exception, no header, and 18.x's
		// rows_before_limit_at_least counts only the rows sent. Fewer rows
		// than asked means a cut when the table holds more.
		cut = c.hasMoreRows(ctx, t, len(rows))
	}
	recs := make([]classify.Record, 0, len(rows))
	for _, r := range rows {
		recs = append(recs, classify.FromJSON(map[string]any(r)))
	}
	return recs, cut, nil
}

// hasMoreRows tells whether t holds more than n rows: from the active
// parts' count when known, else by counting at most n+1 rows of it (a
// bounded read-only scan of its smallest column; the answer is one number).
func (c *client) hasMoreRows(ctx context.Context, t *table, n int) bool {
	if t.records != nil {
		return *t.records > int64(n)
	}
	q := fmt.Sprintf("SELECT count() AS n FROM (SELECT 1 FROM %s.%s LIMIT %d) FORMAT JSONEachRow",
		quoteIdent(t.db), quoteIdent(t.name), n+1)
	rows, err := c.rows(ctx, q, nil, 4096)
	if err != nil || len(rows) != 1 {
		return false
	}
	m, ok := num(rows[0], "n")
	return ok && m > int64(n)
}
