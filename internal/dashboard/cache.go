package dashboard

import (
	"cmp"
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
)

// findingCache keeps every finding's current state in memory, so the
// overview and the findings table do not decode all stored states on each
// page: after one full read it asks the store only for the findings
// written since the previous read began (FindingFilter.UpdatedSince, less
// an overlap for transactions that commit after a later one and for small
// clock differences between serve hosts sharing PostgreSQL), and reads
// everything again every cacheFullEvery in the background (a page waits
// for a full read only when the cache is empty: the first page after a
// start).
type findingCache struct {
	mu         sync.Mutex
	byID       map[string]Entry
	list       []Entry   // in the store's order; read-only for callers
	read       time.Time // when the previous read began
	full       time.Time // when the last full read began
	refreshing bool      // a background full read is running
}

const (
	// cacheOverlap re-reads findings written this long before the newest
	// one seen (a PostgreSQL transaction may commit after a later one;
	// SQLite's writes are serialised).
	cacheOverlap = 5 * time.Second
	// cacheFullEvery is how often the whole list is read again.
	cacheFullEvery = 5 * time.Minute
)

// findings returns every finding, in ListFindings' order: open before
// closed, worst, most recently seen. The slice must not be modified.
func (c *findingCache) findings(ctx context.Context, st store.Store) ([]Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.byID == nil {
		list, err := readAll(ctx, st)
		if err != nil {
			return nil, err
		}
		c.replace(list, now)
		return c.list, nil
	}
	if now.Sub(c.full) > cacheFullEvery && !c.refreshing {
		c.refreshing = true
		go c.refresh(st, now)
	}
	changed, err := st.ListFindings(ctx, store.FindingFilter{UpdatedSince: c.read.Add(-cacheOverlap)})
	if err != nil {
		return nil, err
	}
	c.read = now
	dirty := false
	for _, f := range changed {
		old, ok := c.byID[f.ID]
		if ok && old.UpdatedAt.Equal(f.UpdatedAt) && old.Observations == f.Observations {
			continue
		}
		c.byID[f.ID], dirty = entryOf(f), true
	}
	if dirty {
		list := make([]Entry, 0, len(c.byID))
		for _, f := range c.byID {
			list = append(list, f)
		}
		slices.SortFunc(list, func(a, b Entry) int { return storeOrder(&a.Finding, &b.Finding) })
		c.list = list
	}
	return c.list, nil
}

// replace installs a full read that began at start. The next incremental
// read starts from there, so what was written during the full read is
// read again.
func (c *findingCache) replace(list []store.Finding, start time.Time) {
	c.byID = make(map[string]Entry, len(list))
	entries := make([]Entry, len(list))
	for i := range list {
		entries[i] = entryOf(list[i])
		list[i] = store.Finding{} // let the decoded snapshots go
		c.byID[entries[i].ID] = entries[i]
	}
	c.list, c.full, c.read = entries, start, start
}

// refresh is the periodic full read, off the pages' path.
func (c *findingCache) refresh(st store.Store, start time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	list, err := readAll(ctx, st)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = false
	if err != nil {
		c.full = time.Now() // try again after another period
		return
	}
	c.replace(list, start)
}

// readAll reads every finding in 16 parts (by the first hex digit of the
// id) on up to GOMAXPROCS connections at once: decoding the stored states is
// most of the cost, and it runs in parallel. The result is in store order.
func readAll(ctx context.Context, st store.Store) ([]store.Finding, error) {
	const digits = "0123456789abcdef"
	parts := make([][]store.Finding, len(digits))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, min(4, runtime.GOMAXPROCS(0))))
	for i := range digits {
		g.Go(func() error {
			var err error
			parts[i], err = st.ListFindings(gctx, store.FindingFilter{IDPrefix: digits[i : i+1]})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []store.Finding
	for _, p := range parts {
		out = append(out, p...)
	}
	slices.SortFunc(out, func(a, b store.Finding) int { return storeOrder(&a, &b) })
	return out, nil
}

// Entry is a cached finding: its state without the snapshots (baseline,
// last, closing proofs: a tenth of the memory), and what the overview and
// the findings table need of its last snapshot, computed once per change.
// The finding page reads the whole state from the store.
type Entry struct {
	store.Finding
	// Records is the last snapshot's total records.
	Records int64
	// SubjectsLow and SubjectsHigh are its data-subject estimate
	// (report.Estimate).
	SubjectsLow, SubjectsHigh int64
	// Classes are its data classes.
	Classes []string
}

func entryOf(f store.Finding) Entry {
	e := Entry{Finding: f}
	if l := f.Last; l != nil {
		n := report.Estimate(l)
		e.Records, e.SubjectsLow, e.SubjectsHigh, e.Classes = l.TotalRecords(), n.SubjectsLow, n.SubjectsHigh, l.Classes
	}
	e.Baseline, e.Last, e.Reference, e.Closing = nil, nil, nil, nil
	return e
}

// storeOrder is ListFindings' order.
func storeOrder(a, b *store.Finding) int {
	closed := func(f *store.Finding) int {
		if f.Status == lifecycle.StatusClosed {
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(closed(a), closed(b)), cmp.Compare(b.Severity.Rank(), a.Severity.Rank()),
		b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
}
