// Package limits is the one source of leakwatch's probing defaults, their
// upper bounds, and the parsing of sizes and port lists. `leakwatch scan`'s
// flags, the `probe:` section of leakwatch.yaml, probe.DefaultBudget and the
// sweep all take their defaults from DefaultProbe, so that they cannot drift
// apart (a test in cmd/leakwatch compares the flag defaults with the config
// defaults). It imports nothing of leakwatch: every layer may use it.
package limits

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Probe is the set of probing tunables shared by `scan` and `serve`.
type Probe struct {
	// Rate caps new connections per second (0: no limit).
	Rate float64
	// Concurrency is TCP connects in flight during discovery.
	Concurrency int
	// Workers is how many open endpoints are probed at once.
	Workers int
	// ConnectTimeout bounds each discovery connect.
	ConnectTimeout time.Duration
	// Timeout bounds probing one host:port, all probers included.
	Timeout time.Duration
	// IOTimeout bounds each read or write while probing.
	IOTimeout time.Duration
	// SampleRecords is the records sampled per dataset.
	SampleRecords int
	// SampleBytes is the bytes sampled per dataset at most.
	SampleBytes int64
	// MaxDatasets is the datasets sampled per service, largest first.
	MaxDatasets int
	// MemoryCeiling bounds the bytes all concurrent probes of one engine
	// may hold of what they read.
	MemoryCeiling int64
	// MaxHosts caps the addresses of one scope.
	MaxHosts int
}

// DefaultProbe is the default of every probing tunable, for the CLI flags
// and the config file alike.
var DefaultProbe = Probe{
	Rate:           2000,
	Concurrency:    512,
	Workers:        512,
	ConnectTimeout: 1500 * time.Millisecond,
	Timeout:        60 * time.Second,
	IOTimeout:      5 * time.Second,
	SampleRecords:  200,
	SampleBytes:    1 << 20,
	MaxDatasets:    20,
	MemoryCeiling:  128 << 20,
	MaxHosts:       65536,
}

// Upper (and lower) bounds of the tunables: a value past them is a typo or
// an overflow, refused rather than wrapped silently.
const (
	MaxSampleBytes   = 64 << 20
	MinMemoryCeiling = 1 << 20
	MaxMemoryCeiling = 64 << 30
	MaxDuration      = 7 * 24 * time.Hour
	MaxCount         = 1_000_000
	MaxRate          = 100_000_000
	// MaxSize bounds any size written in a config file or flag.
	MaxSize = 1 << 40
)

// CheckCount checks a count tunable: min to MaxCount.
func CheckCount(v, min int) error {
	if v < min || v > MaxCount {
		return fmt.Errorf("%d: want %d to %d", v, min, MaxCount)
	}
	return nil
}

// CheckDuration checks a duration tunable: more than 0 (or 0 when zeroOK,
// meaning no limit) and at most MaxDuration.
func CheckDuration(d time.Duration, zeroOK bool) error {
	if d < 0 || (d == 0 && !zeroOK) || d > MaxDuration {
		return fmt.Errorf("%s: want more than 0 and at most %s", d, MaxDuration)
	}
	return nil
}

// CheckRate checks a rate: 0 (no limit) to MaxRate; NaN is refused.
func CheckRate(r float64) error {
	if !(r >= 0 && r <= MaxRate) {
		return fmt.Errorf("%v: want 0 to %d", r, MaxRate)
	}
	return nil
}

// CheckSampleBytes checks a per-dataset sample size.
func CheckSampleBytes(n int64) error {
	if n <= 0 || n > MaxSampleBytes {
		return fmt.Errorf("%d bytes: want 1 to %dMiB", n, MaxSampleBytes>>20)
	}
	return nil
}

// CheckMemoryCeiling checks a memory ceiling: 1MiB to 64GiB.
func CheckMemoryCeiling(n int64) error {
	if n < MinMemoryCeiling || n > MaxMemoryCeiling {
		return fmt.Errorf("%d bytes: want 1MiB to 64GiB", n)
	}
	return nil
}

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}

// ErrSize is returned (wrapped) for a size that is not one.
var ErrSize = errors.New("invalid size")

// ParseSize reads a positive byte count: "1MiB", "512KiB", "2MB",
// "65536". Sizes past MaxSize are refused.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%w %q", ErrSize, s)
	}
	if n > math.MaxInt64/mult || n*mult > MaxSize {
		return 0, fmt.Errorf("size %q too large", s)
	}
	return n * mult, nil
}

// ParsePortSpec reads one port ("6379") or range ("8000-8010").
func ParsePortSpec(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err = strconv.Atoi(strings.TrimSpace(a))
	if err != nil || lo < 1 || lo > 65535 {
		return 0, 0, fmt.Errorf("invalid port %q (1-65535)", s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(strings.TrimSpace(b)); err != nil || hi < lo || hi > 65535 {
			return 0, 0, fmt.Errorf("invalid port range %q", s)
		}
	}
	return lo, hi, nil
}

// Ports collects port specs in order, without duplicates.
type Ports struct {
	list []int
	seen map[int]bool
}

// Add adds the ports of one spec.
func (p *Ports) Add(spec string) error {
	lo, hi, err := ParsePortSpec(spec)
	if err != nil {
		return err
	}
	if p.seen == nil {
		p.seen = map[int]bool{}
	}
	for q := lo; q <= hi; q++ {
		if !p.seen[q] {
			p.seen[q] = true
			p.list = append(p.list, q)
		}
	}
	return nil
}

// List is the ports added so far, in order of first appearance.
func (p *Ports) List() []int { return p.list }

// ParsePorts reads a comma-separated list of ports and ranges,
// "9200,6379,8000-8010" (empty items are skipped; at least one port).
func ParsePorts(s string) ([]int, error) {
	var ps Ports
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		if err := ps.Add(part); err != nil {
			return nil, err
		}
	}
	if len(ps.List()) == 0 {
		return nil, errors.New("no ports")
	}
	return ps.List(), nil
}
