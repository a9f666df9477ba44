package main

import (
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// SQL dumps (pg_dump, mysqldump): the rows of COPY … FROM stdin blocks and
// of INSERT statements become records whose fields are "table.column", so
// the field names count as they do for a live database. Column names come
// from the statement's own list, else from the CREATE TABLE read before it.
// Other statements (DDL, SET, comments) are no records.

// sqlReader keeps the state between the lines of one dump.
type sqlReader struct {
	tables  map[string][]string // CREATE TABLE columns by table name
	create  string              // table whose CREATE TABLE is being read
	copyTab string              // table of the COPY block being read
	copyCol []string
	insTab  string // table of an INSERT whose tuples go on over the next lines
	insCol  []string
}

func (fr *fileReader) sql() error {
	sr := &sqlReader{tables: map[string][]string{}}
	return fr.lines(func(line []byte, no int) error {
		return sr.line(string(line), no, fr.emit)
	})
}

func (sr *sqlReader) line(l string, no int, emit func(classify.Record, int) error) error {
	if sr.copyTab != "" {
		if l == `\.` {
			sr.copyTab, sr.copyCol = "", nil
			return nil
		}
		vals := strings.Split(l, "\t")
		for i, v := range vals {
			vals[i] = copyUnescape(v)
		}
		return emit(classify.FromRow(sr.copyCol, vals), no)
	}
	t := strings.TrimSpace(l)
	if sr.insTab != "" {
		// mysqldump writes one tuple a line: "(1,'a'),", …, "(9,'z');"
		if !strings.HasPrefix(t, "(") {
			sr.insTab, sr.insCol = "", nil
		} else {
			tab, cols := sr.insTab, sr.insCol
			if strings.HasSuffix(t, ";") {
				sr.insTab, sr.insCol = "", nil
			}
			return tuples(t, tab, cols, no, emit)
		}
	}
	if sr.create != "" {
		if strings.HasPrefix(t, ")") {
			sr.create = ""
			return nil
		}
		if name := sqlIdent(t); name != "" && !sqlConstraint(name) {
			sr.tables[sr.create] = append(sr.tables[sr.create], sr.create+"."+name)
		}
		return nil
	}
	up := strings.ToUpper(t[:min(len(t), 12)])
	switch {
	case strings.HasPrefix(up, "CREATE TABLE"):
		rest := strings.TrimSpace(t[12:])
		if strings.HasPrefix(strings.ToUpper(rest), "IF NOT EXISTS") {
			rest = strings.TrimSpace(rest[13:])
		}
		if name := sqlTableName(rest); name != "" && strings.HasSuffix(t, "(") {
			sr.create = name
			sr.tables[name] = nil
		}
	case strings.HasPrefix(up, "COPY "):
		// COPY public.users (id, email) FROM stdin;
		rest := strings.TrimSpace(t[5:])
		name := sqlTableName(rest)
		o, c := strings.IndexByte(rest, '('), strings.IndexByte(rest, ')')
		if name != "" && o > 0 && c > o && strings.Contains(strings.ToUpper(rest[c:]), "FROM STDIN") {
			sr.copyTab, sr.copyCol = name, qualify(name, splitIdents(rest[o+1:c]))
		}
	case strings.HasPrefix(up, "INSERT INTO "):
		return sr.insert(t[12:], no, emit)
	}
	return nil
}

// insert reads "tbl [(cols)] VALUES (…), (…);".
func (sr *sqlReader) insert(rest string, no int, emit func(classify.Record, int) error) error {
	rest = strings.TrimSpace(rest)
	name := sqlTableName(rest)
	if name == "" {
		return nil
	}
	v := valuesKeyword(rest)
	if v < 0 {
		return nil
	}
	cols := sr.tables[name]
	if o := strings.IndexByte(rest[:v], '('); o > 0 {
		if c := strings.LastIndexByte(rest[:v], ')'); c > o {
			cols = qualify(name, splitIdents(rest[o+1:c]))
		}
	}
	s := rest[v+6:]
	if !strings.HasSuffix(s, ";") {
		sr.insTab, sr.insCol = name, cols
	}
	return tuples(s, name, cols, no, emit)
}

// tuples reads "(…), (…)" and emits one record per tuple.
func tuples(s, name string, cols []string, no int, emit func(classify.Record, int) error) error {
	for {
		o := strings.IndexByte(s, '(')
		if o < 0 {
			return nil
		}
		vals, n := sqlTuple(s[o+1:])
		if n < 0 {
			return nil
		}
		row := cols
		for len(row) < len(vals) {
			row = append(row[:len(row):len(row)], name+".column"+strconv.Itoa(len(row)+1))
		}
		if err := emit(classify.FromRow(row, vals), no); err != nil {
			return err
		}
		s = s[o+1+n:]
	}
}

// sqlTuple reads the values of one tuple up to its ")" and returns them and
// the bytes consumed (-1: unterminated).
func sqlTuple(s string) ([]string, int) {
	var vals []string
	i := 0
	for i < len(s) {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) {
			break
		}
		if s[i] == '\'' {
			const q = '\''
			var b strings.Builder
			j := i + 1
			for j < len(s) {
				c := s[j]
				if c == '\\' && j+1 < len(s) { // MySQL escapes
					b.WriteByte(unescapeByte(s[j+1]))
					j += 2
					continue
				}
				if c == q {
					if j+1 < len(s) && s[j+1] == q { // '' inside a literal
						b.WriteByte(q)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(c)
				j++
			}
			if j >= len(s) {
				return nil, -1
			}
			vals = append(vals, b.String())
			i = j + 1
		} else {
			j := i
			depth := 0
			for j < len(s) && (depth > 0 || s[j] != ',' && s[j] != ')') {
				switch s[j] {
				case '(':
					depth++
				case ')':
					depth--
				}
				j++
			}
			if tok := strings.TrimSpace(s[i:j]); !strings.EqualFold(tok, "NULL") {
				vals = append(vals, tok)
			} else {
				vals = append(vals, "")
			}
			i = j
		}
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] == ')' {
			return vals, i + 1
		}
		if i < len(s) && s[i] == ',' {
			i++
		}
	}
	return nil, -1
}

func unescapeByte(c byte) byte {
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

// copyUnescape reads a COPY text-format field (\N is NULL).
func copyUnescape(v string) string {
	if v == `\N` {
		return ""
	}
	if strings.IndexByte(v, '\\') < 0 {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			b.WriteByte(unescapeByte(v[i+1]))
			i++
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// sqlTableName reads a (schema-qualified, quoted) table name at the start
// of s and returns its last part.
func sqlTableName(s string) string {
	e := 0
	for e < len(s) && s[e] != ' ' && s[e] != '(' && s[e] != '\t' {
		e++
	}
	name := s[:e]
	if d := strings.LastIndexByte(name, '.'); d >= 0 {
		name = name[d+1:]
	}
	return strings.Trim(name, "`\"[]")
}

// sqlIdent reads the column name that starts a CREATE TABLE line.
func sqlIdent(t string) string {
	if t == "" {
		return ""
	}
	if q := t[0]; q == '`' || q == '"' || q == '[' {
		end := q
		if q == '[' {
			end = ']'
		}
		if e := strings.IndexByte(t[1:], end); e > 0 {
			return t[1 : 1+e]
		}
		return ""
	}
	e := 0
	for e < len(t) && (isIdentByte(t[e])) {
		e++
	}
	return t[:e]
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// sqlConstraint: CREATE TABLE lines that define no column.
func sqlConstraint(name string) bool {
	switch strings.ToUpper(name) {
	case "PRIMARY", "KEY", "UNIQUE", "INDEX", "CONSTRAINT", "FOREIGN", "CHECK", "FULLTEXT", "SPATIAL", "EXCLUDE":
		return true
	}
	return false
}

func splitIdents(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.Trim(strings.TrimSpace(p), "`\"[]"))
	}
	return out
}

func qualify(table string, cols []string) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = table + "." + c
	}
	return out
}

// valuesKeyword finds the VALUES keyword (a word of its own, followed by
// a space or "(").
func valuesKeyword(s string) int {
	for i := 1; i+6 <= len(s); i++ {
		if (s[i-1] == ' ' || s[i-1] == ')') && (i+6 == len(s) || s[i+6] == ' ' || s[i+6] == '(') && strings.EqualFold(s[i:i+6], "values") {
			return i
		}
	}
	return -1
}
