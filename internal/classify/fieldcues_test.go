package classify

import "testing"

// TestFieldCuesPerLanguage: a value under a field named in one of the
// languages (or abbreviations) of fieldcues.go gets its class; the same
// value under a neutral name does not where the value alone says nothing.
func TestFieldCuesPerLanguage(t *testing.T) {
	e := testEngine(t)
	for _, tc := range []struct{ lang, doc, class string }{
		{"de", `{"kunde":{"vollständiger_name":"Zephyrine Okonkwo"}}`, ClassPersonName},
		{"pl", `{"imie":"Zephyrine","nazwisko":"Okonkwo"}`, ClassPersonName},
		{"sv", `{"förnamn":"Zephyrine"}`, ClassPersonName},
		{"fi", `{"sukunimi":"Okonkwo"}`, ClassPersonName},
		{"de", `{"breitengrad":"52.5200","laengengrad":"13.4050"}`, ClassGeoLocation},
		{"es", `{"latitud":"40.4168"}`, ClassGeoLocation},
		{"es", `{"token_acceso":"q8Xv2LmN4pR7sT1wY9zB3cD6fG0hJ5kM"}`, ClassAuthToken},
		{"abbr", `{"tok":"q8Xv2LmN4pR7sT1wY9zB3cD6fG0hJ5kM"}`, ClassAuthToken},
		{"abbr", `{"ap":"Blue Heron"}`, ClassWifiSSID},
		{"de", `{"netzwerkname":"Blue Heron"}`, ClassWifiSSID},
		{"abbr", `{"hw":"X-500 Pro"}`, ClassDeviceModel},
		{"it", `{"modello":"X-500 Pro"}`, ClassDeviceModel},
		{"de", `{"geraete_id":"A1B2C3D4E5"}`, ClassDeviceID},
		{"it", `{"data_nascita":"1984-03-12"}`, ClassDateOfBirth},
		{"no", `{"tlf":"+47 22 33 44 55"}`, ClassPhone},
		{"uk", `{"ni_number":"CE123456A"}`, ClassNationalID},
		{"pl", `{"ulica":"Długa"}`, ClassPostalAddress},
		// nested paths and arrays of objects
		{"nested", `{"kunden":[{"kontakt":{"nachname":"Okonkwo"}},{"kontakt":{"nachname":"Ivanova"}}]}`, ClassPersonName},
		{"nested", `{"geraete":[{"modell":"X-500 Pro"}]}`, ClassDeviceModel},
	} {
		got := classifyOne(t, e, tc.doc)
		if _, ok := got[tc.class]; !ok {
			t.Errorf("%s %s: %s missing (classes %v)", tc.lang, tc.doc, tc.class, keys(got))
		}
	}
	for _, doc := range []string{`{"notes":"Blue Heron"}`, `{"x":"X-500 Pro"}`} {
		if got := classifyOne(t, e, doc); len(got) != 0 {
			t.Errorf("%s: classes %v, want none", doc, keys(got))
		}
	}
}
