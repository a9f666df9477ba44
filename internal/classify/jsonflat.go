package classify

import (
	"errors"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// FromJSONBytes decodes and flattens one JSON document without building
// maps: a single pass over the bytes emits path/value pairs in document
// order. String values without escapes share one copy of the document;
// paths are interned. Numbers keep their literal text (so 16-digit ids and
// card numbers survive exactly). Depth beyond maxDepth is parsed but not
// emitted, and at most maxLeaves values are kept. Invalid JSON is an error.
//
// The copy of a small document and its Values are carved from blocks
// shared with the documents flattened before and after it (see
// flatArena): a sample of records costs a few allocations, not two per
// record. The record does not alias b.
func FromJSONBytes(b []byte) (Record, error) {
	ar := flatArenas.Get().(*flatArena)
	defer flatArenas.Put(ar)
	p := flatParser{src: ar.text(b), ar: ar}
	p.rec.Values = ar.values()
	p.skipWS()
	if err := p.value("", 0); err != nil {
		return Record{}, err
	}
	p.skipWS()
	if p.i != len(p.src) {
		return Record{}, p.errorf("invalid character after top-level value")
	}
	ar.keepValues(p.rec.Values)
	n := len(p.rec.Values)
	p.rec.Values = p.rec.Values[:n:n] // appends by the caller must not reach the block
	return p.rec, nil
}

// flatArena hands out the text and Values of flattened documents from
// blocks (textBlock bytes, valueBlock Values). Carved pieces are never
// written again; a block lives as long as any record carved from it (so a
// retained record may keep up to one block of its neighbours alive).
// Arenas are pooled: each FromJSONBytes call owns one for its duration.
type flatArena struct {
	txt  []byte  // current text block; len is the part handed out
	vals []Value // current values block; len is the part handed out
}

const (
	textBlock  = 32 << 10
	valueBlock = 512
	// Larger documents (and value lists) get allocations of their own.
	maxCarvedText = textBlock / 4
	minValuesTail = 64
)

var flatArenas = sync.Pool{New: func() any { return new(flatArena) }}

// text returns a copy of b as a string.
func (a *flatArena) text(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > maxCarvedText {
		return string(b)
	}
	if cap(a.txt)-len(a.txt) < len(b) {
		a.txt = make([]byte, 0, textBlock)
	}
	off := len(a.txt)
	a.txt = append(a.txt, b...)
	return unsafe.String(&a.txt[off], len(b))
}

// values returns an empty slice over the free tail of the values block
// (capacity-limited: growing past it reallocates, never overwrites).
func (a *flatArena) values() []Value {
	if cap(a.vals)-len(a.vals) < minValuesTail {
		a.vals = make([]Value, 0, valueBlock)
	}
	return a.vals[len(a.vals):len(a.vals):cap(a.vals)]
}

// keepValues marks vs as handed out when it lives in the values block.
func (a *flatArena) keepValues(vs []Value) {
	if len(vs) == 0 || cap(a.vals) == len(a.vals) || &vs[0] != &a.vals[:len(a.vals)+1][len(a.vals)] {
		return // empty, or append moved it to its own allocation
	}
	a.vals = a.vals[:len(a.vals)+len(vs)]
}

type flatParser struct {
	src string
	i   int
	rec Record
	buf []byte
	ar  *flatArena
}

var errJSONEnd = errors.New("classify: unexpected end of JSON input")

func (p *flatParser) errorf(msg string) error {
	return errors.New("classify: json: " + msg + " at offset " + strconv.Itoa(p.i))
}

func (p *flatParser) skipWS() {
	for p.i < len(p.src) {
		switch p.src[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *flatParser) emit(path, text string, depth int) {
	if depth > maxDepth || len(p.rec.Values) >= maxLeaves {
		return
	}
	p.rec.Values = append(p.rec.Values, Value{Path: path, Text: text})
}

// value parses one value at p.i under path.
func (p *flatParser) value(path string, depth int) error {
	if depth > 10_000 {
		return p.errorf("nesting too deep")
	}
	if p.i >= len(p.src) {
		return errJSONEnd
	}
	switch c := p.src[p.i]; {
	case c == '{':
		return p.object(path, depth)
	case c == '[':
		return p.array(path, depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return err
		}
		p.emit(path, s, depth)
	case c == 't':
		if err := p.lit("true"); err != nil {
			return err
		}
		p.emit(path, "true", depth)
	case c == 'f':
		if err := p.lit("false"); err != nil {
			return err
		}
		p.emit(path, "false", depth)
	case c == 'n':
		return p.lit("null")
	case c == '-' || c >= '0' && c <= '9':
		s, err := p.number()
		if err != nil {
			return err
		}
		p.emit(path, s, depth)
	default:
		return p.errorf("invalid character " + strconv.QuoteRune(rune(c)))
	}
	return nil
}

func (p *flatParser) lit(w string) error {
	if len(p.src)-p.i < len(w) || p.src[p.i:p.i+len(w)] != w {
		return p.errorf("invalid literal")
	}
	p.i += len(w)
	return nil
}

func (p *flatParser) number() (string, error) {
	start := p.i
	s := p.src
	if s[p.i] == '-' {
		p.i++
	}
	if p.i >= len(s) {
		return "", errJSONEnd
	}
	switch {
	case s[p.i] == '0':
		p.i++
	case s[p.i] >= '1' && s[p.i] <= '9':
		for p.i < len(s) && s[p.i] >= '0' && s[p.i] <= '9' {
			p.i++
		}
	default:
		return "", p.errorf("invalid number")
	}
	if p.i < len(s) && s[p.i] == '.' {
		p.i++
		d := p.i
		for p.i < len(s) && s[p.i] >= '0' && s[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return "", p.errorf("invalid number")
		}
	}
	if p.i < len(s) && (s[p.i] == 'e' || s[p.i] == 'E') {
		p.i++
		if p.i < len(s) && (s[p.i] == '+' || s[p.i] == '-') {
			p.i++
		}
		d := p.i
		for p.i < len(s) && s[p.i] >= '0' && s[p.i] <= '9' {
			p.i++
		}
		if p.i == d {
			return "", p.errorf("invalid number")
		}
	}
	return s[start:p.i], nil
}

// str parses a string at p.i (the opening quote). Unescaped strings are
// returned as slices of the source.
func (p *flatParser) str() (string, error) {
	s := p.src
	p.i++
	start := p.i
	j := p.i
	// Most strings are short: a table loop finds the closing quote, an
	// escape or a control character in one pass.
	for j < len(s) && !strStop[s[j]] {
		j++
	}
	p.i = j
	if j >= len(s) {
		return "", errJSONEnd
	}
	switch s[j] {
	case '"':
		p.i++
		return s[start:j], nil
	case '\\':
		return p.strEscaped(start)
	}
	return "", p.errorf("invalid character in string")
}

// strStop marks the bytes that end the plain part of a JSON string.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return
}()

func (p *flatParser) strEscaped(start int) (string, error) {
	s := p.src
	p.buf = append(p.buf[:0], s[start:p.i]...)
	for p.i < len(s) {
		c := s[p.i]
		switch {
		case c == '"':
			p.i++
			return p.ar.text(p.buf), nil
		case c < 0x20:
			return "", p.errorf("invalid character in string")
		case c != '\\':
			p.buf = append(p.buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(s) {
			return "", errJSONEnd
		}
		e := s[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			p.buf = append(p.buf, e)
		case 'b':
			p.buf = append(p.buf, '\b')
		case 'f':
			p.buf = append(p.buf, '\f')
		case 'n':
			p.buf = append(p.buf, '\n')
		case 'r':
			p.buf = append(p.buf, '\r')
		case 't':
			p.buf = append(p.buf, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("invalid \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := rune(utf8.RuneError)
				if p.i+1 < len(s) && s[p.i] == '\\' && s[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if lo, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							p.i = save
						}
					} else {
						return "", p.errorf("invalid \\u escape")
					}
				}
				r = r2
			}
			p.buf = utf8.AppendRune(p.buf, r)
		default:
			return "", p.errorf("invalid escape")
		}
	}
	return "", errJSONEnd
}

func (p *flatParser) hex4() (rune, bool) {
	if len(p.src)-p.i < 4 {
		return 0, false
	}
	var r rune
	for k := 0; k < 4; k++ {
		c := p.src[p.i+k]
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

func (p *flatParser) object(path string, depth int) error {
	p.i++ // {
	p.skipWS()
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.skipWS()
		if p.i >= len(p.src) {
			return errJSONEnd
		}
		if p.src[p.i] != '"' {
			return p.errorf("expected object key")
		}
		k, err := p.str()
		if err != nil {
			return err
		}
		p.skipWS()
		if p.i >= len(p.src) {
			return errJSONEnd
		}
		if p.src[p.i] != ':' {
			return p.errorf("expected ':'")
		}
		p.i++
		p.skipWS()
		child := ""
		if depth < maxDepth {
			child = joinPath(path, k)
		}
		if err := p.value(child, depth+1); err != nil {
			return err
		}
		p.skipWS()
		if p.i >= len(p.src) {
			return errJSONEnd
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or '}'")
		}
	}
}

func (p *flatParser) array(path string, depth int) error {
	p.i++ // [
	p.skipWS()
	if p.i < len(p.src) && p.src[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.skipWS()
		if err := p.value(path, depth+1); err != nil {
			return err
		}
		p.skipWS()
		if p.i >= len(p.src) {
			return errJSONEnd
		}
		switch p.src[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return p.errorf("expected ',' or ']'")
		}
	}
}

// Path interning: the same few hundred paths recur in every document. A
// lock-free direct-mapped cache keyed by (parent path, key) hands out one
// string per path; entries are immutable and swapped atomically, so
// concurrent parsers share it safely. A miss only costs an allocation.
type internEntry struct {
	parent string
	key    string
	full   string
}

const internBits = 14

var (
	internSeed  = maphash.MakeSeed()
	internCache [1 << internBits]atomic.Pointer[internEntry]
)

func joinPath(parent, key string) string {
	h := maphash.String(internSeed, key)
	if len(parent) > 0 {
		h ^= uint64(uintptr(unsafe.Pointer(unsafe.StringData(parent)))) * 0x9E3779B97F4A7C15
	}
	slot := &internCache[h>>(64-internBits)]
	if e := slot.Load(); e != nil && e.key == key && len(e.parent) == len(parent) && (len(parent) == 0 || unsafe.StringData(e.parent) == unsafe.StringData(parent)) {
		return e.full
	}
	var full string
	if parent == "" {
		full = strings.Clone(key) // key may be a slice of a large document
	} else {
		full = parent + "." + key
	}
	slot.Store(&internEntry{parent: parent, key: full[len(full)-len(key):], full: full})
	return full
}
