// Command classify-bench measures the classifier over a JSON-lines corpus
// of breach-shaped documents (generated with -gen if the file is missing):
// documents are read and flattened one by one and classified in datasets of
// -dataset records, as a prober's sample would be, so memory stays bounded.
// It prints throughput per wall second and per CPU second, allocations and
// peak RSS. scripts/bench-classify.sh runs it.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/classify/gen"
	"github.com/leakwatch/leakwatch/internal/finding"
)

func main() {
	corpus := flag.String("corpus", "/tmp/leakwatch-classify-corpus.jsonl", "JSON-lines corpus")
	genMB := flag.Int("gen", 128, "generate this many MB into -corpus when it is missing")
	dataset := flag.Int("dataset", 200, "records per Classify call")
	prof := flag.String("cpuprofile", "", "write a CPU profile")
	repeat := flag.Int("repeat", 1, "passes over the corpus; the best is reported last")
	dump := flag.String("dump", "", "write every dataset's output as JSON lines (to compare versions)")
	memprof := flag.String("memprofile", "", "write an allocation profile (every allocation sampled)")
	flag.Parse()
	if *memprof != "" {
		runtime.MemProfileRate = 1
		defer writeMemProfile(*memprof)
	}
	if *prof != "" {
		pf, err := os.Create(*prof)
		if err == nil && pprof.StartCPUProfile(pf) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	best := 0.0
	for i := 0; i < *repeat; i++ {
		mbps, err := run(*corpus, *genMB, *dataset, *dump)
		if err != nil {
			fmt.Fprintln(os.Stderr, "classify-bench:", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		best = max(best, mbps)
		fmt.Println()
	}
	if *repeat > 1 {
		fmt.Printf("best of %d passes: %.1f MB per CPU-second\n", *repeat, best)
	}
}

func run(path string, genMB, dataset int, dump string) (float64, error) {
	if _, err := os.Stat(path); os.IsNotExist(err) {
		if err := generate(path, genMB); err != nil {
			return 0, err
		}
	}
	e, err := classify.New(classify.Options{Key: []byte("classify-bench-key-0123456789abcdef")})
	if err != nil {
		return 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	c0, t0 := cpu(), time.Now()
	var bytes, docs int64
	classes := map[string]int{}
	recs := make([]classify.Record, 0, dataset)
	var enc *json.Encoder
	if dump != "" {
		df, err := os.Create(dump)
		if err != nil {
			return 0, err
		}
		defer df.Close()
		dw := bufio.NewWriter(df)
		defer dw.Flush()
		enc = json.NewEncoder(dw)
	}
	flush := func() {
		out := e.Classify(classify.Input{Sample: recs, Records: finding.Int64(2_400_000)})
		if enc != nil {
			_ = enc.Encode(out)
		}
		for _, c := range out.Classes {
			classes[c.Class]++
		}
		recs = recs[:0]
	}
	for sc.Scan() {
		line := sc.Bytes()
		bytes += int64(len(line)) + 1
		docs++
		r, err := classify.FromJSONBytes(line)
		if err != nil {
			return 0, fmt.Errorf("document %d: %w", docs, err)
		}
		recs = append(recs, r)
		if len(recs) == dataset {
			flush()
		}
	}
	if len(recs) > 0 {
		flush()
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	wall, cpuT := time.Since(t0), cpu()-c0
	runtime.ReadMemStats(&ms1)
	mb := float64(bytes) / (1 << 20)
	fmt.Printf("corpus            %s (%.1f MB, %d documents, datasets of %d)\n", path, mb, docs, dataset)
	fmt.Printf("GOMAXPROCS        %d\n", runtime.GOMAXPROCS(0))
	fmt.Printf("wall              %.2fs  → %.1f MB/s\n", wall.Seconds(), mb/wall.Seconds())
	fmt.Printf("cpu (all threads) %.2fs  → %.1f MB per CPU-second\n", cpuT.Seconds(), mb/cpuT.Seconds())
	fmt.Printf("allocations       %d (%.1f per document), %.1f MB allocated\n", ms1.Mallocs-ms0.Mallocs, float64(ms1.Mallocs-ms0.Mallocs)/float64(docs), float64(ms1.TotalAlloc-ms0.TotalAlloc)/(1<<20))
	fmt.Printf("peak RSS          %s\n", peakRSS())
	fmt.Printf("load average      %s\n", loadavg())
	return mb / cpuT.Seconds(), nil
}

func writeMemProfile(path string) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "classify-bench:", err)
		return
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintln(os.Stderr, "classify-bench:", err)
	}
}

func generate(path string, mb int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := gen.New(42).WriteCorpus(w, int64(mb)<<20)
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "generated %d documents (%d MB) into %s\n", n, mb, path)
	return f.Close()
}

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
