// Package sweep finds open TCP ports by connecting: a fixed pool of workers
// dials endpoints streamed from a scope, under a global rate limit and a
// per-connection deadline, and closes each connection as soon as it is
// established. It never sends a byte.
package sweep

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/time/rate"

	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
)

// Defaults for zero Options fields (limits.DefaultProbe, shared with the
// CLI and the config).
var (
	DefaultConcurrency = limits.DefaultProbe.Concurrency
	DefaultTimeout     = limits.DefaultProbe.ConnectTimeout
)

// localRetries is how often a dial that failed for a local reason (out of
// file descriptors or ephemeral ports) is retried before it counts as failed.
const localRetries = 3

// Options tune a sweep.
type Options struct {
	// Concurrency is the number of workers, i.e. connections in flight
	// (0: DefaultConcurrency). It is capped to half the file-descriptor
	// limit, leaving the rest to probes.
	Concurrency int
	// Rate caps new connections per second over the whole sweep
	// (0: unlimited).
	Rate float64
	// Timeout bounds each connect (0: DefaultTimeout).
	Timeout time.Duration
	// InScope is asked before every dial (address and port); an endpoint
	// it refuses is skipped. Required.
	InScope func(netip.AddrPort) bool
}

// Stats are a sweep's live counters, safe to read (Load or Snapshot) from
// any goroutine while it runs.
type Stats struct {
	// Attempted connects: dials started (in-flight ones included; ones
	// abandoned because the sweep was cancelled are taken back).
	Attempted atomic.Int64
	// Open: the connect succeeded.
	Open atomic.Int64
	// Refused: the peer answered with a reset (port closed).
	Refused atomic.Int64
	// Timeout: no answer within the timeout (filtered or host down).
	Timeout atomic.Int64
	// Unreachable: the network said host or network unreachable.
	Unreachable atomic.Int64
	// Failed: other errors, including local resource exhaustion.
	Failed atomic.Int64
	// Skipped: endpoints not dialed because InScope refused them.
	Skipped atomic.Int64
}

// Snapshot reads all counters.
func (s *Stats) Snapshot() Counts {
	return Counts{
		Attempted:   s.Attempted.Load(),
		Open:        s.Open.Load(),
		Refused:     s.Refused.Load(),
		Timeout:     s.Timeout.Load(),
		Unreachable: s.Unreachable.Load(),
		Failed:      s.Failed.Load(),
		Skipped:     s.Skipped.Load(),
	}
}

// Counts are Stats read at one moment.
type Counts struct {
	Attempted, Open, Refused, Timeout, Unreachable, Failed, Skipped int64
}

// Done is the number of endpoints finished (dialed to an outcome, or
// skipped).
func (c Counts) Done() int64 {
	return c.Open + c.Refused + c.Timeout + c.Unreachable + c.Failed + c.Skipped
}

// Sweeper dials endpoints with fixed options.
type Sweeper struct {
	conc    int
	timeout time.Duration
	limiter *rate.Limiter
	inScope func(netip.AddrPort) bool
	dialer  net.Dialer
	stats   *Stats
	// aborted is set when cancellation left an endpoint unchecked.
	aborted atomic.Bool
}

// Run sweeps endpoints with opts (see New and Sweeper.Run), counting into
// stats (nil: not kept).
func Run(ctx context.Context, endpoints iter.Seq[scope.Endpoint], opts Options, stats *Stats, found func(scope.Endpoint)) error {
	s, err := New(opts, stats)
	if err != nil {
		return err
	}
	return s.Run(ctx, endpoints, found)
}

// New checks opts and makes a Sweeper counting into stats (nil: its own).
// It raises the soft file-descriptor limit to the hard one (see
// RaiseFDLimit) and caps the concurrency to it.
func New(opts Options, stats *Stats) (*Sweeper, error) {
	if opts.InScope == nil {
		return nil, errors.New("sweep: no scope check (Options.InScope)")
	}
	if opts.Concurrency < 0 || opts.Rate < 0 || opts.Timeout < 0 {
		return nil, fmt.Errorf("sweep: concurrency, rate and timeout must not be negative")
	}
	if stats == nil {
		stats = &Stats{}
	}
	s := &Sweeper{
		conc:    opts.Concurrency,
		timeout: opts.Timeout,
		inScope: opts.InScope,
		stats:   stats,
	}
	if s.conc == 0 {
		s.conc = DefaultConcurrency
	}
	if s.timeout == 0 {
		s.timeout = DefaultTimeout
	}
	limit, _ := RaiseFDLimit()
	s.conc = CapConcurrency(s.conc, limit)
	if opts.Rate > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.Rate), burst(opts.Rate, s.conc))
	}
	// No keep-alive probes: the connection lives for microseconds.
	s.dialer = net.Dialer{Timeout: s.timeout, KeepAlive: -1}
	return s, nil
}

// burst allows 20 ms worth of connections at once (at least 1, at most one
// per worker), so high rates don't pay a timer per connection while low
// rates stay smooth.
func burst(r float64, conc int) int {
	return max(1, min(int(r/50), conc))
}

// CapConcurrency caps want to half of the file-descriptor limit (0: no
// known limit).
func CapConcurrency(want int, fdLimit uint64) int {
	if fdLimit == 0 {
		return want
	}
	return max(1, min(want, int(min(fdLimit/2, 1<<20))))
}

// Concurrency is the number of workers a Run uses.
func (s *Sweeper) Concurrency() int { return s.conc }

// Stats are the sweeper's live counters.
func (s *Sweeper) Stats() *Stats { return s.stats }

// Run dials every endpoint and calls found for each open one. found is
// called from the worker goroutines, possibly concurrently; while it runs
// its worker waits, so it should hand work off quickly. Run returns when all
// endpoints are done, or ctx's error once it is cancelled (in-flight dials
// are aborted, and not counted).
func (s *Sweeper) Run(ctx context.Context, endpoints iter.Seq[scope.Endpoint], found func(scope.Endpoint)) error {
	jobs := make(chan scope.Endpoint, s.conc)
	var wg sync.WaitGroup
	for range s.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ep := range jobs {
				if ctx.Err() != nil {
					s.aborted.Store(true)
					continue // drain
				}
				if s.check(ctx, ep) && found != nil {
					found(ep)
				}
			}
		}()
	}
	for ep := range endpoints {
		if ctx.Err() != nil {
			s.aborted.Store(true)
			break
		}
		select {
		case jobs <- ep:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	if s.aborted.Load() {
		return ctxErr(ctx)
	}
	return nil
}

// ctxErr is ctx's error, also in the instant after its deadline passed but
// before it is marked done.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return context.DeadlineExceeded
}

// cancelled tells whether ctx is done or past its deadline (a dial bounded
// by the context's deadline fails with a timeout just before the context
// reports it: that is cancellation, not a silent port).
func cancelled(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// check dials one endpoint and tells whether it is open.
func (s *Sweeper) check(ctx context.Context, ep scope.Endpoint) bool {
	if !s.inScope(ep.AddrPort()) {
		s.stats.Skipped.Add(1)
		return false
	}
	for try := 0; ; try++ {
		if s.limiter != nil {
			if err := s.limiter.Wait(ctx); err != nil {
				s.aborted.Store(true)
				return false // cancelled, or the wait would pass the deadline
			}
		}
		s.stats.Attempted.Add(1)
		probe.TraceDial(ctx, ep.AddrPort())
		c, err := s.dialer.DialTCP(ctx, "tcp", netip.AddrPort{}, ep.AddrPort())
		if err == nil {
			c.Close()
			s.stats.Open.Add(1)
			return true
		}
		if cancelled(ctx) {
			s.stats.Attempted.Add(-1)
			s.aborted.Store(true)
			return false
		}
		if isLocal(err) && try < localRetries {
			s.stats.Attempted.Add(-1)
			if sleep(ctx, time.Duration(try+1)*50*time.Millisecond) != nil {
				s.aborted.Store(true)
				return false
			}
			continue
		}
		s.count(err)
		return false
	}
}

func (s *Sweeper) count(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		s.stats.Refused.Add(1)
	case errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		s.stats.Timeout.Add(1)
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH):
		s.stats.Unreachable.Add(1)
	default:
		s.stats.Failed.Add(1)
	}
}

// isLocal tells whether a dial failed for lack of local resources, so that
// the endpoint was never really checked.
func isLocal(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENOBUFS)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
