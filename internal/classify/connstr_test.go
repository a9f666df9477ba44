package classify

import (
	"fmt"
	"testing"
)

// TestConnectionStringKeysNoPerson is the regression test of a precision
// bug: the key of a key=value pair was read as a person when a name list
// knows it ("Server=…" once, "Sid=", "Author=", "Hunter=", "Taylor=" …),
// so connection strings and settings lines in text gave person_name. A
// word right before '=' is a key, never a name; names in the values
// ("User Id=Kevin Walsh") stay glued as before.
func TestConnectionStringKeysNoPerson(t *testing.T) {
	e := testEngine(t)
	keys := []string{"Server", "Sid", "Author", "Owner", "Grant", "Chase", "Hunter", "Mason", "Carter",
		"Cooper", "Walker", "Taylor", "Parker", "Porter", "Tyler", "Austin", "Dallas", "Page", "Ray", "Rich", "Bill", "Pat"}
	for _, k := range keys {
		for _, v := range []string{
			"using connection " + k + "=db01;User Id=root;Password=Mx7Tr0ub4dor5746_;",
			"Data Source=db;" + k + "=x1;User ID=root;Password=Mx7Tr0ub4dor5746_",
			"conn: " + k + "=db01;Uid=root;Pwd=Mx7Tr0ub4dor5746_;",
			"Server=db01;Database=shop;" + k + "=sales;User Id=root;Password=Mx7Tr0ub4dor5746_;",
		} {
			recs := map[string]Record{"text": FromText("message", v)}
			for _, f := range []string{"v", "connectionString", "note"} {
				r, err := FromJSONBytes([]byte(fmt.Sprintf(`{%q:%q}`, f, v)))
				if err != nil {
					t.Fatal(err)
				}
				recs["json "+f] = r
			}
			for how, rec := range recs {
				got := e.recordClasses(rec)
				if got.has(cPersonName) {
					t.Errorf("%s %q: person_name", how, v)
				}
				if !got.has(cPassword) {
					t.Errorf("%s %q: password missed", how, v)
				}
			}
		}
	}
	// a name standing as a word still counts
	if !e.recordClasses(FromText("message", "ticket closed by Taylor Parker yesterday")).has(cPersonName) {
		t.Error("ticket closed by Taylor Parker: person missed")
	}
}
