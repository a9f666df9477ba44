package classify

import "hash/maphash"

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
	pis     []*pathInfo // the record's values' path infos (regionHint)
	hits    []kwHit
	slots   [1 << slotBits]pathSlot
	canary  map[string]bool
	seed    maphash.Seed
	sampled int
}

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
	r.sc.region = r.regionHint(vals)
	for i, v := range vals {
		vc := valueCtx{pi: r.pis[i], space: r.spaces[i]}
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
