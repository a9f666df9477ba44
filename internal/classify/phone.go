package classify

import (
	"regexp"
	"strconv"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// Phone numbers are checked against libphonenumber's metadata (the
// nyaruka/phonenumbers port): country calling code, possible lengths and the
// national-number pattern of the region's general description. Calling
// phonenumbers.Parse + IsValidNumber costs ~20µs a number (it runs dozens of
// regular expressions for extensions, formatting and number types); reading
// the same metadata directly costs ~1µs and answers the question the
// classifier asks — "is this a plausible number of that country?" — which
// is the union of the per-type patterns.

type phoneRegion struct {
	id       string
	prefix   string // national prefix ("0", "1", …)
	lengths  map[int]bool
	national *regexp.Regexp
}

type phoneMeta struct {
	byCC     map[int][]*phoneRegion
	byRegion map[string]*phoneRegion
	ccOf     map[string]int
}

var (
	phoneOnce sync.Once
	phoneData *phoneMeta
)

func phoneMetadata() *phoneMeta {
	phoneOnce.Do(func() {
		m := &phoneMeta{byCC: map[int][]*phoneRegion{}, byRegion: map[string]*phoneRegion{}, ccOf: map[string]int{}}
		coll, err := phonenumbers.MetadataCollection()
		if err != nil || coll == nil {
			phoneData = m
			return
		}
		for _, md := range coll.GetMetadata() {
			gd := md.GetGeneralDesc()
			if gd == nil || gd.GetNationalNumberPattern() == "" {
				continue
			}
			re, err := regexp.Compile("^(?:" + gd.GetNationalNumberPattern() + ")$")
			if err != nil {
				continue
			}
			r := &phoneRegion{id: md.GetId(), prefix: md.GetNationalPrefix(), lengths: map[int]bool{}, national: re}
			for _, l := range gd.GetPossibleLength() {
				r.lengths[int(l)] = true
			}
			cc := int(md.GetCountryCode())
			if md.GetMainCountryForCode() {
				m.byCC[cc] = append([]*phoneRegion{r}, m.byCC[cc]...)
			} else {
				m.byCC[cc] = append(m.byCC[cc], r)
			}
			if r.id != "001" {
				m.byRegion[r.id] = r
				m.ccOf[r.id] = cc
			}
		}
		phoneData = m
	})
	return phoneData
}

func (r *phoneRegion) valid(nat string) bool {
	if len(r.lengths) > 0 && !r.lengths[len(nat)] {
		return false
	}
	return r.national.MatchString(nat)
}

// phoneDigits extracts the digits of a phone-shaped value (digits, spaces,
// "+" first, - . / ( )); ok is false for anything else.
func phoneDigits(v string, buf *[20]byte) (n int, plus, ok bool) {
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= '0' && c <= '9':
			if n == len(buf) {
				return 0, false, false
			}
			buf[n] = c
			n++
		case c == '+':
			if n > 0 || plus {
				return 0, false, false
			}
			plus = true
		case c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')':
		default:
			return 0, false, false
		}
	}
	return n, plus, n >= 7 && n <= 17
}

// phoneE164 validates v as an international number ("+…") or, without
// "+", as a national number of region. It returns the E.164 form.
func phoneE164(v, region string) (string, bool) {
	var buf [20]byte
	n, plus, ok := phoneDigits(v, &buf)
	if !ok {
		return "", false
	}
	d := string(buf[:n])
	m := phoneMetadata()
	if plus {
		for l := 1; l <= 3 && l < n; l++ {
			cc, _ := strconv.Atoi(d[:l])
			regions := m.byCC[cc]
			if len(regions) == 0 {
				continue
			}
			nat := d[l:]
			for _, r := range regions {
				if r.valid(nat) {
					return "+" + d, true
				}
			}
			return "", false
		}
		return "", false
	}
	r := m.byRegion[region]
	if r == nil {
		return "", false
	}
	cc := strconv.Itoa(m.ccOf[region])
	if r.prefix != "" && len(d) > len(r.prefix) && d[:len(r.prefix)] == r.prefix && r.valid(d[len(r.prefix):]) {
		return "+" + cc + d[len(r.prefix):], true
	}
	if r.valid(d) {
		return "+" + cc + d, true
	}
	return "", false
}
