package classify

import (
	"encoding/json"
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify/gen"
)

// BenchmarkFlatten compares the single-pass flattener with encoding/json +
// FromJSON on generated documents.
func BenchmarkFlatten(b *testing.B) {
	g := gen.New(3)
	var docs [][]byte
	size := 0
	for i := 0; i < 2000; i++ {
		d := g.Next().JSON
		docs = append(docs, d)
		size += len(d)
	}
	b.Run("FromJSONBytes", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				if _, err := FromJSONBytes(d); err != nil {
					b.Fatal(err)
				}
			}
		}
		reportCPU(b, c0, size)
	})
	b.Run("encoding-json+FromJSON", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		c0 := cpuTime()
		for i := 0; i < b.N; i++ {
			for _, d := range docs {
				var v any
				if err := json.Unmarshal(d, &v); err != nil {
					b.Fatal(err)
				}
				FromJSON(v)
			}
		}
		reportCPU(b, c0, size)
	})
}
