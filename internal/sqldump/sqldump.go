// Package sqldump reads SQL dumps (mysqldump, mariadb-dump, pg_dump, sqlite
// .dump) as a stream: CREATE TABLE statements become table schemas, the
// tuples of INSERT/REPLACE statements and the lines of COPY … FROM stdin
// blocks become rows of (table, columns, values). Column names come from
// the statement's own list, else from the CREATE TABLE read before it.
// Other statements (SET, DDL, comments) are skipped.
//
// Parse holds at most one statement head, one tuple or one COPY line at a
// time (Options.MaxRecord bytes); a longer one is skipped and reported, so
// a dump of any size is read in bounded memory. Text cut at the end (a
// prefix of a dump) yields the rows completed before the cut.
package sqldump

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
	"strings"
)

// Column is one column of a CREATE TABLE.
type Column struct {
	Name string
	Type string // lower-case type word ("varchar(255)", "integer"); may be empty
}

// Table is the schema a CREATE TABLE statement declares.
type Table struct {
	Name    string // last part of a qualified name ("public"."users" → users)
	Columns []Column
}

// Row is one INSERT tuple or one COPY line.
type Row struct {
	Table string
	// Columns are the column names known for the row (nil when neither
	// the statement nor a CREATE TABLE named them); there may be fewer or
	// more than Values.
	Columns []string
	// Values are the values in order; NULL is "".
	Values []string
	// Line is the 1-based line of the input where the row starts.
	Line int
}

// Fields names each value "table.column"; a value without a known column
// is "table.<unnamed><n>" (n counts from 1).
func (r Row) Fields(unnamed string) []string {
	out := make([]string, len(r.Values))
	for i := range r.Values {
		if i < len(r.Columns) {
			out[i] = r.Table + "." + r.Columns[i]
		} else {
			out[i] = r.Table + "." + unnamed + strconv.Itoa(i+1)
		}
	}
	return out
}

// Options bound one Parse. Zero values take the defaults.
type Options struct {
	// MaxRecord caps the bytes of one statement head (or whole non-INSERT
	// statement), one INSERT tuple and one COPY line (default 1 MiB).
	MaxRecord int
	// MaxValues caps the values kept of one row and the columns kept of
	// one table (default 1024).
	MaxValues int
	// MaxRows ends the parse after that many rows (0: no limit).
	MaxRows int
	// Complete, when set and true at the end of the input, tells that the
	// input was not cut, so a last COPY line without its line end is a row.
	// Otherwise such a line is taken for a row cut by the end and dropped.
	Complete func() bool
}

// Defaults of Options.
const (
	DefaultMaxRecord = 1 << 20
	DefaultMaxValues = 1024
)

// Handler receives what Parse reads. Any field may be nil. An error from
// Table or Row ends Parse with that error, except Stop, which ends it
// with nil.
type Handler struct {
	Table func(Table) error
	Row   func(Row) error
	// Skipped is told the line of a statement, tuple or COPY line that was
	// longer than MaxRecord and so was skipped.
	Skipped func(line int)
}

// Stop, returned by a Handler function, ends Parse without an error.
var Stop = errors.New("sqldump: stop")

// Parse reads a dump from r and reports its tables and rows to h. It
// returns the first read error other than io.EOF, or the handler's error.
func Parse(r io.Reader, opt Options, h Handler) error {
	if opt.MaxRecord <= 0 {
		opt.MaxRecord = DefaultMaxRecord
	}
	if opt.MaxValues <= 0 {
		opt.MaxValues = DefaultMaxValues
	}
	p := &parser{r: bufio.NewReaderSize(r, 64<<10), opt: opt, h: h, line: 1, tables: map[string][]string{}}
	err := p.run()
	if errors.Is(err, Stop) || errors.Is(err, errDone) {
		return nil
	}
	return err
}

var errDone = errors.New("sqldump: row limit")

type parser struct {
	r      *bufio.Reader
	opt    Options
	h      Handler
	line   int // line of the next byte
	tables map[string][]string
	rows   int
	buf    []byte
	rerr   error // read error other than io.EOF
}

// next reads one byte; false at the end of the input or on a read error.
func (p *parser) next() (byte, bool) {
	c, err := p.r.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.rerr = err
		}
		return 0, false
	}
	if c == '\n' {
		p.line++
	}
	return c, true
}

func (p *parser) run() error {
	for {
		if !p.skipSpaceAndComments() {
			return p.rerr
		}
		if err := p.statement(); err != nil {
			return err
		}
		if p.rerr != nil {
			return p.rerr
		}
	}
}

// skipSpaceAndComments skips blanks, "-- …", "# …", "\…" and "/* … */" (MySQL's
// /*!40101 … */; conditional statements are skipped as comments too)
// between statements. It returns false at the end of the input.
func (p *parser) skipSpaceAndComments() bool {
	for {
		b, err := p.r.Peek(2)
		switch {
		case len(b) == 0:
			if err != nil && !errors.Is(err, io.EOF) {
				p.rerr = err
			}
			return false
		case isSpace(b[0]):
			p.next()
		case b[0] == '#' || b[0] == '\\' || bytes.HasPrefix(b, []byte("--")):
			// A comment, or a psql meta-command (\connect, \restrict).
			p.skipLine()
		case bytes.HasPrefix(b, []byte("/*")):
			p.next()
			p.next()
			star := false
			for {
				c, ok := p.next()
				if !ok {
					return false
				}
				if star && c == '/' {
					break
				}
				star = c == '*'
			}
			if b, _ := p.r.Peek(1); len(b) == 1 && b[0] == ';' {
				p.next()
			}
		default:
			return true
		}
	}
}

// skipLine moves past the next line end.
func (p *parser) skipLine() {
	for {
		c, ok := p.next()
		if !ok || c == '\n' {
			return
		}
	}
}

func (p *parser) skipped(line int) {
	if p.h.Skipped != nil {
		p.h.Skipped(line)
	}
}

// lexer follows quoting in statement text: '…' (with backslash escapes),
// "…", `…` and PostgreSQL's $tag$…$tag$.
type lexer struct {
	q     byte   // open quote, 0 outside
	esc   bool   // after a backslash in '…'
	tag   []byte // "$tag$" of an open dollar quote, or a candidate being read
	inTag bool   // reading a candidate "$tag"
	m     int    // bytes of tag matched inside a dollar quote
	prev  byte
}

// top feeds c and tells whether it stands outside every quote.
func (l *lexer) top(c byte) bool {
	defer func() { l.prev = c }()
	switch {
	case l.q == '$':
		if c == l.tag[l.m] {
			l.m++
			if l.m == len(l.tag) {
				l.q, l.m = 0, 0
			}
		} else if c == '$' {
			l.m = 1
		} else {
			l.m = 0
		}
		return false
	case l.q != 0:
		switch {
		case l.esc:
			l.esc = false
		case c == '\\' && l.q == '\'':
			l.esc = true
		case c == l.q:
			l.q = 0
		}
		return false
	case l.inTag:
		switch {
		case c == '$':
			l.tag = append(l.tag, '$')
			l.inTag, l.q, l.m = false, '$', 0
			return false
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 || c >= '0' && c <= '9' && len(l.tag) > 1:
			if len(l.tag) < 64 {
				l.tag = append(l.tag, c)
				return true
			}
		}
		l.inTag = false
	}
	switch c {
	case '\'', '"', '`':
		l.q = c
		return false
	case '$':
		if !isIdentChar(l.prev) {
			l.tag, l.inTag = append(l.tag[:0], '$'), true
		}
	}
	return true
}

// statement reads one statement from its first byte. The head of an
// INSERT (up to VALUES) is held, then its tuples are read one by one;
// any other statement is held whole (up to MaxRecord) and parsed at its ';'.
func (p *parser) statement() error {
	h := p.begin()
	for {
		c, ok := p.next()
		if !ok {
			if h.over {
				return nil
			}
			return p.finish(false) // a statement cut by the end
		}
		if h.l.top(c) {
			switch c {
			case ';':
				if h.over {
					return nil
				}
				return p.finish(true)
			case '(':
				if h.depth == 0 && !h.over && p.insertHead() {
					return p.insert()
				}
				h.depth++
			case ')':
				if h.depth > 0 {
					h.depth--
				}
			}
		}
		p.hold(c, h)
	}
}

// insertHead tells whether the held text is "INSERT … VALUES" or
// "REPLACE … VALUES".
func (p *parser) insertHead() bool {
	s := &scanner{b: p.buf}
	if !s.keyword("INSERT") && !s.keyword("REPLACE") {
		return false
	}
	t := bytes.TrimRight(p.buf, " \t\r\n")
	if len(t) < 6 || !strings.EqualFold(string(t[len(t)-6:]), "VALUES") {
		return false
	}
	return len(t) == 6 || !isIdentChar(t[len(t)-7])
}

// finish parses a held statement: CREATE TABLE, or COPY … FROM stdin
// followed by its data lines. complete is false when the input ended
// inside the statement; a cut CREATE TABLE keeps its complete columns.
func (p *parser) finish(complete bool) error {
	s := &scanner{b: p.buf, maxVals: p.opt.MaxValues}
	switch {
	case s.keyword("CREATE"):
		t, ok := s.createTable()
		if !ok {
			return nil
		}
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		p.tables[t.Name] = names
		if p.h.Table != nil {
			return p.h.Table(t)
		}
	case complete && s.keyword("COPY"):
		name, ok := s.ident()
		if !ok {
			return nil
		}
		s.skipSpace()
		var cols []string
		if s.peek() == '(' {
			s.i++
			cols = s.nameList()
		}
		if !s.keyword("FROM") || !s.keyword("stdin") {
			return nil
		}
		if cols == nil {
			cols = p.tables[name]
		}
		p.skipLine()
		return p.copyData(name, cols)
	}
	return nil
}

// insert reads the tuples of an INSERT whose head is held and whose first
// tuple's '(' was just read.
func (p *parser) insert() error {
	s := &scanner{b: p.buf, maxVals: p.opt.MaxValues}
	if !s.keyword("INSERT") {
		s.keyword("REPLACE")
	}
	s.keyword("IGNORE")
	var (
		name string
		cols []string
		ok   bool
	)
	if s.keyword("INTO") {
		name, ok = s.ident()
	}
	if ok {
		s.skipSpace()
		if s.peek() == '(' {
			s.i++
			cols = s.nameList()
		} else {
			cols = p.tables[name]
		}
	}
	for {
		line := p.line
		vals, complete := p.tuple()
		if !complete {
			return nil
		}
		if ok && vals != nil {
			if err := p.row(Row{Table: name, Columns: cols, Values: vals, Line: line}); err != nil {
				return err
			}
		}
		c, more := p.nextNonSpace()
		if !more {
			return nil
		}
		switch c {
		case ';':
			return nil
		case ',':
			if c, more = p.nextNonSpace(); !more {
				return nil
			}
			if c == '(' {
				continue
			}
		}
		p.skipStatement(c)
		return nil
	}
}

func (p *parser) nextNonSpace() (byte, bool) {
	for {
		c, ok := p.next()
		if !ok || !isSpace(c) {
			return c, ok
		}
	}
}

// skipStatement moves past the ';' ending the statement that c is in.
func (p *parser) skipStatement(c byte) {
	var l lexer
	for ok := true; ok; c, ok = p.next() {
		if l.top(c) && c == ';' {
			return
		}
	}
}

// tuple reads one tuple after its '(' up to the matching ')'. complete is
// false at the end of the input; vals is nil for a tuple skipped for its
// size or not understood.
func (p *parser) tuple() (vals []string, complete bool) {
	h := p.begin()
	for {
		c, ok := p.next()
		if !ok {
			return nil, false
		}
		if h.l.top(c) {
			if c == '(' {
				h.depth++
			} else if c == ')' {
				if h.depth == 0 {
					if h.over {
						return nil, true
					}
					p.buf = append(p.buf, c)
					s := &scanner{b: p.buf, maxVals: p.opt.MaxValues}
					if vals, ok := s.tuple(); ok {
						return vals, true
					}
					return nil, true
				}
				h.depth--
			}
		}
		p.hold(c, h)
	}
}

// held is the state of text being held in p.buf: its quoting, its
// parenthesis depth, whether it grew over MaxRecord, and its first line.
type held struct {
	l     lexer
	depth int
	over  bool
	start int
}

// begin starts holding text at the next byte.
func (p *parser) begin() *held {
	p.buf = p.buf[:0]
	return &held{start: p.line}
}

// hold adds c to the held text. Text growing over MaxRecord is reported
// (from its start line) and dropped: over is set and nothing more is held.
func (p *parser) hold(c byte, h *held) {
	switch {
	case h.over:
	case len(p.buf) >= p.opt.MaxRecord:
		h.over = true
		p.buf = p.buf[:0]
		p.skipped(h.start)
	default:
		p.buf = append(p.buf, c)
	}
}

// copyData reads COPY text-format lines up to "\.".
func (p *parser) copyData(name string, cols []string) error {
	for {
		line := p.line
		b, ended, over, ok := p.readLine()
		if !ok {
			return nil
		}
		if over {
			p.skipped(line)
			continue
		}
		if !ended && (p.opt.Complete == nil || !p.opt.Complete()) {
			return nil // the last line, cut by the end of the input
		}
		l := strings.TrimRight(string(b), "\r")
		if l == `\.` {
			return nil
		}
		fields := strings.Split(l, "\t")
		if len(fields) > p.opt.MaxValues {
			fields = fields[:p.opt.MaxValues]
		}
		for k, f := range fields {
			fields[k] = copyUnescape(f)
		}
		if err := p.row(Row{Table: name, Columns: cols, Values: fields, Line: line}); err != nil {
			return err
		}
	}
}

// readLine reads one line without its '\n', holding at most MaxRecord
// bytes: over tells that it was longer. ended is false for a last line
// without a line end; ok is false at the end of the input.
func (p *parser) readLine() (line []byte, ended, over, ok bool) {
	p.buf = p.buf[:0]
	for {
		b, err := p.r.ReadSlice('\n')
		if !over {
			if len(p.buf)+len(b) > p.opt.MaxRecord+2 {
				over = true
				p.buf = p.buf[:0]
			} else {
				p.buf = append(p.buf, b...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(b) > 0 && b[len(b)-1] == '\n' {
			p.line++
			return bytes.TrimSuffix(p.buf, []byte("\n")), true, over, true
		}
		if err != nil && !errors.Is(err, io.EOF) {
			p.rerr = err
		}
		return p.buf, false, over, len(p.buf) > 0 || over
	}
}

func (p *parser) row(r Row) error {
	p.rows++
	if p.h.Row != nil {
		if err := p.h.Row(r); err != nil {
			return err
		}
	}
	if p.opt.MaxRows > 0 && p.rows >= p.opt.MaxRows {
		return errDone
	}
	return nil
}
