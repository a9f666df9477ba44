package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// errHelp is returned after --help was printed.
var errHelp = errors.New("help printed")

const scanUsage = `Usage: leakwatch scan [flags] TARGET...

Sweeps the targets for open ports, identifies every data store that answers
(by its response, also on non-standard ports), decides whether it is exposed
or protected, counts its datasets and records from metadata, and classifies a
small bounded sample. Nothing on a target is ever changed.

TARGET is an IPv4/IPv6 address, a CIDR (127.0.0.0/24), a range
(127.0.0.1-127.0.0.50), a hostname, host:port, or "-" to read targets from
stdin (plain host:port, masscan -oL lines, naabu JSON lines). Without a
target, leakwatch scans 127.0.0.1.

Examples:
  leakwatch scan 127.0.0.0/24
  leakwatch scan --ports 9200,6379 --format jsonl -o findings.jsonl db.internal.example
  masscan ... -oL - | leakwatch scan -

Flags:
`

type scanFlags struct {
	ports          string
	excludes       []string
	maxHosts       int
	rate           float64
	concurrency    int
	probeWorkers   int
	connectTimeout time.Duration
	probeTimeout   time.Duration
	ioTimeout      time.Duration
	sampleRecords  int
	sampleBytes    string
	maxDatasets    int
	maxDuration    time.Duration
	memoryCeiling  string
	format         string
	outFile        string
	exitZero       bool
	probers        string
	portProbers    bool
	noDefaultCreds bool
	keyFile        string
	verbose        bool
	progress       string
	trace          bool
}

func (a *app) scanFlagSet(sf *scanFlags) *pflag.FlagSet {
	fs := pflag.NewFlagSet("scan", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&sf.ports, "ports", "", "comma-separated ports and ranges to sweep (default: the well-known ports of every prober)")
	fs.StringArrayVar(&sf.excludes, "exclude", nil, "target spec never to contact (repeatable; same syntax as TARGET)")
	d := limits.DefaultProbe
	fs.IntVar(&sf.maxHosts, "max-hosts", d.MaxHosts, "refuse scopes with more addresses than this")
	fs.Float64Var(&sf.rate, "rate", d.Rate, "global limit on new connections per second (0: no limit)")
	fs.IntVar(&sf.concurrency, "concurrency", d.Concurrency, "TCP connects in flight at once")
	fs.IntVar(&sf.probeWorkers, "probe-workers", d.Workers, "open ports probed at once (waiting on silent ports is cheap; buffered reads are bounded by --memory-ceiling)")
	fs.DurationVar(&sf.connectTimeout, "connect-timeout", d.ConnectTimeout, "deadline of each discovery connect")
	fs.DurationVar(&sf.probeTimeout, "probe-timeout", d.Timeout, "deadline for probing one host:port, all probers included")
	fs.DurationVar(&sf.ioTimeout, "io-timeout", d.IOTimeout, "deadline of each read or write while probing")
	fs.IntVar(&sf.sampleRecords, "sample-records", d.SampleRecords, "records sampled per dataset (0: metadata only)")
	fs.StringVar(&sf.sampleBytes, "sample-bytes", sizeString(d.SampleBytes), "bytes sampled per dataset at most")
	fs.IntVar(&sf.maxDatasets, "max-datasets", d.MaxDatasets, "datasets sampled per service, largest first")
	fs.DurationVar(&sf.maxDuration, "max-duration", 0, "stop the whole scan after this long and report what was found, plus every open endpoint not finished as unknown; exit 4 unless exposed found (0: no limit)")
	fs.StringVar(&sf.memoryCeiling, "memory-ceiling", sizeString(d.MemoryCeiling), "bytes all concurrent probes may hold of what they read; past it, reads stop and findings are flagged memory-ceiling")
	fs.StringVar(&sf.format, "format", "auto", "output: table, jsonl, sarif, ocsf (auto: table on a terminal, jsonl otherwise)")
	fs.StringVarP(&sf.outFile, "output", "o", "", "write findings to this file instead of stdout")
	fs.BoolVar(&sf.exitZero, "exit-zero", false, "exit 0 even when exposed data stores are found")
	fs.StringVar(&sf.probers, "probers", "", "comma-separated probers to use (default: all; see 'leakwatch probers')")
	fs.BoolVar(&sf.portProbers, "port-probers-only", false, "on each open port try only the probers that claim it (faster; misses services on unusual ports)")
	fs.BoolVar(&sf.noDefaultCreds, "no-default-creds", false, "never try well-known factory credentials (e.g. guest/guest)")
	fs.StringVar(&sf.keyFile, "key-file", defaultKeyFile(), "per-installation secret key for keyed hashes and canaries (created if missing)")
	fs.BoolVarP(&sf.verbose, "verbose", "v", false, "list every dataset under the table")
	fs.StringVar(&sf.progress, "progress", "auto", "progress on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&sf.trace, "trace", false, "print every open port's prober attempts (outcome, time, reason) on stderr")
	fs.BoolP("help", "h", false, "show this help")
	return fs
}

func defaultKeyFile() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "leakwatch", "key")
	}
	return ".leakwatch-key"
}

func (a *app) scan(ctx context.Context, args []string) (int, error) {
	var sf scanFlags
	fs := a.scanFlagSet(&sf)
	if err := fs.Parse(args); err != nil {
		return exitUsage, usagef("scan: %v (see 'leakwatch scan --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, scanUsage+flagUsages(fs))
		return exitOK, errHelp
	}
	registry := all.Registry()
	if sf.probers != "" {
		sub, err := registry.Subset(splitList(sf.probers))
		if err != nil {
			return exitUsage, usagef("scan: --probers: %v", err)
		}
		registry = sub
	}
	ports := registry.Ports()
	if sf.ports != "" {
		p, err := limits.ParsePorts(sf.ports)
		if err != nil {
			return exitUsage, usagef("scan: --ports: %v", err)
		}
		ports = p
	}
	format, err := parseFormat(sf.format, sf.outFile, a.stdout)
	if err != nil {
		return exitUsage, usagef("scan: --format: %v", err)
	}
	if err := sf.validate(); err != nil {
		return exitUsage, usagef("scan: %v", err)
	}
	budget, err := sf.budget()
	if err != nil {
		return exitUsage, usagef("scan: %v", err)
	}
	// scan.Run caps the probe workers to the file-descriptor limit.
	ceiling, err := limits.ParseSize(sf.memoryCeiling)
	if err != nil || limits.CheckMemoryCeiling(ceiling) != nil {
		return exitUsage, usagef("scan: --memory-ceiling: %q: want 1MiB to 64GiB", sf.memoryCeiling)
	}
	// What probes read is bounded by the ceiling; what they drop is garbage
	// the collector must return before the heap doubles (GOGC): a soft
	// limit a little above the ceiling keeps the process near it under
	// hostile streams. GOMEMLIMIT, if set, wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(ceiling + 32<<20)
	}
	targets := fs.Args()
	if len(targets) == 0 {
		targets = []string{"127.0.0.1"}
		fmt.Fprintln(a.stderr, "leakwatch: no targets given; scanning 127.0.0.1 (loopback)")
	}

	// Scope: parse, resolve once, count — all before any connection.
	sc, err := scope.Build(ctx, scope.Options{
		Targets: targets, Excludes: sf.excludes, Ports: ports, MaxHosts: sf.maxHosts, Stdin: a.stdin,
	})
	if err != nil {
		return exitUsage, usagef("%v", err)
	}

	key, err := classify.LoadOrCreateKey(sf.keyFile)
	if err != nil {
		return exitFailed, fmt.Errorf("key: %w", err)
	}
	canaries, err := loadCanaries(canaryFile(sf.keyFile))
	if err != nil {
		return exitFailed, err
	}
	clf, err := classify.New(classify.Options{Key: key, Canaries: canaries})
	if err != nil {
		return exitFailed, fmt.Errorf("classifier: %w", err)
	}
	eng, err := engine.New(engine.Options{
		Registry: registry, Classifier: clf, Budget: budget,
		AllProbers: !sf.portProbers, DefaultCredentials: !sf.noDefaultCreds,
		InScope: sc.Allows, MemoryCeiling: ceiling,
	})
	if err != nil {
		return exitFailed, err
	}
	if sf.maxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, sf.maxDuration, errMaxDuration)
		defer cancel()
	}

	out := a.stdout
	if sf.outFile != "" {
		f, err := os.Create(sf.outFile)
		if err != nil {
			return exitFailed, fmt.Errorf("output: %w", err)
		}
		defer f.Close()
		out = f
	}
	w := output.New(format, out, output.Options{
		Color: sf.outFile == "" && output.ColorAuto(a.stdout), Verbose: sf.verbose, ToolVersion: toolVersion(),
	})

	sweeper := sweep.Options{
		Concurrency: sf.concurrency, Rate: sf.rate, Timeout: sf.connectTimeout, InScope: sc.Allows,
	}
	var sweepStats sweep.Stats
	stats := &scan.Stats{}
	prog := newProgress(a.stderr, sf.progress, sc.Endpoints(), &sweepStats, stats)
	prog.start()
	sum, runErr := scan.Run(ctx, scan.Config{
		Endpoints:    sc.All(),
		Discover:     scan.Sweep(sweeper, &sweepStats, nil),
		Engine:       eng,
		ProbeWorkers: sf.probeWorkers,
		OnFinding:    w.Write,
		OnReport:     a.tracer(sf.trace),
	}, stats)
	prog.stop()
	if err := w.Close(); err != nil && runErr == nil {
		runErr = fmt.Errorf("output: %w", err)
	}
	fmt.Fprintf(a.stderr, "leakwatch: %s checked, %d open, %s: %d exposed, %d protected, %d unknown (%s)\n",
		plural(sweepStats.Attempted.Load(), "endpoint"), sum.Open, plural(sum.Findings, "service"),
		sum.Exposed, sum.Protected, sum.Unknown, sum.Duration.Round(time.Millisecond))
	if sum.Partial > 0 || sum.Silent > 0 {
		fmt.Fprintf(a.stderr, "leakwatch: %d partial (a limit cut the probe; see flags and error), %d open silent (no answer to any protocol)\n",
			sum.Partial, sum.Silent)
	}
	if runErr != nil {
		return exitFailed, runErr
	}
	return scanExit(a.stderr, sum, sf.exitZero), nil
}

// errMaxDuration is the cause of a scan stopped by --max-duration.
var errMaxDuration = errors.New("--max-duration reached")

// scanExit is the exit code of a finished scan. A scan cut short never
// exits 0: what it did not check may be exposed.
func scanExit(stderr io.Writer, sum scan.Summary, exitZero bool) int {
	exposed := sum.Exposed > 0 && !exitZero
	switch {
	case sum.Stopped != nil && !errors.Is(sum.Stopped, errMaxDuration):
		fmt.Fprintf(stderr, "leakwatch: interrupted; findings above are partial (%d open endpoints not probed, reported as unknown)\n", sum.Unfinished)
		return exitInterrupted
	case sum.Stopped != nil:
		fmt.Fprintf(stderr, "leakwatch: scan cut short by --max-duration; findings above are partial (%d open endpoints not probed, reported as unknown; endpoints not yet swept are not listed)\n", sum.Unfinished)
		if exposed {
			return exitExposed
		}
		return exitIncomplete
	case exposed:
		return exitExposed
	}
	return exitOK
}

// validate checks the numeric flags' ranges (limits' bounds): a value
// past them is a typo or an overflow, refused with exit 2 rather than
// wrapped silently.
func (sf *scanFlags) validate() error {
	for _, c := range []struct {
		name string
		v    int
		min  int
	}{
		{"--concurrency", sf.concurrency, 1}, {"--probe-workers", sf.probeWorkers, 1},
		{"--sample-records", sf.sampleRecords, 0}, {"--max-datasets", sf.maxDatasets, 0},
	} {
		if err := limits.CheckCount(c.v, c.min); err != nil {
			return fmt.Errorf("%s %w", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		v    time.Duration
		zero bool // 0 allowed (no limit)
	}{
		{"--connect-timeout", sf.connectTimeout, false}, {"--probe-timeout", sf.probeTimeout, false},
		{"--io-timeout", sf.ioTimeout, false}, {"--max-duration", sf.maxDuration, true},
	} {
		if err := limits.CheckDuration(c.v, c.zero); err != nil {
			return fmt.Errorf("%s %w", c.name, err)
		}
	}
	if err := limits.CheckRate(sf.rate); err != nil { // also refuses NaN
		return fmt.Errorf("--rate %w", err)
	}
	return nil
}

// sizeString writes a size default for --help ("1MiB").
func sizeString(n int64) string {
	for _, u := range []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// tracer prints each probed endpoint's attempts, for "why was this port
// not recognised" questions.
func (a *app) tracer(on bool) func(*engine.Report) {
	if !on {
		return nil
	}
	start := time.Now()
	return func(r *engine.Report) {
		var b strings.Builder
		fmt.Fprintf(&b, "trace +%s %s: %s\n", time.Since(start).Round(time.Millisecond), r.Target.HostPort(), r.Outcome())
		for _, at := range r.Attempts {
			fmt.Fprintf(&b, "  %-16s %-16s %8s", at.Prober, at.Outcome, at.Duration.Round(time.Millisecond))
			if at.Err != nil {
				fmt.Fprintf(&b, "  %s", at.Reason())
			}
			b.WriteByte('\n')
		}
		fmt.Fprint(a.stderr, b.String())
	}
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

func (sf *scanFlags) budget() (probe.Budget, error) {
	b := probe.DefaultBudget()
	b.Timeout = sf.probeTimeout
	b.IOTimeout = sf.ioTimeout
	b.SampleRecords = sf.sampleRecords
	b.MaxDatasets = sf.maxDatasets
	n, err := limits.ParseSize(sf.sampleBytes)
	if err != nil {
		return b, fmt.Errorf("--sample-bytes: %w", err)
	}
	if n > limits.MaxSampleBytes {
		return b, fmt.Errorf("--sample-bytes %s: at most %dMiB", sf.sampleBytes, limits.MaxSampleBytes>>20)
	}
	b.SampleBytes = n
	if err := b.Validate(); err != nil {
		return b, err
	}
	return b, nil
}

func parseFormat(s, outFile string, stdout io.Writer) (output.Format, error) {
	if s == "auto" {
		if outFile == "" && output.IsTerminal(stdout) {
			return output.FormatTable, nil
		}
		return output.FormatJSONL, nil
	}
	return output.ParseFormat(s)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (a *app) probers(args []string) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprintln(a.stdout, "Usage: leakwatch probers\n\nLists the built-in probers and the ports each claims.")
		return errHelp
	}
	if len(args) > 0 {
		return usagef("probers takes no arguments")
	}
	for _, p := range all.Probers() {
		ports := make([]string, 0)
		for _, port := range p.DefaultPorts() {
			ports = append(ports, strconv.Itoa(port))
		}
		fmt.Fprintf(a.stdout, "%-16s %s\n", p.Name(), strings.Join(ports, ","))
	}
	return nil
}
