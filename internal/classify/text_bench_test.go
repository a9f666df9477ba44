package classify

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// BenchmarkClassifyPresidioText measures free text: each sentence of
// Presidio's synthetic set (LEAKWATCH_PRESIDIO_DATA, not part of this
// repository) classified on its own as a "message" value, the way
// TestPresidioSynth scores it. Bytes are the sentences' bytes.
func BenchmarkClassifyPresidioText(b *testing.B) {
	path := os.Getenv("LEAKWATCH_PRESIDIO_DATA")
	if path == "" {
		b.Skip("LEAKWATCH_PRESIDIO_DATA not set (path of Presidio's synth_dataset_v2.json)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var rows []struct {
		FullText string `json:"full_text"`
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		b.Fatal(err)
	}
	recs := make([]Record, 0, len(rows))
	size := 0
	for _, r := range rows {
		recs = append(recs, FromText("message", r.FullText))
		size += len(r.FullText)
	}
	e := testEngine(b)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for j := range recs {
			e.Classify(Input{Sample: recs[j : j+1], Records: finding.Int64(1)})
		}
	}
	reportCPU(b, c0, size)
}
