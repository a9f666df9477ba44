package classify

import "strings"

// The region of a record's phone numbers from another field of the record
// (issue 12: "region from other fields"): a field named for a country
// holding an ISO 3166 alpha-2 code the phone metadata knows or a common
// country name. National numbers ("0171 2345678") are then read in that
// region before the default one.

// countryWords name a country field (the whole leaf, lower-case tokens).
var countryWords = toSet("country", "country code", "countrycode", "country iso", "iso country", "cc",
	"land", "landcode", "pais", "país", "pays", "paese", "nation", "country name", "kraj", "maa", "ország")

// countryNames maps common country names (English and own language) to
// ISO 3166 alpha-2 codes.
var countryNames = map[string]string{
	"united states": "US", "usa": "US", "us": "US", "united kingdom": "GB", "uk": "GB", "great britain": "GB",
	"england": "GB", "germany": "DE", "deutschland": "DE", "france": "FR", "spain": "ES", "españa": "ES",
	"espana": "ES", "italy": "IT", "italia": "IT", "netherlands": "NL", "nederland": "NL", "belgium": "BE",
	"belgique": "BE", "belgië": "BE", "switzerland": "CH", "schweiz": "CH", "suisse": "CH", "austria": "AT",
	"österreich": "AT", "osterreich": "AT", "denmark": "DK", "danmark": "DK", "norway": "NO", "norge": "NO",
	"sweden": "SE", "sverige": "SE", "finland": "FI", "suomi": "FI", "poland": "PL", "polska": "PL",
	"portugal": "PT", "ireland": "IE", "czech republic": "CZ", "czechia": "CZ", "hungary": "HU",
	"magyarország": "HU", "greece": "GR", "turkey": "TR", "türkiye": "TR", "canada": "CA", "mexico": "MX",
	"méxico": "MX", "brazil": "BR", "brasil": "BR", "argentina": "AR", "australia": "AU",
	"new zealand": "NZ", "india": "IN", "japan": "JP", "china": "CN", "south africa": "ZA",
}

// regionHint returns the region a country field of the record names; it
// leaves every value's path info in r.pis for the record's pass.
func (r *run) regionHint(vals []Value) string {
	r.pis = r.pis[:0]
	for _, v := range vals {
		r.pis = append(r.pis, r.path(v.Path))
	}
	for i, v := range vals {
		pi := r.pis[i]
		if !pi.country {
			continue
		}
		t := strings.TrimSpace(v.Text)
		if len(t) == 2 {
			up := strings.ToUpper(t)
			if _, ok := phoneMetadata().byRegion[up]; ok {
				return up
			}
			continue
		}
		if len(t) > 2 && len(t) <= 24 {
			if iso, ok := countryNames[strings.ToLower(t)]; ok {
				return iso
			}
		}
	}
	return ""
}
