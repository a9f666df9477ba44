package postgres

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// maxDatabases bounds how many databases are opened to list their tables.
const maxDatabases = 32

// maxSampleColumns bounds the columns read in a sample.
const maxSampleColumns = 256

// session is how to log in to one server: the credentials that worked.
type session struct {
	env      *probe.Env
	user     string
	password string
	database string // the database first logged in to
	tls      bool
	// own counts this probe's statements and sessions (access.go).
	// Copies of a session share it.
	own *ownCount
}

// connect opens a pgx connection to database through env's bounded dialer.
// The session is read-only from its first byte: default_transaction_read_only,
// and statement and lock timeouts are startup parameters, so nothing is SET
// and a sample never waits in a lock queue ahead of the application.
func (s *session) connect(ctx context.Context, database string) (*pgx.Conn, error) {
	// Placeholders: every field that reaches the network is overwritten
	// below. A non-empty password keeps pgx from reading a local .pgpass.
	cfg, err := pgx.ParseConfig("host=leakwatch.invalid port=5432 user=x password=x dbname=x sslmode=disable")
	if err != nil {
		return nil, fmt.Errorf("postgres: config: %w", err)
	}
	env := s.env
	cfg.Host = env.Target.Addr.String()
	cfg.Port = uint16(env.Target.Port)
	cfg.User, cfg.Password, cfg.Database = s.user, s.password, database
	cfg.TLSConfig = nil
	if s.tls {
		cfg.TLSConfig = env.TLSConfig()
	}
	cfg.Fallbacks = nil
	cfg.ValidateConnect = nil
	cfg.AfterConnect = nil
	cfg.ConnectTimeout = env.Budget.IOTimeout
	cfg.DialFunc = func(ctx context.Context, _, _ string) (net.Conn, error) { return env.Dial(ctx) }
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	ms := strconv.FormatInt(env.Budget.IOTimeout.Milliseconds(), 10)
	cfg.RuntimeParams = map[string]string{
		"application_name":                    "leakwatch",
		"default_transaction_read_only":       "on",
		"statement_timeout":                   ms,
		"lock_timeout":                        "1000",
		"idle_in_transaction_session_timeout": ms,
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.StatementCacheCapacity = 0
	cfg.DescriptionCacheCapacity = 0
	if s.own == nil {
		s.own = &ownCount{}
	}
	cfg.Tracer = s.own
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		s.own.connected(conn)
	}
	return conn, err
}

// table is one listed table.
type table struct {
	db, schema, name string
	oid              uint32
	records          *int64
	bytes            int64
	fields           []finding.Field
	// sampleCut: rows past the sample byte budget were left unread.
	sampleCut bool
}

func (t *table) fullName() string { return t.db + "." + t.schema + "." + t.name }

// measure reads server facts, lists databases and tables, and samples the
// largest tables. Reaching the database list is the second signal (after
// the login) that makes the server exposed.
func measure(ctx context.Context, env *probe.Env, res *probe.Result, s *session) {
	dbs, err := overview(ctx, res, s)
	if err != nil {
		// Logged in, but nothing could be read: not enough to call it exposed.
		res.Status = finding.StatusUnknown
		res.AddError(err)
		return
	}
	res.Status = finding.StatusExposed
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if len(dbs) > maxDatabases {
		// More databases accept connections than are opened: the ones
		// past the cap (by name) are neither listed nor sampled.
		dbs = dbs[:maxDatabases]
		res.AddFlag(probe.FlagDatasetsTruncated)
		res.AddEvidence("databases_truncated", true)
	}
	res.AddEvidence("databases", dbs)

	tables, errs := listAll(ctx, env, s, dbs)
	for _, e := range errs {
		res.AddErrorf("%s", e)
	}
	sort.SliceStable(tables, func(i, j int) bool { return tables[i].bytes > tables[j].bytes })
	if len(tables) > env.Budget.MaxListed {
		tables = tables[:env.Budget.MaxListed]
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	for _, t := range tables {
		ds := probe.Dataset{Dataset: finding.Dataset{
			Name: t.fullName(), Kind: "table", Records: t.records, Fields: t.fields,
		}}
		b := t.bytes
		ds.Bytes = &b
		res.Datasets = append(res.Datasets, ds)
	}
	sampleLargest(ctx, env, res, s, tables)
}

// overview connects to the login database, notes version and privileges,
// and lists the databases that accept connections (up to maxDatabases and
// one more, so that the caller can tell the list was cut).
func overview(ctx context.Context, res *probe.Result, s *session) ([]string, error) {
	conn, err := s.connect(ctx, s.database)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(ctx)
	pc := conn.PgConn()
	if v := pc.ParameterStatus("server_version"); v != "" {
		setVersion(res, v)
	}
	if pc.ParameterStatus("is_superuser") == "on" {
		res.AddEvidence("superuser", true)
		res.AddFlag("superuser")
	}
	rows, err := conn.Query(ctx,
		`SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname LIMIT $1`,
		maxDatabases+1)
	if err != nil {
		return nil, fmt.Errorf("postgres: list databases: %w", err)
	}
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: list databases: %w", err)
	}
	return dbs, nil
}

// listAll lists the tables of every database, up to the listing budget
// and one more (so that the caller can tell the listing was cut).
func listAll(ctx context.Context, env *probe.Env, s *session, dbs []string) ([]*table, []string) {
	var out []*table
	var errs []string
	for _, db := range dbs {
		left := env.Budget.MaxListed + 1 - len(out)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		ts, err := listDatabase(ctx, s, db, left)
		if err != nil {
			errs = append(errs, fmt.Sprintf("database %s: %v", db, err))
			continue
		}
		out = append(out, ts...)
	}
	return out, errs
}

// tablesSQL lists user tables, partitioned tables and materialized views
// (never views or foreign tables: reading those runs code or reaches other
// servers), largest first. reltuples is -1 when never analyzed (PostgreSQL
// 14+): then the count is unknown.
const tablesSQL = `SELECT c.oid, n.nspname, c.relname,
  CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END,
  pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
ORDER BY 5 DESC, 2, 3
LIMIT $1`

// columnsSQL lists the readable columns of the given tables.
const columnsSQL = `SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute a
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
  AND has_column_privilege(a.attrelid, a.attnum, 'SELECT')
ORDER BY a.attrelid, a.attnum`

// listDatabase lists up to limit tables of one database with their columns.
func listDatabase(ctx context.Context, s *session, db string, limit int) ([]*table, error) {
	conn, err := s.connect(ctx, db)
	if err != nil {
		return nil, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, tablesSQL, limit)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var out []*table
	byOID := map[uint32]*table{}
	var oids []uint32
	for rows.Next() {
		t := &table{db: db}
		if err := rows.Scan(&t.oid, &t.schema, &t.name, &t.records, &t.bytes); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list tables: %w", err)
		}
		out = append(out, t)
		byOID[t.oid] = t
		oids = append(oids, t.oid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	if len(oids) == 0 {
		return out, nil
	}
	if err := listColumns(ctx, conn, oids, byOID); err != nil {
		return out, err
	}
	return out, nil
}

func listColumns(ctx context.Context, conn *pgx.Conn, oids []uint32, byOID map[uint32]*table) error {
	rows, err := conn.Query(ctx, columnsSQL, oids)
	if err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var oid uint32
		var f finding.Field
		if err := rows.Scan(&oid, &f.Name, &f.Type); err != nil {
			return fmt.Errorf("list columns: %w", err)
		}
		if t := byOID[oid]; t != nil {
			t.fields = append(t.fields, f)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list columns: %w", err)
	}
	return nil
}

// sampleLargest samples the first MaxDatasets tables (already sorted largest
// first, res.Datasets[i] is tables[i]), one connection per database: the
// tables are taken database by database, in the order each database first
// appears.
func sampleLargest(ctx context.Context, env *probe.Env, res *probe.Result, s *session, tables []*table) {
	n := min(env.Budget.MaxDatasets, len(tables))
	if env.Budget.SampleRecords <= 0 {
		return
	}
	byDB := map[string][]int{}
	var dbs []string
	for i := 0; i < n; i++ {
		db := tables[i].db
		if _, ok := byDB[db]; !ok {
			dbs = append(dbs, db)
		}
		byDB[db] = append(byDB[db], i)
	}
	var order []int
	for _, db := range dbs {
		order = append(order, byDB[db]...)
	}
	var conn *pgx.Conn
	var connDB string
	var connErr error
	defer func() {
		if conn != nil {
			conn.Close(ctx)
		}
	}()
	_ = probe.SampleInOrder(ctx, res, env.Budget, res.Datasets, order, func(ctx context.Context, i int, ds *probe.Dataset) error {
		t := tables[i]
		if t.db != connDB {
			if conn != nil {
				conn.Close(ctx)
			}
			connDB = t.db
			conn, connErr = s.connect(ctx, t.db)
			if connErr != nil {
				conn = nil
				return fmt.Errorf("sample database %s: %v", t.db, connErr)
			}
		}
		if conn == nil {
			return probe.ErrNotSampled // this database's connection failed: said once
		}
		recs, err := sampleTable(ctx, conn, env.Budget, t)
		ds.Sample, ds.Sampled = recs, len(recs)
		if t.sampleCut {
			ds.AddFlag(probe.FlagSampleTruncated)
		}
		if err != nil {
			return fmt.Errorf("sample %s: %v", t.fullName(), err)
		}
		return nil
	})
}

// sampleSQL selects up to limit rows of t, each column cast to text and cut
// to cell characters on the server, so a row's size is bounded before it
// is sent.
func sampleSQL(t *table, cols []finding.Field, cell, limit int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		id := pgx.Identifier{c.Name}.Sanitize()
		fmt.Fprintf(&b, "left(CAST(%s AS text), %d) AS %s", id, cell, id)
	}
	fmt.Fprintf(&b, " FROM %s LIMIT %d", pgx.Identifier{t.schema, t.name}.Sanitize(), limit)
	return b.String()
}

// cellLimit spreads the per-dataset byte budget over the cells of a sample.
func cellLimit(b probe.Budget, cols int) int {
	per := b.SampleBytes / int64(max(1, b.SampleRecords)*max(1, cols))
	return int(min(max(per, 64), 4096))
}

// sampleTable reads a bounded sample of t in a READ ONLY transaction.
func sampleTable(ctx context.Context, conn *pgx.Conn, b probe.Budget, t *table) ([]classify.Record, error) {
	cols := t.fields
	if len(cols) == 0 {
		return nil, nil
	}
	if len(cols) > maxSampleColumns {
		// Columns past the cap are not read: the sample is partial.
		cols = cols[:maxSampleColumns]
		t.sampleCut = true
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("begin read only: %w", err)
	}
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	rows, err := tx.Query(ctx, sampleSQL(t, cols, cellLimit(b, len(cols)), b.SampleRecords))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	names := make([]string, 0, len(cols))
	for _, fd := range rows.FieldDescriptions() {
		names = append(names, fd.Name)
	}
	var recs []classify.Record
	var size int64
	cell := cellLimit(b, len(cols))
	for rows.Next() {
		raw := rows.RawValues()
		if valueCut(raw, cell) {
			// left() cut a value at the cell limit: its rest was not read.
			t.sampleCut = true
		}
		rec := rowRecord(names, raw)
		if size+int64(rec.Size()) > b.SampleBytes && len(recs) > 0 {
			t.sampleCut = true
			break
		}
		size += int64(rec.Size())
		recs = append(recs, rec)
	}
	return recs, rows.Err()
}

// valueCut tells whether a value of the row is cell characters long: the
// server's left(…, cell) cut it (or it is exactly that long, which a
// flag then overstates).
func valueCut(raw [][]byte, cell int) bool {
	for _, v := range raw {
		if len(v) >= cell && utf8.RuneCount(v) >= cell {
			return true
		}
	}
	return false
}

// rowRecord makes a record of a text-format row; NULLs are left out.
func rowRecord(names []string, raw [][]byte) classify.Record {
	var rec classify.Record
	for i, v := range raw {
		if v == nil || i >= len(names) {
			continue
		}
		rec.Values = append(rec.Values, classify.Value{Path: names[i], Text: string(v)})
	}
	return rec
}
