package classify

import (
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify/gen"
	"github.com/leakwatch/leakwatch/internal/finding"
)

// BenchmarkKinds classifies 200-record datasets of one document kind each.
func BenchmarkKinds(b *testing.B) {
	e := testEngine(b)
	for _, kind := range gen.Kinds {
		g := gen.New(5)
		var recs []Record
		size := 0
		for i := 0; i < 200; i++ {
			d := g.Kind(kind)
			size += len(d.JSON)
			r, _ := FromJSONBytes(d.JSON)
			recs = append(recs, r)
		}
		b.Run(kind, func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			c0 := cpuTime()
			for i := 0; i < b.N; i++ {
				e.Classify(Input{Sample: recs, Records: finding.Int64(1000)})
			}
			reportCPU(b, c0, size)
		})
	}
}
