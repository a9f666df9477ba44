package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/scan"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// progress prints one self-overwriting status line on stderr while a scan
// runs, when stderr is a terminal (or --progress always).
type progress struct {
	w       io.Writer
	on      bool
	total   int64
	sweep   *sweep.Stats
	scan    *scan.Stats
	started time.Time
	done    chan struct{}
	wg      sync.WaitGroup
}

func newProgress(w io.Writer, mode string, total int64, ss *sweep.Stats, st *scan.Stats) *progress {
	on := mode == "always" || (mode == "auto" && output.IsTerminal(w))
	return &progress{w: w, on: on, total: total, sweep: ss, scan: st, done: make(chan struct{})}
}

func (p *progress) start() {
	p.started = time.Now()
	if !p.on {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				fmt.Fprint(p.w, "\r\033[K")
				return
			case <-t.C:
				p.print()
			}
		}
	}()
}

func (p *progress) print() {
	s := p.scan.Snapshot()
	checked := p.sweep.Attempted.Load()
	pct := 0.0
	if p.total > 0 {
		pct = 100 * float64(checked) / float64(p.total)
	}
	fmt.Fprintf(p.w, "\r\033[K%5.1f%%  %d/%d endpoints  %d open  %d probed  %d exposed  %d protected  %s",
		pct, checked, p.total, s.Open, s.Probed, s.Exposed, s.Protected, time.Since(p.started).Round(time.Second))
}

func (p *progress) stop() {
	if !p.on {
		return
	}
	close(p.done)
	p.wg.Wait()
}
