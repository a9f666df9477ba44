package monitor

import (
	"context"
	"net/netip"
	"sync"
)

// endpointLocks let one check at a time touch an endpoint, across the
// sweeps and re-checks of every scope. A check reads the store's own
// counters (queries, connections) to tell its own requests from foreign
// ones; two checks of one endpoint that overlap would each count the
// other's requests as foreign and raise a false "accessed" alert. A lock
// is held from the probe until its observation is recorded, so readings
// and observations keep one order. Waits end with ctx; each holder is
// bounded by the probe timeout.
type endpointLocks struct {
	mu   sync.Mutex
	busy map[netip.AddrPort]chan struct{} // closed on unlock
}

// lock waits until no other check holds ap and takes it; unlock must be
// called exactly once.
func (l *endpointLocks) lock(ctx context.Context, ap netip.AddrPort) (unlock func(), err error) {
	for {
		l.mu.Lock()
		if l.busy == nil {
			l.busy = map[netip.AddrPort]chan struct{}{}
		}
		held, ok := l.busy[ap]
		if !ok {
			done := make(chan struct{})
			l.busy[ap] = done
			l.mu.Unlock()
			var once sync.Once
			return func() {
				once.Do(func() {
					l.mu.Lock()
					delete(l.busy, ap)
					l.mu.Unlock()
					close(done)
				})
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-held:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// heldReports pairs a probe report with the endpoint lock its check holds
// until the report is recorded.
type heldReports struct{ m sync.Map }

func (h *heldReports) hold(rep any, unlock func()) { h.m.Store(rep, unlock) }

// release unlocks the endpoint of rep, if its check holds one.
func (h *heldReports) release(rep any) {
	if u, ok := h.m.LoadAndDelete(rep); ok {
		u.(func())()
	}
}
