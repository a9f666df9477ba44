package webdump

import (
	"bytes"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// sqlRow is one row of a SQL dump (an INSERT tuple or a COPY line).
type sqlRow struct {
	Table   string
	Columns []string
	Values  []string
}

// sqlDump is what a bounded prefix of a SQL dump tells.
type sqlDump struct {
	// Tables maps a table name to its columns from CREATE TABLE, in order
	// of appearance in TableOrder.
	Tables     map[string][]finding.Field
	TableOrder []string
	// Rows holds the first rows (up to the caller's limit).
	Rows []sqlRow
	// RowCount counts every row seen in the prefix.
	RowCount int
	// Header is true when a dump tool's header comment was seen.
	Header bool
}

// Valid tells whether the text was a SQL dump at all.
func (d *sqlDump) Valid() bool {
	return d.RowCount > 0 || len(d.Tables) > 0 || d.Header
}

var dumpHeaders = [][]byte{
	[]byte("-- MySQL dump"), []byte("-- MariaDB dump"), []byte("-- PostgreSQL database dump"),
	[]byte("-- Dump completed"), []byte("PRAGMA foreign_keys"),
}

// maxSQLValues bounds the values kept from one row.
const maxSQLValues = 256

// parseSQLDump reads CREATE TABLE, INSERT INTO and COPY ... FROM stdin
// statements of a dump (mysqldump, mariadb-dump, pg_dump, sqlite .dump)
// from b, keeping at most maxRows rows. A statement cut at the end of b
// yields the rows completed before the cut.
func parseSQLDump(b []byte, maxRows int) *sqlDump {
	d := &sqlDump{Tables: map[string][]finding.Field{}}
	if looksLikeHTML(b) {
		return d
	}
	for _, h := range dumpHeaders {
		if bytes.Contains(b[:min(len(b), 4096)], h) {
			d.Header = true
		}
	}
	s := &scanner{b: b}
	for !s.eof() {
		s.skipSpaceAndComments()
		switch {
		case s.keyword("CREATE"):
			s.createTable(d)
		case s.keyword("INSERT"), s.keyword("REPLACE"):
			s.insert(d, maxRows)
		case s.keyword("COPY"):
			s.copyStmt(d, maxRows)
		default:
			s.skipStatement()
		}
	}
	return d
}

// scanner is a cursor over dump text. Every method makes progress or
// leaves the cursor where it was and returns false, so loops end.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) eof() bool { return s.i >= len(s.b) }

func (s *scanner) peek() byte {
	if s.eof() {
		return 0
	}
	return s.b[s.i]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func (s *scanner) skipSpace() {
	for !s.eof() && isSpace(s.b[s.i]) {
		s.i++
	}
}

// skipSpaceAndComments skips blanks, "-- ..." and "/* ... */" (MySQL's
// /*!40101 ... */ conditional statements are skipped as comments too).
func (s *scanner) skipSpaceAndComments() {
	for {
		s.skipSpace()
		switch {
		case bytes.HasPrefix(s.b[s.i:], []byte("--")) || s.peek() == '#':
			if j := bytes.IndexByte(s.b[s.i:], '\n'); j >= 0 {
				s.i += j + 1
			} else {
				s.i = len(s.b)
			}
		case bytes.HasPrefix(s.b[s.i:], []byte("/*")):
			if j := bytes.Index(s.b[s.i+2:], []byte("*/")); j >= 0 {
				s.i += j + 4
			} else {
				s.i = len(s.b)
			}
			if s.peek() == ';' {
				s.i++
			}
		default:
			return
		}
	}
}

// keyword consumes w (case-insensitive) when it stands as a whole word.
func (s *scanner) keyword(w string) bool {
	s.skipSpace()
	end := s.i + len(w)
	if end > len(s.b) || !strings.EqualFold(string(s.b[s.i:end]), w) {
		return false
	}
	if end < len(s.b) && isIdentChar(s.b[end]) {
		return false
	}
	s.i = end
	return true
}

func isIdentChar(c byte) bool {
	return c == '_' || c == '$' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// ident reads a possibly quoted, possibly schema-qualified name and returns
// its last part ("public"."users" → users).
func (s *scanner) ident() (string, bool) {
	var last string
	ok := false
	for {
		s.skipSpace()
		part, got := s.identPart()
		if !got {
			return last, ok
		}
		last, ok = part, true
		if s.peek() != '.' {
			return last, ok
		}
		s.i++
	}
}

func (s *scanner) identPart() (string, bool) {
	if s.eof() {
		return "", false
	}
	switch q := s.b[s.i]; q {
	case '`', '"', '[':
		closeq := q
		if q == '[' {
			closeq = ']'
		}
		j := bytes.IndexByte(s.b[s.i+1:], closeq)
		if j < 0 {
			s.i = len(s.b)
			return "", false
		}
		name := string(s.b[s.i+1 : s.i+1+j])
		s.i += j + 2
		return name, true
	}
	start := s.i
	for !s.eof() && isIdentChar(s.b[s.i]) {
		s.i++
	}
	return string(s.b[start:s.i]), s.i > start
}

// skipStatement moves past the next ';' outside quotes (or to the end).
func (s *scanner) skipStatement() {
	start := s.i
	for !s.eof() {
		c := s.b[s.i]
		switch c {
		case ';':
			s.i++
			return
		case '\'', '"', '`':
			s.skipQuoted(c)
		default:
			s.i++
		}
	}
	if s.i == start && !s.eof() {
		s.i++
	}
}

// skipQuoted moves past a quoted literal starting at the cursor.
func (s *scanner) skipQuoted(q byte) {
	s.i++
	for !s.eof() {
		c := s.b[s.i]
		switch {
		case c == '\\' && q == '\'':
			s.i += 2
		case c == q:
			s.i++
			if s.peek() != q {
				return
			}
			s.i++
		default:
			s.i++
		}
	}
	if s.i > len(s.b) {
		s.i = len(s.b)
	}
}

// createTable parses CREATE [TEMPORARY] TABLE [IF NOT EXISTS] name (defs).
func (s *scanner) createTable(d *sqlDump) {
	s.keyword("TEMPORARY")
	if !s.keyword("TABLE") {
		s.skipStatement()
		return
	}
	if s.keyword("IF") {
		s.keyword("NOT")
		s.keyword("EXISTS")
	}
	name, ok := s.ident()
	s.skipSpace()
	if !ok || s.peek() != '(' {
		s.skipStatement()
		return
	}
	s.i++
	var fields []finding.Field
	for _, def := range s.splitParen() {
		if f, ok := columnDef(def); ok && len(fields) < maxSQLValues {
			fields = append(fields, f)
		}
	}
	if _, dup := d.Tables[name]; !dup {
		d.TableOrder = append(d.TableOrder, name)
	}
	d.Tables[name] = fields
	s.skipStatement()
}

// splitParen reads up to the ')' closing an already consumed '(' and
// splits the content at top-level commas.
func (s *scanner) splitParen() []string {
	var (
		parts []string
		depth int
		start = s.i
	)
	for !s.eof() {
		switch c := s.b[s.i]; c {
		case '(':
			depth++
			s.i++
		case ')':
			if depth == 0 {
				parts = append(parts, string(s.b[start:s.i]))
				s.i++
				return parts
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				parts = append(parts, string(s.b[start:s.i]))
				start = s.i + 1
			}
			s.i++
		case '\'', '"', '`':
			s.skipQuoted(c)
		default:
			s.i++
		}
	}
	return parts
}

var constraintWords = map[string]bool{
	"PRIMARY": true, "KEY": true, "UNIQUE": true, "CONSTRAINT": true, "INDEX": true,
	"FOREIGN": true, "CHECK": true, "FULLTEXT": true, "SPATIAL": true, "EXCLUDE": true,
}

// columnDef turns "`email` varchar(255) NOT NULL" into a field.
func columnDef(def string) (finding.Field, bool) {
	cs := &scanner{b: []byte(strings.TrimSpace(def))}
	quoted := cs.peek() == '`' || cs.peek() == '"' || cs.peek() == '['
	name, ok := cs.identPart()
	if !ok || name == "" || (!quoted && constraintWords[strings.ToUpper(name)]) {
		return finding.Field{}, false
	}
	cs.skipSpace()
	rest := string(cs.b[cs.i:])
	typ := rest
	if j := strings.IndexAny(rest, " \t\r\n"); j >= 0 {
		typ = rest[:j]
	}
	return finding.Field{Name: name, Type: strings.ToLower(typ)}, true
}

// insert parses INSERT [IGNORE] INTO name [(cols)] VALUES (...),(...);
func (s *scanner) insert(d *sqlDump, maxRows int) {
	s.keyword("IGNORE")
	if !s.keyword("INTO") {
		s.skipStatement()
		return
	}
	name, ok := s.ident()
	if !ok {
		s.skipStatement()
		return
	}
	s.skipSpace()
	var cols []string
	if s.peek() == '(' {
		s.i++
		for _, c := range s.splitParen() {
			cs := &scanner{b: []byte(strings.TrimSpace(c))}
			if n, ok := cs.identPart(); ok {
				cols = append(cols, n)
			}
		}
	}
	if !s.keyword("VALUES") {
		s.skipStatement()
		return
	}
	if cols == nil {
		cols = fieldNames(d.Tables[name])
	}
	for {
		s.skipSpace()
		if s.peek() != '(' {
			break
		}
		s.i++
		vals, complete := s.tuple()
		if !complete {
			return
		}
		d.addRow(name, cols, vals, maxRows)
		s.skipSpace()
		if s.peek() != ',' {
			break
		}
		s.i++
	}
	s.skipStatement()
}

func fieldNames(fs []finding.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func (d *sqlDump) addRow(table string, cols, vals []string, maxRows int) {
	d.RowCount++
	if len(d.Rows) < maxRows {
		d.Rows = append(d.Rows, sqlRow{Table: table, Columns: cols, Values: vals})
	}
}

// tuple reads the values of one VALUES tuple up to its ')'. complete is
// false when the text ended inside the tuple.
func (s *scanner) tuple() ([]string, bool) {
	var vals []string
	for {
		s.skipSpace()
		if s.eof() {
			return vals, false
		}
		var v string
		if s.peek() == '\'' {
			var ok bool
			if v, ok = s.quotedValue(); !ok {
				return vals, false
			}
		} else {
			v = s.bareValue()
		}
		if len(vals) < maxSQLValues {
			vals = append(vals, v)
		}
		s.skipSpace()
		switch s.peek() {
		case ',':
			s.i++
		case ')':
			s.i++
			return vals, true
		default:
			return vals, false
		}
	}
}

// quotedValue reads a quoted literal; a doubled quote and a backslash escape.
func (s *scanner) quotedValue() (string, bool) {
	var sb strings.Builder
	s.i++
	for !s.eof() {
		c := s.b[s.i]
		switch {
		case c == '\\' && s.i+1 < len(s.b):
			sb.WriteByte(unescape(s.b[s.i+1]))
			s.i += 2
		case c == '\'':
			if s.i+1 < len(s.b) && s.b[s.i+1] == '\'' {
				sb.WriteByte('\'')
				s.i += 2
				continue
			}
			s.i++
			return sb.String(), true
		default:
			sb.WriteByte(c)
			s.i++
		}
	}
	return "", false
}

func unescape(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case '0':
		return 0
	}
	return c
}

// bareValue reads a number, NULL, a function call or an X'..' literal up
// to the next top-level ',' or ')'. NULL becomes "".
func (s *scanner) bareValue() string {
	start := s.i
	depth := 0
	for !s.eof() {
		c := s.b[s.i]
		if (c == ',' || c == ')') && depth == 0 {
			break
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case '\'':
			s.skipQuoted(c)
			continue
		}
		s.i++
	}
	v := strings.TrimSpace(string(s.b[start:min(s.i, len(s.b))]))
	if strings.EqualFold(v, "NULL") {
		return ""
	}
	return v
}

// copyStmt parses pg_dump's COPY name (cols) FROM stdin; followed by
// tab-separated rows up to "\.".
func (s *scanner) copyStmt(d *sqlDump, maxRows int) {
	name, ok := s.ident()
	if !ok {
		s.skipStatement()
		return
	}
	s.skipSpace()
	var cols []string
	if s.peek() == '(' {
		s.i++
		for _, c := range s.splitParen() {
			cs := &scanner{b: []byte(strings.TrimSpace(c))}
			if n, ok := cs.identPart(); ok {
				cols = append(cols, n)
			}
		}
	}
	if !s.keyword("FROM") || !s.keyword("stdin") {
		s.skipStatement()
		return
	}
	s.skipStatement()
	if s.peek() == '\r' {
		s.i++
	}
	if s.peek() == '\n' {
		s.i++
	}
	if cols == nil {
		cols = fieldNames(d.Tables[name])
	}
	for !s.eof() {
		j := bytes.IndexByte(s.b[s.i:], '\n')
		if j < 0 {
			return // row cut by the end of the prefix
		}
		line := strings.TrimRight(string(s.b[s.i:s.i+j]), "\r")
		s.i += j + 1
		if line == `\.` {
			return
		}
		fields := strings.Split(line, "\t")
		if len(fields) > maxSQLValues {
			fields = fields[:maxSQLValues]
		}
		for k, f := range fields {
			fields[k] = copyUnescape(f)
		}
		d.addRow(name, cols, fields, maxRows)
	}
}

func copyUnescape(f string) string {
	if f == `\N` {
		return ""
	}
	if !strings.Contains(f, `\`) {
		return f
	}
	var sb strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] == '\\' && i+1 < len(f) {
			sb.WriteByte(unescape(f[i+1]))
			i++
			continue
		}
		sb.WriteByte(f[i])
	}
	return sb.String()
}
