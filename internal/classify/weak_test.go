package classify

import (
	"testing"
	"time"
)

// TestWeakClassDetectors: the detectors for device ids, provider keys,
// session tokens, user names and dates of birth read each documented
// form, and leave the look-alikes beside them alone.
func TestWeakClassDetectors(t *testing.T) {
	e := testEngine(t)
	for _, c := range []struct {
		doc  string
		want string // one class, "" for none of the five
	}{
		// provider keys by value, under neutral names and after any key
		{`{"value":"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"}`, ClassAPIKey},
		{`{"v":"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"}`, ClassAPIKey},
		{`{"v":"dop_v1_0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"}`, ClassAPIKey},
		{`{"v":"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"}`, ClassAPIKey},
		{`{"v":"0a9b8c7d6e5f40312a2b3c4d5e6f7081-us14"}`, ClassAPIKey},
		{`{"v":"SK0a9b8c7d6e5f40312a2b3c4d5e6f7081"}`, ClassAPIKey},
		{`{"v":"7581234567:AAH3kLmN0pQrStUvWxYz1234567890abcde"}`, ClassAPIKey},
		{`{"cfg":"VAULT_TOKEN=hvs.CAESIJk2mN4pQ7rS9tV1wX3yZ5aB"}`, ClassAPIKey},
		{`{"cfg":"FIGMA=figd_Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa9876"}`, ClassAPIKey},
		{`{"v":"EAAB` + repeatMix(120) + `"}`, ClassAuthToken},
		{`{"api_key":"sk_test_XXXXXXXXXXXXXXXXXXXXXXXX"}`, ""},
		{`{"apiKey":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, ""},
		{`{"v":"shpat_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, ""},
		{`{"chiave_api":"Rj7LMexAfFEnpzJDiGIzK1JFNoa6kTMB"}`, ClassAPIKey},
		// session tokens
		{`{"sessao_id":"uO6Q_vFxiutij9jfPNxoasiAM0JJBo0Y"}`, ClassAuthToken},
		{`{"page_token":"WHu4SANXbxamWdZVlPrVYBYuNdoFA_Gy"}`, ""},
		{`{"access_token":"<ACCESS_TOKEN>"}`, ""},
		// device ids
		{`{"message":"IMEI: 490154203237518"}`, ClassDeviceID},
		{`{"message":"IMEI 49-015420-323751-8 reported lost"}`, ClassDeviceID},
		{`{"message":"IMEI: 490154203237519"}`, ""}, // Luhn fails
		{`{"message":"Seriennummer C02XL0GJJGH5 nicht gefunden"}`, ClassDeviceID},
		{`{"message":"serial number: 1.4.2 released"}`, ""},
		{`{"message":"device 39b9ea5e901105d3 registered for push"}`, ClassDeviceID},
		{`{"message":"device offline since noon"}`, ""},
		{`{"seriennummer":"C02XL0GJJGH5"}`, ClassDeviceID},
		{`{"iccid":"8944500102198304826"}`, ClassDeviceID},
		{`{"camera":{"uid":"ABCD-123456-EFGHI"}}`, ClassDeviceID},
		{`{"serial":"1.4.2"}`, ""},
		// user names
		{`{"message":"Login succeeded for user 'jperez'"}`, ClassUsername},
		{`{"message":"user gbianchi logged in from console"}`, ClassUsername},
		{`{"message":"Benutzer mmueller hat sich angemeldet"}`, ClassUsername},
		{`{"message":"login failed for user gbianchi: bad password"}`, ClassUsername},
		{`{"message":"user=ops_bot action=delete"}`, ClassUsername},
		{`{"message":"postgres://reporting:Xk9mQ2vRt7@db.example.internal:5432/app"}`, ClassUsername},
		{`{"message":"Bot: What's the name on the account? User: Vilma Holm"}`, ""},
		{`{"message":"the user clicked the save button"}`, ""},
		{`{"message":"user not found"}`, ""},
		{`{"message":"export USER=$USER"}`, ""},
		{`{"message":"user admin logged in"}`, ""}, // a role word in prose
		{`{"username":"${DB_USER}"}`, ""},
		{`{"kullanici_adi":"jenkins"}`, ClassUsername},
		// dates of birth
		{`{"geb_datum":"7.3.1985"}`, ClassDateOfBirth},
		{`{"fecha_nacimiento":"7 de marzo de 1985"}`, ClassDateOfBirth},
		{`{"dob":"March 7, 1985"}`, ClassDateOfBirth},
		{`{"dob":"07-Mar-1985"}`, ClassDateOfBirth},
		{`{"dob":"1985年3月7日"}`, ClassDateOfBirth},
		{`{"dob":"07/03/85"}`, ClassDateOfBirth},
		{`{"dob":"7 March 2031"}`, ""}, // in the future
		{`{"dob":"31.13.1985"}`, ""},
		{`{"birth_place":"Madrid"}`, ""},
		{`{"message":"geboren am 07.03.1985 in Köln"}`, ClassDateOfBirth},
		{`{"message":"patient dob 1950-08-25, allergies none"}`, ClassDateOfBirth},
		{`{"message":"released on 7 March 1985 in Europe"}`, ""},
	} {
		rec, err := FromJSONBytes([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		got := e.recordClasses(rec)
		for _, name := range []string{ClassDeviceID, ClassAPIKey, ClassAuthToken, ClassUsername, ClassDateOfBirth} {
			has := false
			for ci := class(0); ci < numClasses; ci++ {
				if ci.String() == name && got.has(ci) {
					has = true
				}
			}
			if has != (name == c.want) {
				t.Errorf("%s: %s %v, want %v", c.doc, name, has, name == c.want)
			}
		}
	}
}

// repeatMix returns n bytes of a fixed mixed-case alphanumeric sequence
// that is no counting run.
func repeatMix(n int) string {
	const alpha = "ZqX7wB2mK9vN4cR6tY1uP8sL3dF5gH0j"
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[(i*7+i/5)%len(alpha)]
	}
	return string(b)
}

// TestParseDOB: the spellings parseDOB reads and what it refuses.
func TestParseDOB(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]int{
		"1985-03-07": 1985, "7.3.1985": 1985, "1985/3/7": 1985, "7 March 1985": 1985, "March 7, 1985": 1985,
		"March 7th, 1985": 1985, "07-Mar-1985": 1985, "7. März 1985": 1985, "7 mars 1985": 1985,
		"7 de marzo de 1985": 1985, "7 marzo 1985": 1985, "7 maart 1985": 1985, "1985年3月7日": 1985,
		"07/03/85": 1985, "07/03/05": 2005, "1985-03-07T00:00:00Z": 1985, "1985-3-7": 1985,
		"7 March 2027": 0, "32.01.1985": 0, "1.4.2": 0, "7 Marchx 1985": 0, "7 1985": 0, "Mar 1985": 0,
		"12345678901": 0, "1899-12-31": 0,
	} {
		y, ok := parseDOB(v, now)
		if ok != (want != 0) || ok && y != want {
			t.Errorf("parseDOB(%q) = %d, %v; want %d", v, y, ok, want)
		}
	}
}

// FuzzParseDOB: parseDOB never panics and never returns a year outside
// 1900..now.
func FuzzParseDOB(f *testing.F) {
	for _, s := range []string{"7 de marzo de 1985", "1985年3月7日", "07/03/85", "March 7th, 1985", "1.4.2"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if y, ok := parseDOB(s, now); ok && (y < 1900 || y > 2026) {
			t.Fatalf("parseDOB(%q) = %d", s, y)
		}
	})
}
