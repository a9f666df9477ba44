package probe

import "testing"

func TestEachJSONCut(t *testing.T) {
	full := `{"a":{"x":[1,2]},"items":[{"n":"a"},{"n":"b"},7,{"n":"c"}],"tail":1}`
	type item struct{ N string }
	for cutAt := 1; cutAt <= len(full); cutAt++ {
		var got []string
		cut, err := EachJSON([]byte(full[:cutAt]), func(it item) bool { got = append(got, it.N); return true }, "items")
		if err != nil {
			t.Fatalf("cut at %d: %v", cutAt, err)
		}
		whole := cutAt >= len(`{"a":{"x":[1,2]},"items":[{"n":"a"},{"n":"b"},7,{"n":"c"}]`)
		if cut == whole {
			t.Fatalf("cut at %d: cut=%v", cutAt, cut)
		}
		if whole && len(got) != 3 {
			t.Fatalf("whole: got %v", got)
		}
	}
	for _, bad := range []string{``, `<html>`, `{"other":[]}`, `{"items":{}}`, `"x"`} {
		if _, err := EachJSON([]byte(bad), func(item) bool { return true }, "items"); err == nil {
			t.Errorf("EachJSON(%q) accepted", bad)
		}
	}
	var rows [][]string
	body := `{"results":[{"statement_id":0,"series":[{"name":"databases","columns":["name"],"values":[["a"],["b"],["c`
	if cut, err := EachJSON([]byte(body), func(r []string) bool { rows = append(rows, r); return true }, "results", FirstElement, "series", FirstElement, "values"); err != nil || !cut || len(rows) != 2 {
		t.Errorf("nested: rows=%v cut=%v err=%v", rows, cut, err)
	}
	var n int
	if cut, err := EachJSON([]byte(`[1,2,3]`), func(int) bool { n++; return n < 2 }); err != nil || cut || n != 2 {
		t.Errorf("stop early: n=%d cut=%v err=%v", n, cut, err)
	}
}
