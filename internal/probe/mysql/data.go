package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// systemSchemas are the server's own schemas, never listed.
const systemSchemas = `'mysql', 'information_schema', 'performance_schema', 'sys'`

// maxColumns bounds the column rows read from information_schema.
const maxColumns = 50000

// maxSampleColumns bounds the columns read in a sample.
const maxSampleColumns = 256

// remoteEngines read their rows from other servers: never sampled.
var remoteEngines = map[string]bool{"FEDERATED": true, "CONNECT": true, "SPIDER": true}

// table is one listed table.
type table struct {
	schema, name, engine string
	records              *int64
	bytes                int64
	fields               []finding.Field
	// sampleCut: rows past the sample byte budget were left unread.
	sampleCut bool
}

func (t *table) fullName() string { return t.schema + "." + t.name }

// timed bounds a SELECT's run time on the server without changing any
// setting: MariaDB's per-statement SET STATEMENT … FOR, MySQL's optimizer
// hint (a comment to servers that do not know it).
func (s *session) timed(q string) string {
	ms := s.env.Budget.IOTimeout.Milliseconds()
	if s.product == "mariadb" {
		return fmt.Sprintf("SET STATEMENT max_statement_time=%.3f FOR %s", float64(ms)/1000, q)
	}
	if rest, ok := strings.CutPrefix(q, "SELECT "); ok {
		return fmt.Sprintf("SELECT /*+ MAX_EXECUTION_TIME(%d) */ %s", ms, rest)
	}
	return q
}

// measure reads server facts (the second signal after the login), lists
// tables with their row estimates and sizes, and samples the largest.
func (s *session) measure(ctx context.Context, res *probe.Result) {
	var version, comment, user sql.NullString
	err := s.db.QueryRowContext(ctx, s.timed("SELECT @@version, @@version_comment, CURRENT_USER()")).
		Scan(&version, &comment, &user)
	if err != nil {
		res.AddErrorf("mysql: read server facts: %v", err)
		return
	}
	res.Status = finding.StatusExposed
	res.AddEvidence("version_comment", comment.String)
	res.AddEvidence("current_user", user.String)
	if strings.Contains(strings.ToLower(comment.String), "percona") {
		res.Product = "percona-server"
	}
	tables, err := s.listTables(ctx, s.env.Budget.MaxListed+1)
	if len(tables) > s.env.Budget.MaxListed {
		tables = tables[:s.env.Budget.MaxListed]
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	if err != nil {
		res.AddError(err)
		return
	}
	if err := s.listColumns(ctx, tables); err != nil {
		res.AddErrorf("mysql: %v", err)
	}
	first := len(res.Datasets)
	for _, t := range tables {
		ds := probe.Dataset{Dataset: finding.Dataset{
			Name: t.fullName(), Kind: "table", Records: t.records, Fields: t.fields,
		}}
		b := t.bytes
		ds.Bytes = &b
		res.Datasets = append(res.Datasets, ds)
	}
	if s.env.Budget.SampleRecords <= 0 {
		return
	}
	// Largest by bytes first (as listed); a table of a remote engine takes
	// its turn unread.
	_ = probe.SampleInOrder(ctx, res, s.env.Budget, res.Datasets[first:], nil, func(ctx context.Context, i int, ds *probe.Dataset) error {
		t := tables[i]
		if remoteEngines[strings.ToUpper(t.engine)] {
			return nil
		}
		recs, err := s.sample(ctx, t)
		ds.Sample, ds.Sampled = recs, len(recs)
		if t.sampleCut {
			ds.AddFlag(probe.FlagSampleTruncated)
		}
		if err != nil {
			return fmt.Errorf("mysql: sample %s: %v", t.fullName(), err)
		}
		return nil
	})
}

// listTables reads base tables, largest first. TABLE_ROWS is the storage
// engine's count (exact for MyISAM/Aria, an estimate for InnoDB).
func (s *session) listTables(ctx context.Context, limit int) ([]*table, error) {
	q := `SELECT TABLE_SCHEMA, TABLE_NAME, COALESCE(ENGINE, ''), TABLE_ROWS,
  COALESCE(DATA_LENGTH, 0) + COALESCE(INDEX_LENGTH, 0)
FROM information_schema.TABLES
WHERE TABLE_SCHEMA NOT IN (` + systemSchemas + `) AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')
ORDER BY 5 DESC, 1, 2
LIMIT ` + fmt.Sprint(limit)
	rows, err := s.db.QueryContext(ctx, s.timed(q))
	if err != nil {
		return nil, fmt.Errorf("mysql: list tables: %w", err)
	}
	defer rows.Close()
	var out []*table
	for rows.Next() {
		t := &table{}
		var n sql.NullInt64
		if err := rows.Scan(&t.schema, &t.name, &t.engine, &n, &t.bytes); err != nil {
			return nil, fmt.Errorf("mysql: list tables: %w", err)
		}
		if n.Valid {
			v := n.Int64
			t.records = &v
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("mysql: list tables: %w", err)
	}
	return out, nil
}

// listColumns attaches information_schema.COLUMNS to the listed tables.
func (s *session) listColumns(ctx context.Context, tables []*table) error {
	if len(tables) == 0 {
		return nil
	}
	byName := make(map[[2]string]*table, len(tables))
	for _, t := range tables {
		byName[[2]string{t.schema, t.name}] = t
	}
	q := `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA NOT IN (` + systemSchemas + `)
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION
LIMIT ` + fmt.Sprint(maxColumns)
	rows, err := s.db.QueryContext(ctx, s.timed(q))
	if err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var schema, name string
		var f finding.Field
		if err := rows.Scan(&schema, &name, &f.Name, &f.Type); err != nil {
			return fmt.Errorf("list columns: %w", err)
		}
		if t := byName[[2]string{schema, name}]; t != nil {
			t.fields = append(t.fields, f)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	return nil
}

// quoteIdent quotes a MySQL identifier with backticks.
func quoteIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

// sampleSQL selects up to limit rows of t with each column cut to cell
// characters on the server, so a row's size is bounded before it is sent.
func sampleSQL(t *table, cols []finding.Field, cell, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		id := quoteIdent(c.Name)
		fmt.Fprintf(&b, "LEFT(%s, %d) AS %s", id, cell, id)
	}
	fmt.Fprintf(&b, " FROM %s.%s LIMIT %d", quoteIdent(t.schema), quoteIdent(t.name), limit)
	return b.String()
}

// cellLimit spreads the per-dataset byte budget over the cells of a sample.
func cellLimit(b probe.Budget, cols int) int {
	per := b.SampleBytes / int64(max(1, b.SampleRecords)*max(1, cols))
	return int(min(max(per, 64), 4096))
}

// sample reads a bounded sample of t in a READ ONLY transaction, which is
// rolled back.
func (s *session) sample(ctx context.Context, t *table) ([]classify.Record, error) {
	cols := t.fields
	if len(cols) == 0 {
		return nil, nil
	}
	if len(cols) > maxSampleColumns {
		cols = cols[:maxSampleColumns]
	}
	b := s.env.Budget
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("start read only transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, s.timed(sampleSQL(t, cols, cellLimit(b, len(cols)), b.SampleRecords)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.RawBytes, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var recs []classify.Record
	var size int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return recs, err
		}
		rec := rowRecord(names, vals)
		if size+int64(rec.Size()) > b.SampleBytes && len(recs) > 0 {
			t.sampleCut = true
			break
		}
		size += int64(rec.Size())
		recs = append(recs, rec)
	}
	return recs, rows.Err()
}

// rowRecord makes a record of one row; NULLs are left out.
func rowRecord(names []string, vals []sql.RawBytes) classify.Record {
	var rec classify.Record
	for i, v := range vals {
		if v == nil {
			continue
		}
		rec.Values = append(rec.Values, classify.Value{Path: names[i], Text: string(v)})
	}
	return rec
}
