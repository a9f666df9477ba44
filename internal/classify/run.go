package classify

import (
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	"slices"
	"sort"
	"strings"
	"unsafe"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// run is one Classify call: the dataset's path cache and aggregates.
type run struct {
	e       *RuleClassifier
	paths   map[string]*pathInfo
	seen    map[*pathInfo]*pathSeen
	slabs   []*[slabSize]pathSeen // reused across datasets
	slabN   int                   // pathSeen entries handed out
	agg     [numClasses]*classAgg // nil: class not seen in this dataset
	aggs    [numClasses]classAgg  // backing of agg, reused across datasets
	sc      scanner
	lower   []byte
	offsets []int
	spaces  []bool
	hits    []kwHit
	slots   [1 << slotBits]pathSlot
	canary  map[string]bool
	seed    maphash.Seed
	sampled int
}

// classAgg accumulates one class over a dataset's sample.
type classAgg struct {
	matched  int
	values   int
	confSum  float64
	rules    []string
	fields   []string
	examples []string
	// norms are the first MaxHashes distinct normalised values; they are
	// turned into keyed hashes when the output is built and never leave.
	norms      []string
	freq       map[uint64]int32
	normHashes []uint64
	tries      int
	exTries    int
}

const maxFields = 12

// hashed classes get keyed hashes. Device models and coordinates are left
// out: they identify no one and repeat across unrelated stores, so a match
// says nothing.
var hashed = func() (h [numClasses]bool) {
	for c := range h {
		h[c] = class(c) != cDeviceModel && class(c) != cGeo
	}
	return
}()

// maxTries bounds the attempts to find distinct examples and hash inputs
// per class and dataset.
const maxTries = 256

// maxExampleTries bounds the masks rendered per class and dataset (masks of
// repetitive classes collide: "[lat/lon]").
const maxExampleTries = 32

// Classify classifies one dataset from its schema and sample.
func (e *RuleClassifier) Classify(in Input) Output {
	r := e.newRun()
	r.sampled = len(in.Sample)
	for i := range in.Sample {
		r.record(&in.Sample[i])
	}
	out := r.output(in)
	e.release(r)
	return out
}

func (e *RuleClassifier) newRun() *run {
	if r, ok := e.runs.Get().(*run); ok {
		r.sc.now = e.now()
		return r
	}
	r := &run{
		e:     e,
		paths: make(map[string]*pathInfo, 32),
		seen:  make(map[*pathInfo]*pathSeen, 32),
		seed:  maphash.MakeSeed(),
	}
	r.sc.e = e
	r.sc.now = e.now()
	return r
}

// release resets a run and returns it to the pool (its scratch buffers and
// caches are reused by the next dataset).
func (e *RuleClassifier) release(r *run) {
	if len(r.paths) > 1024 || cap(r.lower) > 1<<20 {
		return // let an outsized run go
	}
	if len(r.paths) > 2048 {
		clear(r.paths)
		r.slots = [len(r.slots)]pathSlot{}
	}
	clear(r.seen)
	r.slabN = 0
	for c, a := range r.agg {
		if a != nil {
			a.reset()
		}
		r.agg[c] = nil
	}
	r.canary = nil
	r.sampled = 0
	r.sc.dets = r.sc.dets[:0]
	e.runs.Put(r)
}

func (r *run) path(p string) *pathInfo {
	// Paths from FromJSONBytes are interned: a slot keyed by the string's
	// address answers most lookups without hashing.
	var slot *pathSlot
	if len(p) > 0 {
		ptr := unsafe.StringData(p)
		h := (uintptr(unsafe.Pointer(ptr)) ^ uintptr(len(p))) * 0x9E3779B97F4A7C15
		slot = &r.slots[h>>(64-slotBits)]
		if slot.ptr == ptr && slot.n == len(p) {
			return slot.pi
		}
	}
	if pi, ok := r.paths[p]; ok {
		if slot != nil {
			*slot = pathSlot{unsafe.StringData(p), len(p), pi}
		}
		return pi
	}
	pi := r.e.pathInfo(p)
	if len(r.paths) < 4096 {
		r.paths[p] = pi
	}
	if slot != nil {
		*slot = pathSlot{unsafe.StringData(p), len(p), pi}
	}
	return pi
}

const slotBits = 10

// slabSize is the number of pathSeen entries allocated at once.
const slabSize = 64

// reset empties an aggregate for the next dataset, keeping its map and
// slices (examples were handed to the output and are not reused).
func (a *classAgg) reset() {
	clear(a.norms) // drop references to sampled values
	*a = classAgg{
		rules:      a.rules[:0],
		fields:     a.fields[:0],
		norms:      a.norms[:0],
		freq:       a.freq,
		normHashes: a.normHashes[:0],
	}
	if len(a.freq) > 4096 {
		a.freq = nil // let an outsized map go
	}
	clear(a.freq)
}

// pathSeen remembers, per path and run, which classes and rules were
// already recorded, so the per-class lists are not searched value after
// value.
type pathSeen struct {
	classes classSet
	rule    [numClasses]string
}

type pathSlot struct {
	ptr *byte
	n   int
	pi  *pathInfo
}

// maxPathCache bounds the engine-wide cache of analysed field paths.
const maxPathCache = 1 << 16

// pathInfo returns the cached analysis of a path (engine-wide: field
// names repeat across datasets and scans).
func (e *RuleClassifier) pathInfo(p string) *pathInfo {
	e.pathMu.RLock()
	pi, ok := e.pathCache[p]
	e.pathMu.RUnlock()
	if ok {
		return pi
	}
	pi = e.analyzePath(p)
	e.pathMu.Lock()
	if len(e.pathCache) >= maxPathCache {
		clear(e.pathCache)
	}
	e.pathCache[p] = pi
	e.pathMu.Unlock()
	return pi
}

// record classifies one record: one Aho-Corasick pass over its lower-cased
// values decides which value detectors run; then each value goes through
// its field's rules.
func (r *run) record(rec *Record) classSet {
	vals := rec.Values
	if len(vals) > maxLeaves {
		vals = vals[:maxLeaves]
	}
	r.lower = r.lower[:0]
	r.offsets = r.offsets[:0]
	r.spaces = r.spaces[:0]
	for _, v := range vals {
		r.offsets = append(r.offsets, len(r.lower))
		n := len(r.lower)
		var sp, kw bool
		r.lower, sp, kw = appendLowerScan(r.lower, v.Text)
		r.spaces = append(r.spaces, sp)
		if !kw {
			// No keyword can match: leave the value out of the pass.
			r.lower = r.lower[:n]
			continue
		}
		r.lower = append(r.lower, 0)
	}
	r.offsets = append(r.offsets, len(r.lower))
	matches := r.e.values.FindAllOverlapping(r.lower)
	mi := 0
	var seen classSet
	for i, v := range vals {
		vc := valueCtx{pi: r.path(v.Path), space: r.spaces[i]}
		base, end := r.offsets[i], r.offsets[i+1]
		hs := mi
		for mi < len(matches) && matches[mi].Start < end {
			m := matches[mi]
			if m.Start >= base {
				g := r.e.kwGroup[m.PatternID]
				if g != kgCtxNeg || wordAt(r.lower[base:end-1], m.Start-base, m.End-base) {
					vc.groups |= 1 << g
				}
			}
			mi++
		}
		if vc.groups != 0 && (vc.space || len(v.Text) > 64) {
			r.hits = r.hits[:0]
			for _, m := range matches[hs:mi] {
				g := r.e.kwGroup[m.PatternID]
				if m.Start >= base && (g != kgCtxNeg || wordAt(r.lower[base:end-1], m.Start-base, m.End-base)) {
					r.hits = append(r.hits, kwHit{pos: m.Start - base, group: g})
				}
			}
			vc.hits = r.hits
		}
		if lbl := r.e.canaryIn(v.Text, vc.space); lbl != "" {
			if r.canary == nil {
				r.canary = map[string]bool{}
			}
			r.canary[lbl] = true
		}
		r.sc.dets = r.sc.dets[:0]
		r.sc.detect(v.Text, &vc)
		for _, d := range r.sc.dets {
			if d.conf < minConf {
				continue
			}
			r.add(d, vc.pi)
			seen.add(d.c)
		}
	}
	for c := class(0); c < numClasses; c++ {
		if seen.has(c) {
			r.agg[c].matched++
		}
	}
	return seen
}

// wordAt reports whether s[i:j] stands as a word of its own: not inside
// another word, a domain, a path or an identifier ("example" in
// "example.org" or "latest" is no context word).
func wordAt(s []byte, i, j int) bool {
	if i > 0 {
		c := s[i-1]
		if isAlnum(c) || c == '@' || c == '.' || c == '/' || c == '_' || c == '-' {
			return false
		}
	}
	if j < len(s) {
		c := s[j]
		if isAlnum(c) || c == '@' || c == '/' || c == '_' || c == '-' {
			return false
		}
		if c == '.' && j+1 < len(s) && s[j+1] != ' ' {
			return false
		}
	}
	return true
}

// lowerTab maps a byte to its ASCII lower case; spaceTab marks ASCII
// whitespace. Tables keep the per-byte loop free of branches.
var lowerTab, spaceTab = func() (l, s [256]byte) {
	for i := range l {
		l[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			l[i] = byte(i) + 'a' - 'A'
		}
	}
	s[' '], s['\t'], s['\n'], s['\r'] = 1, 1, 1, 1
	return
}()

// scanTab: 1 for ASCII whitespace, 2 for bytes a value keyword may hold
// (see appendLowerScan).
var scanTab = func() (t [256]byte) {
	for c := range t {
		t[c] = spaceTab[c]
		if c >= 0x40 || c == '$' {
			t[c] |= 2
		}
	}
	return
}()

// SWAR constants: one bit or byte value in each byte of a word.
const (
	swarLo     = 0x0101010101010101
	swarHi     = 0x8080808080808080
	swarTop2   = 0xC0C0C0C0C0C0C0C0
	swarDollar = 0x2424242424242424
	swarSpace1 = 0x2121212121212121
	swarGeA    = 0x3f3f3f3f3f3f3f3f // 0x80-'A'
	swarGtZ    = 0x2525252525252525 // 0x80-('Z'+1)
)

// appendLowerScan appends s lower-cased (ASCII only, so offsets stay
// aligned), eight bytes at a time, and reports whether s holds ASCII
// whitespace and whether a value keyword could match in it: every keyword
// holds a byte ≥ 0x40 (a letter, '@', '_', '{', UTF-8) or a '$', so values
// of digits and punctuation (numbers, dates, IPv4 addresses, phone numbers)
// need no Aho-Corasick pass.
func appendLowerScan(dst []byte, s string) (_ []byte, space, kw bool) {
	n := len(dst)
	dst = slices.Grow(dst, len(s))[:n+len(s)]
	out := dst[n:]
	if len(s) == 0 {
		return dst, false, false
	}
	src := unsafe.Slice(unsafe.StringData(s), len(s))
	if len(src) < 8 {
		var f byte
		for i, c := range src {
			out[i] = lowerTab[c]
			f |= scanTab[c]
		}
		return dst, f&1 != 0, f&2 != 0
	}
	var high, dollar, ctl uint64
	word := func(i int) {
		w := binary.LittleEndian.Uint64(src[i:])
		h := w &^ swarHi
		upper := (h + swarGeA) &^ (h + swarGtZ) &^ w & swarHi
		binary.LittleEndian.PutUint64(out[i:], w|upper>>2)
		high |= w
		x := w ^ swarDollar
		dollar |= (x - swarLo) &^ x
		ctl |= (w - swarSpace1) &^ w
	}
	for i := 0; i+8 <= len(src); i += 8 {
		word(i)
	}
	if len(src)%8 != 0 {
		word(len(src) - 8) // overlaps the last word: lower-casing is idempotent
	}
	kw = high&swarTop2 != 0 || dollar&swarHi != 0
	if ctl&swarHi != 0 {
		// Some byte ≤ 0x20: look for real whitespace.
		for _, c := range src {
			if spaceTab[c] != 0 {
				return dst, true, kw
			}
		}
	}
	return dst, false, kw
}

// appendLower appends s lower-cased (ASCII only, so offsets stay aligned).
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func (r *run) add(d det, pi *pathInfo) {
	a := r.agg[d.c]
	if a == nil {
		a = &r.aggs[d.c]
		r.agg[d.c] = a
	}
	a.values++
	a.confSum += float64(d.conf)
	ps := r.seen[pi]
	if ps == nil {
		if r.slabN == len(r.slabs)*slabSize {
			r.slabs = append(r.slabs, new([slabSize]pathSeen))
		}
		ps = &r.slabs[r.slabN/slabSize][r.slabN%slabSize]
		*ps = pathSeen{}
		r.slabN++
		r.seen[pi] = ps
	}
	if !ps.classes.has(d.c) {
		ps.classes.add(d.c)
		a.fields = addUnique(a.fields, pi.safe, maxFields)
	}
	if ps.rule[d.c] != d.rule {
		ps.rule[d.c] = d.rule
		a.rules = addUnique(a.rules, d.rule, 16)
	}
	norm := d.norm
	if norm == "" {
		norm = d.raw
	}
	collect := len(a.norms) < r.e.maxHashes && hashed[d.c] || len(a.examples) < r.e.maxExamples && a.exTries < maxExampleTries
	if !identifying[d.c] && !collect {
		return
	}
	h := maphash.String(r.seed, norm)
	first := true
	if identifying[d.c] {
		if a.freq == nil {
			a.freq = make(map[uint64]int32, 64)
		}
		n := a.freq[h]
		a.freq[h] = n + 1
		first = n == 0
	}
	// Hash inputs and examples: the first distinct values (compared by
	// their 64-bit hash), with bounded attempts for repetitive classes.
	if first && collect && a.tries < maxTries && !slices.Contains(a.normHashes, h) {
		a.tries++
		if len(a.norms) < r.e.maxHashes && hashed[d.c] {
			a.norms = append(a.norms, norm)
		}
		a.normHashes = append(a.normHashes, h)
		if len(a.examples) < r.e.maxExamples && a.exTries < maxExampleTries {
			a.exTries++
			a.examples = addUnique(a.examples, mask(d), r.e.maxExamples)
		}
	}
}

// KeyedHash is the keyed digest findings carry for a value:
// HMAC-SHA256(key, "v1:"+value), hex, truncated to 128 bits. The same value
// gives the same digest across stores and scans of one installation, and
// nothing to anyone without the key.
func (e *RuleClassifier) KeyedHash(normalized string) string {
	var buf [32]byte
	sum := e.mac(buf[:0], "v1:", normalized)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// hashes returns the keyed hashes of norms; the hex digests share one
// allocation.
func (e *RuleClassifier) hashes(norms []string) []string {
	out := make([]string, len(norms))
	if len(norms) == 0 {
		return out
	}
	hexed := make([]byte, 32*len(norms))
	var buf [32]byte
	for i, n := range norms {
		sum := e.mac(buf[:0], "v1:", n)
		hex.Encode(hexed[32*i:], sum[:16])
	}
	all := unsafe.String(&hexed[0], len(hexed))
	for i := range norms {
		out[i] = all[32*i : 32*i+32]
	}
	return out
}

func addUnique(list []string, s string, max int) []string {
	if s == "" {
		return list
	}
	for _, x := range list {
		if x == s {
			return list
		}
	}
	if len(list) >= max {
		return list
	}
	return append(list, s)
}

func (r *run) output(in Input) Output {
	var out Output
	schemaSig := r.schemaClasses(in.Schema)
	for c := class(0); c < numClasses; c++ {
		a := r.agg[c]
		if a != nil && a.matched > 0 {
			cc := finding.ClassCount{
				Class:      c.String(),
				Sampled:    r.sampled,
				Matched:    a.matched,
				Source:     "values",
				Confidence: round2(a.confSum / float64(a.values)),
				Rules:      sorted(a.rules),
				Fields:     sorted(a.fields),
				Examples:   a.examples,
				Hashes:     r.e.hashes(a.norms),
			}
			if s, ok := schemaSig[c]; ok {
				cc.Fields = mergeSorted(cc.Fields, s.fields)
			}
			estimate(&cc, in.Records, a)
			out.Classes = append(out.Classes, cc)
			continue
		}
		if s, ok := schemaSig[c]; ok {
			out.Classes = append(out.Classes, finding.ClassCount{
				Class:      c.String(),
				Sampled:    r.sampled,
				Matched:    0,
				Source:     "schema",
				Confidence: round2(float64(s.conf)),
				Rules:      sorted(s.rules),
				Fields:     sorted(s.fields),
				Examples:   []string{},
			})
		}
	}
	for l := range r.canary {
		out.Canaries = append(out.Canaries, l)
	}
	sort.Strings(out.Canaries)
	return out
}

type schemaHit struct {
	conf   float32
	rules  []string
	fields []string
}

// schemaTypes maps store types (Elasticsearch mappings, SQL column types)
// to classes.
var schemaTypes = map[string]class{
	"geo_point": cGeo, "geo_shape": cGeo, "geography": cGeo, "point": cGeo, "geometry": cGeo,
	"ip": cIP, "inet": cIP, "cidr": cIP, "ipv4": cIP, "ipv6": cIP,
	"macaddr": cMAC, "macaddr8": cMAC,
}

// schemaClasses classifies the schema alone: field names with a strong
// signal (≥0.7) and typed fields.
func (r *run) schemaClasses(fields []finding.Field) map[class]*schemaHit {
	out := map[class]*schemaHit{}
	add := func(c class, conf float32, rule, field string) {
		h := out[c]
		if h == nil {
			h = &schemaHit{}
			out[c] = h
		}
		if conf > h.conf {
			h.conf = conf
		}
		h.rules = addUnique(h.rules, rule, 16)
		h.fields = addUnique(h.fields, field, maxFields)
	}
	for _, f := range fields {
		pi := r.path(f.Name)
		if c, ok := schemaTypes[strings.ToLower(f.Type)]; ok {
			add(c, 0.95, "schema:type_"+strings.ToLower(f.Type), pi.safe)
			continue
		}
		flag, dateType := isFlagType(f.Type)
		if flag {
			continue
		}
		for c := class(0); c < numClasses; c++ {
			if dateType && c != cDOB {
				continue
			}
			if pi.sig[c] >= 0.7 {
				add(c, pi.sig[c], "schema:"+pi.rule[c], pi.safe)
			}
		}
	}
	return out
}

// isFlagType: booleans and numbers other than big integers cannot hold
// most classes; a boolean "email_verified" says nothing.
// Date types can hold only a date of birth.
func isFlagType(t string) (flag, date bool) {
	switch strings.ToLower(t) {
	case "boolean", "bool", "object", "nested", "binary", "json", "jsonb", "half_float", "scaled_float":
		return true, false
	case "date", "timestamp", "timestamptz", "datetime", "time", "date_nanos", "timestamp without time zone", "timestamp with time zone":
		return false, true
	}
	return false, false
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func mergeSorted(a, b []string) []string {
	for _, x := range b {
		a = addUnique(a, x, maxFields)
	}
	sort.Strings(a)
	return a
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }
