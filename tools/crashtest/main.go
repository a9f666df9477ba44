// Command crashtest is the victim of the store's kill -9 test: it sweeps a
// fixed set of synthetic endpoints scan after scan into a store, resuming a
// half-done scan from its cursor, while an alert worker drains the outbox.
// After each commit it writes a line to stdout (a pipe: a line the reader
// got was written after the commit returned):
//
//	obs <scan-id> <finding-id> <observation-id> <dup|new>
//	ack <alert-id>
//	done <scans>
//
// The test kills it with SIGKILL at random moments, restarts it, and then
// checks the store against the lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
)

// Scope is the scan scope the helper uses.
const Scope = "crash"

// T0 is the synthetic time of scan 0; scan k runs at T0 + k minutes.
var T0 = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

func main() {
	db := flag.String("db", "", "store path or URL")
	endpoints := flag.Int("endpoints", 8, "endpoints per scan")
	scans := flag.Int("scans", 1000, "stop after this many finished scans")
	alerts := flag.Bool("alerts", true, "run an alert worker")
	flag.Parse()
	if err := run(*db, *endpoints, *scans, *alerts); err != nil {
		fmt.Fprintln(os.Stderr, "crashtest:", err)
		os.Exit(1)
	}
}

func run(db string, endpoints, maxScans int, alerts bool) error {
	ctx := context.Background()
	st, err := storeopen.Open(ctx, db, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if alerts {
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); worker(wctx, st) }()
		defer func() { stop(); <-done }()
	}
	for {
		done, err := st.ListScans(ctx, store.ScanFilter{Scope: Scope, Status: store.ScanFinished})
		if err != nil {
			return err
		}
		if len(done) >= maxScans {
			fmt.Printf("done %d\n", len(done))
			return nil
		}
		run, k, next, err := resume(ctx, st)
		if err != nil {
			return err
		}
		for j := next; j < endpoints; j++ {
			obs := Observation(k, j)
			rec, err := st.RecordObservation(ctx, run.ID, obs)
			if err != nil {
				return err
			}
			state := "new"
			if rec.Duplicate {
				state = "dup"
			}
			fmt.Printf("obs %s %s %d %s\n", run.ID, obs.FindingID, rec.ObservationID, state)
			if err := st.SaveScanCursor(ctx, run.ID, fmt.Sprintf("%d/%d", k, j+1)); err != nil {
				return err
			}
		}
		if err := st.FinishScan(ctx, run.ID, store.ScanFinished, ""); err != nil {
			return err
		}
	}
}

// resume returns the scan to continue (the unfinished one, or a new one),
// its number k and the first endpoint not yet done.
func resume(ctx context.Context, st store.Store) (store.ScanRun, int, int, error) {
	run, err := st.UnfinishedScan(ctx, Scope)
	if errors.Is(err, store.ErrNotFound) {
		run, err = st.BeginScan(ctx, Scope)
	}
	if err != nil {
		return run, 0, 0, err
	}
	if k, j, ok := parseCursor(run.Cursor); ok {
		return run, k, j, nil
	}
	done, err := st.ListScans(ctx, store.ScanFilter{Scope: Scope, Status: store.ScanFinished})
	if err != nil {
		return run, 0, 0, err
	}
	k := len(done)
	if err := st.SaveScanCursor(ctx, run.ID, fmt.Sprintf("%d/0", k)); err != nil {
		return run, 0, 0, err
	}
	return run, k, 0, nil
}

func parseCursor(c string) (int, int, bool) {
	a, b, ok := strings.Cut(c, "/")
	if !ok {
		return 0, 0, false
	}
	k, err1 := strconv.Atoi(a)
	j, err2 := strconv.Atoi(b)
	return k, j, err1 == nil && err2 == nil
}

// Observation is what scan k sees at endpoint j: each endpoint cycles
// through exposed, grown (changed), gone, protected (closed), exposed
// (reopened), with a phase shift per endpoint.
func Observation(k, j int) lifecycle.Observation {
	t := finding.Target{Host: fmt.Sprintf("127.0.3.%d", j+1), Port: 6379}
	at := T0.Add(time.Duration(k)*time.Minute + time.Duration(j)*time.Millisecond)
	switch (k + j) % 6 {
	case 0, 1:
		return exposed(t, at, 100)
	case 2:
		return exposed(t, at, 5000)
	case 3:
		return lifecycle.Gone(t, "redis", at, "connection refused", Scope)
	case 4:
		f := &finding.Finding{Target: t, Service: "redis", Status: finding.StatusProtected, Auth: finding.AuthRequired, ObservedAt: at}
		f.Finalize()
		return lifecycle.FromFinding(f, Scope)
	}
	return lifecycle.Gone(t, "redis", at, "port closed", Scope)
}

func exposed(t finding.Target, at time.Time, records int64) lifecycle.Observation {
	f := &finding.Finding{Target: t, Service: "redis", Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: at,
		Datasets: []finding.Dataset{{Name: "db0", Kind: "keyspace", Records: finding.Int64(records), Sampled: 10,
			Classes: []finding.ClassCount{{Class: "email", Sampled: 10, Matched: 9, Source: "values", Examples: []string{"j***@e****.com"}}}}}}
	f.Finalize()
	return lifecycle.FromFinding(f, Scope)
}

// worker drains the outbox, printing each acknowledged alert.
func worker(ctx context.Context, st store.Store) {
	name := fmt.Sprintf("crash-%d", os.Getpid())
	for ctx.Err() == nil {
		as, err := st.ClaimAlerts(ctx, store.Claim{Worker: name, Limit: 5, Lease: 300 * time.Millisecond})
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "crashtest: claim:", err)
			os.Exit(1)
		}
		for _, a := range as {
			switch err := st.AckAlert(ctx, a.ID, name); {
			case errors.Is(err, store.ErrLeaseLost):
				fmt.Printf("lost %d\n", a.ID)
			case err != nil:
				fmt.Fprintln(os.Stderr, "crashtest: ack:", err)
				os.Exit(1)
			default:
				fmt.Printf("ack %d\n", a.ID)
			}
		}
		if len(as) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}
