package classify

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify/gen"
	"github.com/leakwatch/leakwatch/internal/finding"
)

// TestNoRawValueInOutput classifies generated breach-shaped datasets and
// greps the JSON of every output for every raw value the generator placed.
func TestNoRawValueInOutput(t *testing.T) {
	e := testEngine(t)
	g := gen.New(7)
	for ds := 0; ds < 20; ds++ {
		var recs []Record
		var raws []string
		kind := gen.Kinds[ds%len(gen.Kinds)]
		for i := 0; i < 100; i++ {
			d := g.Kind(kind)
			if i%3 == 0 {
				d = g.Next()
			}
			r, err := FromJSONBytes(d.JSON)
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
			raws = append(raws, d.Raw...)
		}
		out := e.Classify(Input{Sample: recs, Records: finding.Int64(100000)})
		b, err := json.Marshal(out)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, raw := range raws {
			if len(raw) < 6 {
				continue
			}
			enc, _ := json.Marshal(raw)
			if strings.Contains(text, raw) || strings.Contains(text, strings.Trim(string(enc), `"`)) {
				t.Fatalf("dataset %d (%s): raw value %q in output", ds, kind, raw)
			}
		}
		checkNoRaw(t, out, raws)
		if len(out.Classes) == 0 && kind != "products" && kind != "metrics" {
			t.Fatalf("dataset %d (%s): no classes", ds, kind)
		}
	}
}

// TestConcurrentClassify runs one engine from several goroutines (run with
// -race) and checks the answers agree.
func TestConcurrentClassify(t *testing.T) {
	e := testEngine(t)
	g := gen.New(99)
	var recs []Record
	for i := 0; i < 300; i++ {
		r, _ := FromJSONBytes(g.Next().JSON)
		recs = append(recs, r)
	}
	want := summary(e.Classify(Input{Sample: recs, Records: finding.Int64(1000)}))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 3; i++ {
				if got := summary(e.Classify(Input{Sample: recs, Records: finding.Int64(1000)})); got != want {
					t.Errorf("concurrent result differs:\n%s\n%s", got, want)
				}
			}
		}()
	}
	wg.Wait()
}

func summary(o Output) string {
	var b strings.Builder
	for _, c := range o.Classes {
		b.WriteString(c.Class)
		b.WriteByte(':')
		b.WriteString(strings.Join(c.Hashes, ","))
		b.WriteByte(' ')
	}
	return b.String()
}
