package classify

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify/gen"
	"github.com/leakwatch/leakwatch/internal/finding"
)

// The benchmarks run over a generated corpus of breach-shaped JSON
// documents. Its size is LW_BENCH_MB megabytes (default 16; the README
// numbers use 128 via scripts/bench-classify.sh). It is generated once per
// process into a temp file and read back.

var (
	corpusOnce sync.Once
	corpusPath string
	corpusErr  error
)

func benchCorpus(b *testing.B) []byte {
	mb := 16
	if s := os.Getenv("LW_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			mb = n
		}
	}
	corpusOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lw-classify-bench")
		if err != nil {
			corpusErr = err
			return
		}
		corpusPath = filepath.Join(dir, "corpus.jsonl")
		f, err := os.Create(corpusPath)
		if err != nil {
			corpusErr = err
			return
		}
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := gen.New(42).WriteCorpus(w, int64(mb)<<20); err != nil {
			corpusErr = err
			return
		}
		if err := w.Flush(); err != nil {
			corpusErr = err
			return
		}
		corpusErr = f.Close()
	})
	if corpusErr != nil {
		b.Fatal(corpusErr)
	}
	data, err := os.ReadFile(corpusPath)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// datasetSize is how many records one Classify call gets (a prober's
// sample is ~200; larger batches amortise nothing the engine caches).
const datasetSize = 200

// BenchmarkClassify measures the classifier alone over flattened records:
// bytes are the JSON bytes of the documents classified.
func BenchmarkClassify(b *testing.B) {
	data := benchCorpus(b)
	var recs []Record
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		r, err := FromJSONBytes(line)
		if err != nil {
			b.Fatal(err)
		}
		recs = append(recs, r)
	}
	e := testEngine(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		classifyAll(e, recs)
	}
	reportCPU(b, c0, len(data))
}

// cpuTime is the process's user+system CPU time. On a shared machine wall
// time says little; CPU seconds per megabyte is the per-core throughput.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds MB per CPU-second (all threads, GC included).
func reportCPU(b *testing.B, c0 time.Duration, size int) {
	b.StopTimer()
	cpu := cpuTime() - c0
	if cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/(1<<20)/cpu.Seconds(), "MB/cpu-s")
	}
}

func classifyAll(e *RuleClassifier, recs []Record) {
	for i := 0; i < len(recs); i += datasetSize {
		j := min(i+datasetSize, len(recs))
		e.Classify(Input{Sample: recs[i:j], Records: finding.Int64(2_400_000)})
	}
}

// BenchmarkClassifyJSON measures the whole path from JSON bytes:
// flattening (FromJSONBytes) plus classification.
func BenchmarkClassifyJSON(b *testing.B) {
	data := benchCorpus(b)
	lines := bytes.Split(data, []byte{'\n'})
	e := testEngine(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	recs := make([]Record, 0, datasetSize)
	c0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, line := range lines {
			if len(line) == 0 {
				continue
			}
			r, err := FromJSONBytes(line)
			if err != nil {
				b.Fatal(err)
			}
			recs = append(recs, r)
			if len(recs) == datasetSize {
				e.Classify(Input{Sample: recs, Records: finding.Int64(2_400_000)})
				recs = recs[:0]
			}
		}
	}
	reportCPU(b, c0, len(data))
}
