package sqldump

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type result struct {
	tables  []Table
	rows    []Row
	skipped []int
}

func parse(t testing.TB, text string, opt Options) result {
	t.Helper()
	var res result
	err := Parse(strings.NewReader(text), opt, Handler{
		Table:   func(tb Table) error { res.tables = append(res.tables, tb); return nil },
		Row:     func(r Row) error { res.rows = append(res.rows, r); return nil },
		Skipped: func(line int) { res.skipped = append(res.skipped, line) },
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return res
}

func (r Row) String() string {
	return fmt.Sprintf("%d %s %q %q", r.Line, r.Table, r.Columns, r.Values)
}

func rowStrings(rows []Row) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.String())
	}
	return out
}

// TestParse: pg_dump COPY blocks, mysqldump extended INSERTs with columns
// from CREATE TABLE, INSERT with a column list, quotes, escapes, NULL,
// function calls, comments and psql meta-commands, with line numbers.
func TestParse(t *testing.T) {
	dump := `--
-- PostgreSQL database dump
--
\restrict AbC123
SET client_encoding = 'UTF8';
CREATE TABLE public.users (
    id integer NOT NULL,
    email text,
    CONSTRAINT pk PRIMARY KEY (id)
);
COPY public.users (id, email) FROM stdin;
1	jane\tdoe@example.com
2	\N
\.
/*!40101 SET NAMES utf8mb4 */;
CREATE TABLE IF NOT EXISTS ` + "`devices`" + ` (
  ` + "`id`" + ` int NOT NULL,
  ` + "`note`" + ` varchar(40),
  PRIMARY KEY (` + "`id`" + `)
) ENGINE=InnoDB;
INSERT INTO ` + "`devices`" + ` VALUES (1,'it''s the \'hall\' cam'),(2,NULL),
(3, now()), (4,'a,(b)');
INSERT INTO public.contacts (id, "phone") VALUES (7, '+44 20 7946 0958');
REPLACE INTO devices VALUES (5, X'00ff');
\unrestrict AbC123
`
	res := parse(t, dump, Options{})
	want := []string{
		`12 users ["id" "email"] ["1" "jane\tdoe@example.com"]`,
		`13 users ["id" "email"] ["2" ""]`,
		`21 devices ["id" "note"] ["1" "it's the 'hall' cam"]`,
		`21 devices ["id" "note"] ["2" ""]`,
		`22 devices ["id" "note"] ["3" "now()"]`,
		`22 devices ["id" "note"] ["4" "a,(b)"]`,
		`23 contacts ["id" "phone"] ["7" "+44 20 7946 0958"]`,
		`24 devices ["id" "note"] ["5" "X'00ff'"]`,
	}
	if got := rowStrings(res.rows); !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantTables := []Table{
		{Name: "users", Columns: []Column{{"id", "integer"}, {"email", "text"}}},
		{Name: "devices", Columns: []Column{{"id", "int"}, {"note", "varchar(40)"}}},
	}
	if fmt.Sprint(res.tables) != fmt.Sprint(wantTables) {
		t.Errorf("tables %v, want %v", res.tables, wantTables)
	}
	if f := res.rows[0].Fields("column"); !slices.Equal(f, []string{"users.id", "users.email"}) {
		t.Errorf("fields %q", f)
	}
	if f := (Row{Table: "t", Columns: []string{"a"}, Values: []string{"1", "2"}}).Fields("c"); !slices.Equal(f, []string{"t.a", "t.c2"}) {
		t.Errorf("fields of an unnamed value %q", f)
	}
}

// TestParseTuples: one tuple on its own — quotes, escapes, commas, NULL,
// nested parentheses; a tuple cut by the end is no row.
func TestParseTuples(t *testing.T) {
	res := parse(t, `INSERT INTO t VALUES (1,'it''s, \'x\'',NULL, now(), 'end')  ,(2);`, Options{})
	if len(res.rows) != 2 || !slices.Equal(res.rows[0].Values, []string{"1", "it's, 'x'", "", "now()", "end"}) || res.rows[0].Columns != nil {
		t.Errorf("rows %v", res.rows)
	}
	if res := parse(t, `INSERT INTO t VALUES (1,'unterminated`, Options{}); len(res.rows) != 0 {
		t.Errorf("unterminated tuple read as a row: %v", res.rows)
	}
}

// TestParseDollarQuote: a function body in $$…$$ with quotes, semicolons
// and an INSERT is no statement of the dump.
func TestParseDollarQuote(t *testing.T) {
	dump := "CREATE FUNCTION f() RETURNS void AS $body$\nBEGIN\n  -- don't\n  INSERT INTO t VALUES ('x');\nEND;\n$body$ LANGUAGE plpgsql;\n" +
		"CREATE FUNCTION g() RETURNS int AS $$ SELECT 1; $$;\nINSERT INTO t VALUES ('y');\n"
	res := parse(t, dump, Options{})
	if got := rowStrings(res.rows); !slices.Equal(got, []string{`8 t [] ["y"]`}) {
		t.Errorf("rows %v", got)
	}
}

// TestParseCut: a prefix of a dump yields the rows completed before the
// cut, a cut CREATE TABLE its complete columns; a last COPY line without
// a line end counts only when the input is complete.
func TestParseCut(t *testing.T) {
	res := parse(t, "CREATE TABLE t (a int, b text, c", Options{})
	if len(res.tables) != 1 || len(res.tables[0].Columns) != 2 {
		t.Errorf("cut CREATE TABLE: %v", res.tables)
	}
	copyText := "COPY t (a) FROM stdin;\n1\n2"
	if res := parse(t, copyText, Options{}); len(res.rows) != 1 {
		t.Errorf("cut COPY: %v", res.rows)
	}
	if res := parse(t, copyText, Options{Complete: func() bool { return true }}); len(res.rows) != 2 {
		t.Errorf("complete COPY: %v", res.rows)
	}
	res = parse(t, "INSERT INTO t (a, b) VALUES ('x', 'it''s'), ('y', 'z');\nINSERT INTO t VALUES ('q',", Options{})
	if len(res.rows) != 2 {
		t.Errorf("cut INSERT: %v", res.rows)
	}
}

// TestParseBounds: an extended INSERT far larger than MaxRecord is read
// tuple by tuple; a tuple, COPY line or statement over MaxRecord is
// skipped and reported; MaxValues, MaxRows and Stop end what is kept.
func TestParseBounds(t *testing.T) {
	var b strings.Builder
	b.WriteString("INSERT INTO big (id, v) VALUES ")
	const n = 20000
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "(%d,'value %d')", i, i)
	}
	b.WriteString(";\n")
	big := b.String()
	rows := 0
	err := Parse(iotest.OneByteReader(strings.NewReader(big)), Options{MaxRecord: 64}, Handler{Row: func(r Row) error {
		if r.Values[0] != fmt.Sprint(rows) {
			return fmt.Errorf("row %d: %v", rows, r)
		}
		rows++
		return nil
	}})
	if err != nil || rows != n {
		t.Fatalf("rows %d of %d, err %v (%d input bytes, MaxRecord 64)", rows, n, err, len(big))
	}

	long := strings.Repeat("x", 100)
	dump := "INSERT INTO t (a) VALUES ('ok'), ('" + long + "'), ('ok2');\n" +
		"COPY t (a) FROM stdin;\n" + long + "\nshort\n\\.\n" +
		"CREATE TABLE wide (" + long + " int);\n" +
		"INSERT INTO t (a) VALUES ('last');\n"
	res := parse(t, dump, Options{MaxRecord: 50})
	if got := rowStrings(res.rows); !slices.Equal(got, []string{`1 t ["a"] ["ok"]`, `1 t ["a"] ["ok2"]`, `4 t ["a"] ["short"]`, `7 t ["a"] ["last"]`}) {
		t.Errorf("rows %v", got)
	}
	if !slices.Equal(res.skipped, []int{1, 3, 6}) || len(res.tables) != 0 {
		t.Errorf("skipped %v tables %v", res.skipped, res.tables)
	}

	res = parse(t, "INSERT INTO t VALUES (1,2,3,4);\nCREATE TABLE c (a int, b int, c int);\n", Options{MaxValues: 2})
	if len(res.rows[0].Values) != 2 || len(res.tables[0].Columns) != 2 {
		t.Errorf("MaxValues: %v %v", res.rows, res.tables)
	}
	if res := parse(t, big, Options{MaxRows: 3}); len(res.rows) != 3 {
		t.Errorf("MaxRows: %d rows", len(res.rows))
	}
	seen := 0
	err = Parse(strings.NewReader(big), Options{}, Handler{Row: func(Row) error {
		seen++
		if seen == 2 {
			return Stop
		}
		return nil
	}})
	if err != nil || seen != 2 {
		t.Errorf("Stop: %v after %d rows", err, seen)
	}
	boom := errors.New("boom")
	if err := Parse(strings.NewReader(big), Options{}, Handler{Row: func(Row) error { return boom }}); !errors.Is(err, boom) {
		t.Errorf("handler error: %v", err)
	}
	if err := Parse(iotest.ErrReader(boom), Options{}, Handler{}); !errors.Is(err, boom) {
		t.Errorf("read error: %v", err)
	}
}

// quoteSQL writes v as a MySQL/PostgreSQL string literal.
func quoteSQL(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v) + "'"
}

// quoteCopy writes v as a COPY text-format field.
func quoteCopy(v string) string {
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(v)
}

// FuzzParse: on any input Parse does not panic, keeps its bounds (values
// and columns per row, rows, value bytes no more than input bytes), gives
// a row as many values as columns when both come from one INSERT, and
// reads back INSERTs and COPY lines generated from the input.
func FuzzParse(f *testing.F) {
	f.Add([]byte("-- MySQL dump\nCREATE TABLE `users` (\n `id` int,\n `email` varchar(255)\n);\nINSERT INTO `users` VALUES (1,'a@b.c'),(2,NULL);\n"))
	f.Add([]byte("COPY public.users (id, email) FROM stdin;\n1\ta@b.c\n2\t\\N\n\\.\n"))
	f.Add([]byte("INSERT INTO a.b (`x`) VALUES (X'00', f(1,(2)), 'a\\'), ("))
	f.Add([]byte("CREATE TABLE IF NOT EXISTS [t] ( \"a\" int, CONSTRAINT pk PRIMARY KEY (a)"))
	f.Add([]byte("COPY t FROM stdin;\n1\t\\N\\"))
	f.Add([]byte("/* unterminated"))
	f.Add([]byte("CREATE FUNCTION f() AS $x$ don't; $x$; INSERT INTO t (a, b) VALUES ('1', $$2$$);"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxValues, maxRows = 8, 50
		var rows []Row
		err := Parse(bytes.NewReader(data), Options{MaxRecord: 256, MaxValues: maxValues, MaxRows: maxRows}, Handler{
			Table: func(tb Table) error {
				if len(tb.Columns) > maxValues {
					t.Fatalf("table with %d columns", len(tb.Columns))
				}
				return nil
			},
			Row: func(r Row) error { rows = append(rows, r); return nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > maxRows {
			t.Fatalf("%d rows", len(rows))
		}
		size := 0
		for _, r := range rows {
			if len(r.Values) > maxValues || len(r.Columns) > maxValues || r.Line < 1 {
				t.Fatalf("row out of bounds: %v", r)
			}
			for _, v := range r.Values {
				size += len(v)
			}
		}
		if size > len(data) {
			t.Fatalf("%d value bytes from %d input bytes", size, len(data))
		}

		// Round trip: values cut from the input, written as an INSERT
		// with a column list and as COPY lines, read back unchanged.
		var vals []string
		for p := range bytes.SplitSeq(data, []byte{0xff}) {
			if len(vals) < maxValues {
				vals = append(vals, string(p))
			}
		}
		cols := make([]string, len(vals))
		lits, fields := make([]string, len(vals)), make([]string, len(vals))
		for i, v := range vals {
			cols[i] = fmt.Sprintf("`c%d`", i)
			lits[i], fields[i] = quoteSQL(v), quoteCopy(v)
		}
		text := "INSERT INTO `t` (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Join(lits, ",") + "), (" + strings.Join(lits, ", ") + ");\n" +
			"COPY t (" + strings.Join(cols, ",") + ") FROM stdin;\n" + strings.Join(fields, "\t") + "\n\\.\n"
		var back []Row
		if err := Parse(strings.NewReader(text), Options{MaxValues: maxValues}, Handler{Row: func(r Row) error { back = append(back, r); return nil }}); err != nil {
			t.Fatal(err)
		}
		if len(back) != 3 {
			t.Fatalf("%d rows back from\n%s", len(back), text)
		}
		for _, r := range back {
			if r.Table != "t" || len(r.Columns) != len(r.Values) || !slices.Equal(r.Values, vals) {
				t.Fatalf("row %v from %q", r, vals)
			}
		}
	})
}

// BenchmarkParse reads a mysqldump-style extended INSERT and a pg_dump
// COPY block of the same rows; b.SetBytes gives the throughput.
func BenchmarkParse(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("CREATE TABLE `users` (\n  `id` int NOT NULL,\n  `email` varchar(200),\n  `phone` varchar(40)\n);\nINSERT INTO `users` VALUES ")
	for i := range 5000 {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, "(%d,'user%d.o\\'neil@corp-mail.com','+44 20 7946 %04d')", i, i, i)
	}
	sb.WriteString(";\nCOPY public.users (id, email, phone) FROM stdin;\n")
	for i := range 5000 {
		fmt.Fprintf(&sb, "%d\tuser%d@corp-mail.com\t+44 20 7946 %04d\n", i, i, i)
	}
	sb.WriteString("\\.\n")
	text := sb.String()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		rows := 0
		if err := Parse(strings.NewReader(text), Options{}, Handler{Row: func(Row) error { rows++; return nil }}); err != nil || rows != 10000 {
			b.Fatalf("%d rows, %v", rows, err)
		}
	}
}
