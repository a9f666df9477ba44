package scope

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// resolveWorkers bounds concurrent lookups.
const resolveWorkers = 8

// resolver resolves each hostname once and remembers the answer.
type resolver struct {
	r       Resolver
	timeout time.Duration
	done    map[string][]netip.Addr
}

// resolveAll looks up the names not resolved yet, a few at a time. The first
// failure in input order is returned.
func (r *resolver) resolveAll(ctx context.Context, names []string) error {
	if r.done == nil {
		r.done = map[string][]netip.Addr{}
	}
	var todo []string
	for _, n := range names {
		if _, ok := r.done[n]; !ok {
			todo = append(todo, n)
		}
	}
	addrs := make([][]netip.Addr, len(todo))
	errs := make([]error, len(todo))
	sem := make(chan struct{}, resolveWorkers)
	var wg sync.WaitGroup
	for i, name := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			addrs[i], errs[i] = r.lookup(ctx, name)
		}()
	}
	wg.Wait()
	for i, name := range todo {
		if errs[i] != nil {
			return errs[i]
		}
		r.done[name] = addrs[i]
	}
	return nil
}

func (r *resolver) lookup(ctx context.Context, name string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	got, err := r.r.LookupNetIP(ctx, "ip", name)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("scope: resolve %q: no answer within %s", name, r.timeout)
		}
		return nil, fmt.Errorf("scope: resolve %q: %w", name, err)
	}
	out := make([]netip.Addr, 0, len(got))
	for _, a := range got {
		if a.IsValid() {
			out = append(out, a.WithZone("").Unmap())
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("scope: resolve %q: no addresses", name)
	}
	return out, nil
}
