package sqldump

import (
	"bytes"
	"strings"
)

// scanner is a cursor over the text of one statement head, tuple or
// CREATE TABLE. Every method makes progress or leaves the cursor where it
// was and returns false, so loops end.
type scanner struct {
	b       []byte
	i       int
	maxVals int
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

// identPart reads one name: `x`, "x", [x] or a bare word.
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

// splitParen reads up to the ')' closing an already consumed '(' and
// splits the content at top-level commas. Text cut before the ')' yields
// the parts completed before the cut.
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

// nameList reads "(a, `b`, "c")" after its '(' was consumed.
func (s *scanner) nameList() []string {
	var cols []string
	for _, c := range s.splitParen() {
		cs := &scanner{b: []byte(strings.TrimSpace(c))}
		if n, ok := cs.identPart(); ok && len(cols) < s.maxVals {
			cols = append(cols, n)
		}
	}
	return cols
}

var constraintWords = map[string]bool{
	"PRIMARY": true, "KEY": true, "UNIQUE": true, "CONSTRAINT": true, "INDEX": true,
	"FOREIGN": true, "CHECK": true, "FULLTEXT": true, "SPATIAL": true, "EXCLUDE": true,
}

// columnDef turns "`email` varchar(255) NOT NULL" into a column.
func columnDef(def string) (Column, bool) {
	cs := &scanner{b: []byte(strings.TrimSpace(def))}
	quoted := cs.peek() == '`' || cs.peek() == '"' || cs.peek() == '['
	name, ok := cs.identPart()
	if !ok || name == "" || (!quoted && constraintWords[strings.ToUpper(name)]) {
		return Column{}, false
	}
	cs.skipSpace()
	rest := string(cs.b[cs.i:])
	typ := rest
	if j := strings.IndexAny(rest, " \t\r\n"); j >= 0 {
		typ = rest[:j]
	}
	return Column{Name: name, Type: strings.ToLower(typ)}, true
}

// createTable parses [TEMPORARY] TABLE [IF NOT EXISTS] name (defs) after
// CREATE.
func (s *scanner) createTable() (Table, bool) {
	s.keyword("TEMPORARY")
	if !s.keyword("TABLE") {
		return Table{}, false
	}
	if s.keyword("IF") {
		s.keyword("NOT")
		s.keyword("EXISTS")
	}
	name, ok := s.ident()
	s.skipSpace()
	if !ok || s.peek() != '(' {
		return Table{}, false
	}
	s.i++
	t := Table{Name: name}
	for _, def := range s.splitParen() {
		if c, ok := columnDef(def); ok && len(t.Columns) < s.maxVals {
			t.Columns = append(t.Columns, c)
		}
	}
	return t, true
}

// tuple reads the values of one VALUES tuple (its '(' consumed) up to its
// ')'. complete is false when the text ended inside the tuple or held no
// tuple.
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
		if len(vals) < s.maxVals {
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

// unescape is the byte a backslash escape stands for (MySQL literals and
// PostgreSQL COPY text).
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

// copyUnescape reads a COPY text-format field (\N is NULL, read as "").
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
