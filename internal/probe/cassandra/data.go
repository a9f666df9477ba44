package cassandra

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// metaPageSize is the page size of schema and estimate reads.
const metaPageSize = 1000

// maxMetaPages bounds the pages read for one metadata listing.
const maxMetaPages = 50

// samplePageSize is the largest page asked for while sampling.
const samplePageSize = 100

// table is one user table and what metadata told about it.
type table struct {
	Keyspace, Name string
	Fields         []finding.Field
	Records        *int64
	Bytes          *int64
}

func (t *table) fullName() string { return t.Keyspace + "." + t.Name }

// measure lists user tables with columns and estimates, then samples the
// largest. Errors after identification go into res.Error.
func measure(ctx context.Context, env *probe.Env, c *conn, res *probe.Result) {
	tables, truncated, err := listTables(c, env.Budget.MaxListed)
	if err != nil {
		res.AddErrorf("cassandra: list tables: %v", err)
		return
	}
	if truncated {
		res.AddFlag("datasets-truncated")
	}
	keyspaces := map[string][]*table{}
	var names []string
	for _, t := range tables {
		if _, ok := keyspaces[t.Keyspace]; !ok {
			names = append(names, t.Keyspace)
		}
		keyspaces[t.Keyspace] = append(keyspaces[t.Keyspace], t)
	}
	res.AddEvidence("keyspaces", sortStrings(names))
	res.AddEvidence("tables", len(tables))
	var errs []string
	estimated := false
	for _, ks := range names {
		if ctx.Err() != nil {
			break
		}
		if err := readColumns(c, ks, keyspaces[ks]); err != nil {
			errs = append(errs, fmt.Sprintf("columns of %s: %v", ks, err))
		}
		ok, err := readEstimates(c, ks, keyspaces[ks])
		if err != nil {
			errs = append(errs, fmt.Sprintf("size estimates of %s: %v", ks, err))
		}
		estimated = estimated || ok
	}
	if estimated {
		res.AddEvidence("records_source", "system.size_estimates partitions_count: an estimate of partitions (not rows) in this node's primary ranges; exact row counts for the tables in records_exact, which the sample read whole")
	} else if len(tables) > 0 {
		res.AddEvidence("records_source", "none: system.size_estimates had no rows (Cassandra has no cheap exact count)")
	}
	res.Datasets = make([]probe.Dataset, len(tables))
	for i, t := range tables {
		res.Datasets[i] = probe.Dataset{Dataset: finding.Dataset{
			Name: t.fullName(), Kind: "table", Records: t.Records, Bytes: t.Bytes, Fields: t.Fields,
		}}
	}
	for _, e := range errs {
		res.AddErrorf("cassandra: %s", e)
	}
	var counted []string
	err = probe.SampleLargest(ctx, res, env.Budget, res.Datasets, func(_ context.Context, i int, ds *probe.Dataset) error {
		t := tables[i]
		sample, whole, err := sampleTable(c, t, env.Budget.SampleRecords, env.Budget.SampleBytes)
		ds.Sample, ds.Sampled = sample, len(sample)
		switch {
		case err == nil && whole:
			// The bounded read saw the whole table: an exact row count,
			// better than the estimate (which is ≥128 for any small sstable).
			ds.Records = finding.Int64(int64(len(sample)))
			counted = append(counted, t.fullName())
		case err != nil && isConnError(err):
			return probe.StopSampling(fmt.Errorf("cassandra: sample %s: %w", t.fullName(), err))
		case err != nil:
			return fmt.Errorf("cassandra: sample %s: %w", t.fullName(), err)
		}
		return nil
	})
	if err != nil {
		res.AddErrorf("cassandra: sampling stopped: %v", err)
	}
	if len(counted) > 0 {
		res.AddEvidence("records_exact", sortStrings(counted))
	}
}

// isConnError tells whether the connection is unusable after err (as
// opposed to a server ERROR answer for one statement).
func isConnError(err error) bool {
	var ce *cqlError
	return !errors.As(err, &ce)
}

// listTables pages through system_schema.tables (system.schema_columnfamilies
// on Cassandra 2.x), skipping system keyspaces, up to max tables.
func listTables(c *conn, max int) ([]*table, bool, error) {
	stmt := "SELECT keyspace_name, table_name FROM system_schema.tables"
	nameCol := "table_name"
	var out []*table
	var paging []byte
	for page := 0; page < maxMetaPages; page++ {
		r, err := c.query(stmt, metaPageSize, paging)
		var ce *cqlError
		if page == 0 && errors.As(err, &ce) && ce.Code == 0x2200 {
			// Cassandra 2.x: no system_schema keyspace.
			stmt = "SELECT keyspace_name, columnfamily_name FROM system.schema_columnfamilies"
			nameCol = "columnfamily_name"
			r, err = c.query(stmt, metaPageSize, nil)
		}
		if err != nil {
			return out, false, err
		}
		for _, row := range r.Rows {
			ks := r.text(row, "keyspace_name")
			if ks == "" || systemKeyspace(ks) {
				continue
			}
			if len(out) >= max {
				return out, true, nil
			}
			out = append(out, &table{Keyspace: ks, Name: r.text(row, nameCol)})
		}
		if r.PagingState == nil {
			return out, false, nil
		}
		paging = r.PagingState
	}
	return out, true, nil
}

// colKindRank orders key columns first, as CQL's DESCRIBE does.
var colKindRank = map[string]int{"partition_key": 0, "clustering": 1, "static": 2, "regular": 3}

// readColumns fills the Fields of ks's tables from system_schema.columns.
func readColumns(c *conn, ks string, tables []*table) error {
	type col struct {
		field     finding.Field
		kind, pos int
	}
	cols := map[string][]col{}
	var paging []byte
	for page := 0; page < maxMetaPages; page++ {
		r, err := c.query("SELECT table_name, column_name, type, kind, position FROM system_schema.columns WHERE keyspace_name = ?",
			metaPageSize, paging, ks)
		if err != nil {
			return err
		}
		for _, row := range r.Rows {
			pos, _ := r.int64(row, "position")
			rank, ok := colKindRank[r.text(row, "kind")]
			if !ok {
				rank = 3
			}
			t := r.text(row, "table_name")
			cols[t] = append(cols[t], col{
				field: finding.Field{Name: r.text(row, "column_name"), Type: r.text(row, "type")},
				kind:  rank, pos: int(pos),
			})
		}
		if r.PagingState == nil {
			break
		}
		paging = r.PagingState
	}
	for _, t := range tables {
		cs := cols[t.Name]
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].kind != cs[j].kind {
				return cs[i].kind < cs[j].kind
			}
			if cs[i].pos != cs[j].pos {
				return cs[i].pos < cs[j].pos
			}
			return cs[i].field.Name < cs[j].field.Name
		})
		for _, c := range cs {
			t.Fields = append(t.Fields, c.field)
		}
	}
	return nil
}

// readEstimates sums system.size_estimates over the node's token ranges:
// partitions_count as Records, partitions_count × mean_partition_size as
// Bytes. It reports whether any table got an estimate. The server records
// them every 5 minutes from flushed sstables; a table that has no
// estimate, or an estimate of 0, keeps nil Records.
func readEstimates(c *conn, ks string, tables []*table) (bool, error) {
	type est struct{ parts, bytes int64 }
	sums := map[string]*est{}
	var paging []byte
	for page := 0; page < maxMetaPages; page++ {
		r, err := c.query("SELECT table_name, partitions_count, mean_partition_size FROM system.size_estimates WHERE keyspace_name = ?",
			metaPageSize, paging, ks)
		if err != nil {
			return false, err
		}
		for _, row := range r.Rows {
			t := r.text(row, "table_name")
			n, ok1 := r.int64(row, "partitions_count")
			m, ok2 := r.int64(row, "mean_partition_size")
			if !ok1 || n < 0 {
				continue
			}
			e := sums[t]
			if e == nil {
				e = &est{}
				sums[t] = e
			}
			e.parts += n
			if ok2 && m > 0 {
				e.bytes += n * m
			}
		}
		if r.PagingState == nil {
			break
		}
		paging = r.PagingState
	}
	any := false
	for _, t := range tables {
		// Estimates count flushed sstables only: 0 may hide a table whose
		// rows are all still in memtables, so it is no estimate at all.
		if e := sums[t.Name]; e != nil && e.parts > 0 {
			parts, bytes := e.parts, e.bytes
			t.Records, t.Bytes = &parts, &bytes
			any = true
		}
	}
	return any, nil
}

// quoteIdent quotes a CQL identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// sampleTable reads up to maxRecords rows and about maxBytes of text from
// t with SELECT * ... LIMIT, in pages. whole tells that the read reached
// the end of the table, so the sample holds every row.
func sampleTable(c *conn, t *table, maxRecords int, maxBytes int64) (sample []classify.Record, whole bool, err error) {
	if maxRecords <= 0 {
		return nil, false, nil
	}
	// LIMIT one more row than wanted tells a table of exactly maxRecords
	// rows (read whole) from a larger one.
	stmt := fmt.Sprintf("SELECT * FROM %s.%s LIMIT %d", quoteIdent(t.Keyspace), quoteIdent(t.Name), maxRecords+1)
	pageSize := min(maxRecords+1, samplePageSize)
	var size int64
	var paging []byte
	var cols []column
	for {
		r, err := c.query(stmt, pageSize, paging)
		if err != nil {
			return sample, false, err
		}
		if r.Columns != nil {
			cols = r.Columns
		}
		for _, row := range r.Rows {
			if len(sample) >= maxRecords || size >= maxBytes {
				return sample, false, nil
			}
			rec := rowRecord(cols, row)
			sample = append(sample, rec)
			size += int64(rec.Size())
		}
		if r.PagingState == nil || len(r.Rows) == 0 {
			return sample, true, nil
		}
		if len(sample) >= maxRecords || size >= maxBytes {
			return sample, false, nil
		}
		paging = r.PagingState
	}
}

// rowRecord makes a classifier record of one row.
func rowRecord(cols []column, row [][]byte) classify.Record {
	doc := make(map[string]any, len(cols))
	for i, c := range cols {
		if i < len(row) {
			if v := decodeValue(c.Type, row[i], 0); v != nil {
				doc[c.Name] = v
			}
		}
	}
	return classify.FromJSON(doc)
}
