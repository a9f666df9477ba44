package probe

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leakwatch/leakwatch/internal/limits"
)

// ErrMemoryCeiling means a read was refused because the process-wide
// ceiling on bytes buffered by concurrent probes stayed exhausted for the
// whole wait. It wraps ErrBudget: a prober treats it like its own budget.
var ErrMemoryCeiling = fmt.Errorf("memory ceiling for buffered reads reached: %w", ErrBudget)

// Flags the engine sets on a finding when a limit cut what it could read or
// decide.
const (
	// FlagPartial: the finding is what was proven before a limit (time,
	// bytes, memory) or a failure stopped the probe; Finding.Error says why.
	FlagPartial = "partial"
	// FlagByteBudget: the target's byte budget (all probers together) ran out.
	FlagByteBudget = "byte-budget"
	// FlagMemoryCeiling: the process-wide ceiling on buffered reads was
	// reached while this target was read.
	FlagMemoryCeiling = "memory-ceiling"
	// FlagProbeTimeout: the per-target deadline (--probe-timeout) passed.
	FlagProbeTimeout = "probe-timeout"
	// FlagScanStopped: the scan was cut short (--max-duration, interrupt)
	// while this target was being probed or waiting to be.
	FlagScanStopped = "scan-stopped"
	// FlagProberPanic: a prober crashed on this target's answers.
	FlagProberPanic = "prober-panic"
)

// DefaultMemoryCeiling bounds the bytes read and still held by all
// concurrent probes of one engine.
var DefaultMemoryCeiling = limits.DefaultProbe.MemoryCeiling

// MemoryPool is a process-wide byte semaphore: every byte a probe reads is
// drawn from it and given back only when the probe of that target ends, so
// what concurrent probes can have buffered is bounded whatever the number
// of hostile targets. When it is exhausted a read waits a bounded time for
// other targets to finish, then fails with ErrMemoryCeiling (never blocks
// forever).
type MemoryPool struct {
	limit int64
	mu    sync.Mutex
	used  int64
	freed chan struct{} // closed and replaced on every release
	peak  int64
}

// NewMemoryPool makes a pool of limit bytes (≤ 0: DefaultMemoryCeiling).
func NewMemoryPool(limit int64) *MemoryPool {
	if limit <= 0 {
		limit = DefaultMemoryCeiling
	}
	return &MemoryPool{limit: limit, freed: make(chan struct{})}
}

// Limit is the pool's size in bytes.
func (p *MemoryPool) Limit() int64 { return p.limit }

// InUse is how many bytes are drawn now.
func (p *MemoryPool) InUse() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used
}

// Peak is the most ever drawn at once.
func (p *MemoryPool) Peak() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.peak
}

// acquire draws between 1 and want bytes, waiting until wait passes or ctx
// ends for at least one byte to be free; it returns 0 when none came.
func (p *MemoryPool) acquire(ctx context.Context, want int64, wait time.Duration) int64 {
	var timer *time.Timer
	for {
		p.mu.Lock()
		if free := p.limit - p.used; free > 0 {
			got := min(want, free)
			p.used += got
			p.peak = max(p.peak, p.used)
			p.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return got
		}
		freed := p.freed
		p.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		select {
		case <-freed:
		case <-timer.C:
			return 0
		case <-ctx.Done():
			return 0
		}
	}
}

func (p *MemoryPool) release(n int64) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	p.used -= n
	close(p.freed)
	p.freed = make(chan struct{})
	p.mu.Unlock()
}

// Account is one target's share of the limits: its byte budget, which
// every prober tried on the host:port and the engine's look draw from
// together, and the bytes it holds of the process-wide memory pool. It also
// records whether the target ever answered (a byte, or a close).
type Account struct {
	maxBytes int64
	pool     *MemoryPool
	read     atomic.Int64
	drawn    atomic.Int64
	heard    atomic.Bool
	budget   atomic.Bool // the byte budget ran out
	ceiling  atomic.Bool // the memory pool refused a read
	released atomic.Bool
}

// NewAccount makes the account of one target: maxBytes for all its reads,
// drawn from pool (nil: no process-wide ceiling).
func NewAccount(maxBytes int64, pool *MemoryPool) *Account {
	return &Account{maxBytes: maxBytes, pool: pool}
}

// BytesRead is how much the target has sent so far, all connections of all
// probers together.
func (a *Account) BytesRead() int64 { return a.read.Load() }

// Heard tells whether the target ever sent a byte or closed a connection.
func (a *Account) Heard() bool { return a.heard.Load() }

// LimitFlags names the limits the target hit (FlagByteBudget,
// FlagMemoryCeiling).
func (a *Account) LimitFlags() []string {
	var out []string
	if a.budget.Load() {
		out = append(out, FlagByteBudget)
	}
	if a.ceiling.Load() {
		out = append(out, FlagMemoryCeiling)
	}
	return out
}

// Release gives the target's bytes back to the pool. Call it once the
// target's probe is over (reads after it are refused).
func (a *Account) Release() {
	if a.released.Swap(true) {
		return
	}
	if a.pool != nil {
		a.pool.release(a.drawn.Swap(0))
	}
}

// reserve grants up to want bytes for one read: what is left of the byte
// budget and, with a pool, what the pool gives within wait. It returns 0
// and the reason when nothing may be read.
func (a *Account) reserve(ctx context.Context, want int64, wait time.Duration) (int64, error) {
	if a.released.Load() {
		return 0, ErrBudget
	}
	remaining := a.maxBytes - a.read.Load()
	if remaining <= 0 {
		a.budget.Store(true)
		return 0, ErrBudget
	}
	want = min(want, remaining)
	if a.pool == nil || want <= 0 {
		return want, nil
	}
	got := a.pool.acquire(ctx, want, wait)
	if got == 0 {
		a.ceiling.Store(true)
		return 0, ErrMemoryCeiling
	}
	a.drawn.Add(got)
	return got, nil
}

// settle records a read of n bytes of the granted bytes.
func (a *Account) settle(granted int64, n int) {
	a.read.Add(int64(n))
	if a.pool != nil && granted > int64(n) && !a.released.Load() {
		a.drawn.Add(-(granted - int64(n)))
		a.pool.release(granted - int64(n))
	}
}
