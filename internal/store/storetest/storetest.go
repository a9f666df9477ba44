// Package storetest is the conformance suite every store.Store backend
// must pass:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
//			s, err := mybackend.Open(ctx, freshDatabase(t), opts)
//			...
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The factory must return an empty, migrated store using opts (it carries
// the suite's clock and routes) and close it when the test ends.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Factory makes a fresh store for one test.
type Factory func(t *testing.T, opts store.Options) store.Store

// Clock is a settable clock for Options.Now.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// T0 is the suite's start time.
var T0 = time.Date(2026, 11, 28, 15, 0, 0, 123456000, time.UTC)

// Run runs the conformance suite.
func Run(t *testing.T, factory Factory) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f Factory)
	}{
		{"Migrations", testMigrations},
		{"Lifecycle", testLifecycle},
		{"Idempotent", testIdempotent},
		{"Untracked", testUntracked},
		{"Stale", testStale},
		{"ConcurrentRecord", testConcurrentRecord},
		{"Timeline", testTimeline},
		{"Filters", testFilters},
		{"OutboxExactlyOnce", testOutboxExactlyOnce},
		{"OutboxLease", testOutboxLease},
		{"OutboxRetry", testOutboxRetry},
		{"Routes", testRoutes},
		{"ScanRuns", testScanRuns},
		{"OutOfScope", testOutOfScope},
		{"Triage", testTriage},
		{"ReachableFrom", testReachableFrom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, factory)
		})
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Fixture builds observations for one endpoint.
type Fixture struct {
	Target  finding.Target
	Service string
	Scope   string
}

// NewFixture is an endpoint on host:port running redis in scope "lab".
func NewFixture(host string, port int) Fixture {
	return Fixture{Target: finding.Target{Host: host, Port: port}, Service: "redis", Scope: "lab"}
}

// ID is the finding id.
func (fx Fixture) ID() string { return finding.Fingerprint(fx.Target, fx.Service) }

// Exposed is an exposed check at at with datasets name→records, each
// holding the given class.
func (fx Fixture) Exposed(at time.Time, class string, datasets map[string]int64) lifecycle.Observation {
	f := &finding.Finding{Target: fx.Target, Service: fx.Service, Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: at}
	names := make([]string, 0, len(datasets))
	for n := range datasets {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d := finding.Dataset{Name: n, Kind: "keyspace", Records: finding.Int64(datasets[n]), Sampled: 10}
		if class != "" {
			d.Classes = []finding.ClassCount{{Class: class, Sampled: 10, Matched: 10, Source: "values", Examples: []string{"j***@e*****.com"}}}
		}
		f.Datasets = append(f.Datasets, d)
	}
	f.Finalize()
	return lifecycle.FromFinding(f, fx.Scope)
}

// Protected is a check that found the service demanding credentials.
func (fx Fixture) Protected(at time.Time) lifecycle.Observation {
	f := &finding.Finding{Target: fx.Target, Service: fx.Service, Status: finding.StatusProtected,
		Auth: finding.AuthRequired, ObservedAt: at}
	f.Finalize()
	return lifecycle.FromFinding(f, fx.Scope)
}

// Gone is a check that found nothing listening.
func (fx Fixture) Gone(at time.Time) lifecycle.Observation {
	return lifecycle.Gone(fx.Target, fx.Service, at, "connection refused", fx.Scope)
}

func record(t *testing.T, s store.Store, scanID string, obs lifecycle.Observation) store.Recorded {
	t.Helper()
	rec, err := s.RecordObservation(ctxT(t), scanID, obs)
	if err != nil {
		t.Fatalf("record %s/%s: %v", scanID, obs.FindingID, err)
	}
	return rec
}

func kinds(evs []store.Event) []lifecycle.EventKind {
	var out []lifecycle.EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func mins(n int) time.Duration { return time.Duration(n) * time.Minute }

func testMigrations(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("schema version %d, %v", v1, err)
	}
	for i := 0; i < 2; i++ {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate again: %v", err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.Migrate(ctx) }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	if v2, _ := s.SchemaVersion(ctx); v2 != v1 {
		t.Errorf("version %d after re-migrating, was %d", v2, v1)
	}
	// Data survives a re-migration.
	fx := NewFixture("127.0.0.9", 6379)
	record(t, s, "scan-1", fx.Exposed(T0, "email", map[string]int64{"db0": 10}))
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if fs, _ := s.ListFindings(ctx, store.FindingFilter{}); len(fs) != 1 {
		t.Errorf("%d findings after re-migrating", len(fs))
	}
}

func testLifecycle(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.10", 6379)
	steps := []struct {
		obs    lifecycle.Observation
		status lifecycle.Status
		events []lifecycle.EventKind
	}{
		{fx.Exposed(T0, "email", map[string]int64{"db0": 2000}), lifecycle.StatusOpen, []lifecycle.EventKind{lifecycle.EventOpened}},
		{fx.Exposed(T0.Add(mins(1)), "email", map[string]int64{"db0": 2001}), lifecycle.StatusOpen, nil},
		{fx.Exposed(T0.Add(mins(2)), "auth_token", map[string]int64{"db0": 2001, "db1": 5}), lifecycle.StatusChanged, []lifecycle.EventKind{lifecycle.EventChanged}},
		{fx.Gone(T0.Add(mins(3))), lifecycle.StatusChanged, nil},
		{fx.Protected(T0.Add(mins(4))), lifecycle.StatusClosed, []lifecycle.EventKind{lifecycle.EventClosed}},
		{fx.Gone(T0.Add(mins(5))), lifecycle.StatusClosed, nil},
		{fx.Exposed(T0.Add(mins(6)), "email", map[string]int64{"db0": 2001}), lifecycle.StatusReopened, []lifecycle.EventKind{lifecycle.EventReopened}},
	}
	var obsIDs []int64
	for i, st := range steps {
		rec := record(t, s, fmt.Sprintf("scan-%d", i), st.obs)
		if rec.Duplicate || rec.Stale || rec.ObservationID == 0 {
			t.Fatalf("step %d: %+v", i, rec)
		}
		obsIDs = append(obsIDs, rec.ObservationID)
		if rec.State.Status != st.status || !slices.Equal(kinds(rec.Events), st.events) {
			t.Fatalf("step %d: status %s events %v, want %s %v", i, rec.State.Status, kinds(rec.Events), st.status, st.events)
		}
		for _, e := range rec.Events {
			if e.ID == 0 || e.ObservationID != rec.ObservationID {
				t.Errorf("step %d: event ids %+v", i, e)
			}
		}
	}
	d, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	st := d.Finding.State
	if st.Status != lifecycle.StatusReopened || st.ReopenCount != 1 || !st.ClosedAt.IsZero() ||
		!st.FirstSeen.Equal(T0) || !st.LastSeenOpen.Equal(T0.Add(mins(6))) || !st.LastSeen.Equal(T0.Add(mins(6))) ||
		!st.ChangedAt.Equal(T0.Add(mins(2))) {
		t.Errorf("state: %s reopen %d closed %v first %v last_open %v last %v changed %v", st.Status, st.ReopenCount,
			st.ClosedAt, st.FirstSeen, st.LastSeenOpen, st.LastSeen, st.ChangedAt)
	}
	if d.Finding.Scope != "lab" || d.Finding.Observations != len(steps) || st.Service != "redis" || st.Target != fx.Target {
		t.Errorf("finding columns %+v", d.Finding)
	}
	// The closed event carries the proof: the two checks, with their ids.
	var closed *store.Event
	for _, e := range d.Timeline {
		if e.Event != nil && e.Event.Kind == lifecycle.EventClosed {
			closed = e.Event
		}
	}
	if closed == nil || len(closed.Proof) != 2 || closed.Proof[0].ObservationID != obsIDs[3] ||
		closed.Proof[1].ObservationID != obsIDs[4] || closed.Proof[1].Outcome != lifecycle.OutcomeProtected ||
		!closed.Proof[0].At.Equal(T0.Add(mins(3))) {
		t.Fatalf("closed event %+v", closed)
	}
	if d.Finding.State.Last == nil || d.Finding.State.Last.TotalRecords() != 2001 {
		t.Errorf("last snapshot %+v", d.Finding.State.Last)
	}
	// One alert per event, in the order of the events.
	alerts, err := s.ListAlerts(ctx, store.AlertFilter{FindingID: fx.ID()})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 4 {
		t.Fatalf("%d alerts, want 4", len(alerts))
	}
	slices.Reverse(alerts)
	for i, k := range []lifecycle.EventKind{lifecycle.EventOpened, lifecycle.EventChanged, lifecycle.EventClosed, lifecycle.EventReopened} {
		a := alerts[i]
		if a.Event.Kind != k || a.State != store.AlertPending || a.Route != store.DefaultRoute || a.Scope != "lab" || a.DedupKey == "" {
			t.Errorf("alert %d: %+v", i, a)
		}
	}
	// Full observation JSON is kept.
	o, err := s.GetObservation(ctx, obsIDs[2])
	if err != nil {
		t.Fatal(err)
	}
	if o.Finding == nil || len(o.Finding.Datasets) != 2 || o.Records != 2006 || o.Datasets != 2 ||
		!slices.Equal(o.Classes, []string{"auth_token"}) || o.Outcome != lifecycle.OutcomeExposed || o.Product != "redis" {
		t.Errorf("observation %+v", o)
	}
	if _, err := s.GetObservation(ctx, 1<<40); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing observation: %v", err)
	}
	if _, err := s.GetFinding(ctx, "nope", store.TimelineQuery{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing finding: %v", err)
	}
}

func testIdempotent(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.11", 9200)
	obs := fx.Exposed(T0, "email", map[string]int64{"users": 50})
	first := record(t, s, "scan-a", obs)
	again := record(t, s, "scan-a", obs)
	// A different result for the same (scan, finding) is ignored too.
	third := record(t, s, "scan-a", fx.Gone(T0.Add(mins(1))))
	for _, r := range []store.Recorded{again, third} {
		if !r.Duplicate || r.ObservationID != first.ObservationID || r.State.Status != lifecycle.StatusOpen ||
			!slices.Equal(kinds(r.Events), []lifecycle.EventKind{lifecycle.EventOpened}) || r.Events[0].ID != first.Events[0].ID {
			t.Errorf("re-record: %+v", r)
		}
	}
	if first.Duplicate {
		t.Errorf("first recording marked duplicate")
	}
	d, _ := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if len(d.Timeline) != 2 || d.Finding.Observations != 1 {
		t.Errorf("timeline %d entries, %d observations", len(d.Timeline), d.Finding.Observations)
	}
	if st, _ := s.OutboxStats(ctx); st.Pending != 1 {
		t.Errorf("outbox %+v", st)
	}
	// The same finding in another scan is a new observation.
	if r := record(t, s, "scan-b", obs); r.Duplicate {
		t.Errorf("other scan treated as duplicate")
	}
	if _, err := s.RecordObservation(ctx, "", obs); err == nil {
		t.Errorf("empty scan id accepted")
	}
	bad := obs
	bad.Outcome = "sideways"
	if _, err := s.RecordObservation(ctx, "scan-c", bad); err == nil {
		t.Errorf("bad outcome accepted")
	}
}

func testUntracked(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.12", 5432)
	fx.Service = "postgres"
	rec := record(t, s, "scan-1", fx.Protected(T0))
	if rec.State.Status != lifecycle.StatusUntracked || len(rec.Events) != 0 {
		t.Errorf("protected service: %+v", rec)
	}
	if _, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("never-exposed service is a finding: %v", err)
	}
	if fs, _ := s.ListFindings(ctx, store.FindingFilter{}); len(fs) != 0 {
		t.Errorf("findings %+v", fs)
	}
	rec = record(t, s, "scan-2", fx.Exposed(T0.Add(mins(1)), "", map[string]int64{"shop": 3}))
	if rec.State.Status != lifecycle.StatusOpen || !rec.State.FirstSeen.Equal(T0.Add(mins(1))) {
		t.Errorf("opened: %+v", rec.State)
	}
	d, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	// The protected check before it opened is part of the timeline.
	if len(d.Timeline) != 3 || d.Timeline[0].Observation == nil || d.Timeline[0].Observation.Outcome != lifecycle.OutcomeProtected {
		t.Errorf("timeline %+v", d.Timeline)
	}
}

func testStale(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	fx := NewFixture("127.0.0.13", 6379)
	record(t, s, "scan-2", fx.Exposed(T0.Add(mins(10)), "email", map[string]int64{"db0": 5}))
	rec := record(t, s, "scan-1", fx.Gone(T0))
	if !rec.Stale || rec.State.Status != lifecycle.StatusOpen || len(rec.State.Closing) != 0 {
		t.Errorf("stale: %+v", rec)
	}
	if again := record(t, s, "scan-1", fx.Gone(T0)); !again.Duplicate || !again.Stale {
		t.Errorf("stale re-record: %+v", again)
	}
}

func testConcurrentRecord(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.14", 27017)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n*2)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, scan := range []string{fmt.Sprintf("scan-%d", i), fmt.Sprintf("scan-%d", i%2)} {
				_, err := s.RecordObservation(ctx, scan, fx.Exposed(T0.Add(time.Duration(i)*time.Second), "email", map[string]int64{"c": 7}))
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	opened := 0
	for _, e := range d.Timeline {
		if e.Event != nil {
			opened++
		}
	}
	if opened != 1 || d.Finding.Observations != n {
		t.Errorf("%d events, %d observations; want 1 opened and %d", opened, d.Finding.Observations, n)
	}
	if st, _ := s.OutboxStats(ctx); st.Pending != 1 {
		t.Errorf("outbox %+v", st)
	}
}

func testTimeline(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.15", 6379)
	// Recorded out of order: the timeline is in time order regardless.
	record(t, s, "s1", fx.Exposed(T0, "email", map[string]int64{"db0": 1}))
	record(t, s, "s3", fx.Gone(T0.Add(mins(2))))
	record(t, s, "s2", fx.Gone(T0.Add(mins(1)))) // stale: recorded, changes nothing
	record(t, s, "s4", fx.Gone(T0.Add(mins(3))))
	record(t, s, "s5", fx.Exposed(T0.Add(mins(4)), "email", map[string]int64{"db0": 1}))
	d, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, e := range d.Timeline {
		if i > 0 && e.At.Before(d.Timeline[i-1].At) {
			t.Errorf("entry %d out of order", i)
		}
		switch {
		case e.Observation != nil:
			got = append(got, e.Observation.ScanID)
		case e.Event != nil:
			got = append(got, string(e.Event.Kind))
		}
	}
	want := []string{"s1", "opened", "s2", "s3", "s4", "closed", "s5", "reopened"}
	if !slices.Equal(got, want) {
		t.Errorf("timeline %v, want %v", got, want)
	}
	d, err = s.GetFinding(ctx, fx.ID(), store.TimelineQuery{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	nobs := 0
	for _, e := range d.Timeline {
		if e.Observation != nil {
			nobs++
		}
	}
	if nobs != 2 || len(d.Timeline) != 5 {
		t.Errorf("limited timeline: %d observations, %d entries", nobs, len(d.Timeline))
	}
	d, _ = s.GetFinding(ctx, fx.ID(), store.TimelineQuery{Since: T0.Add(mins(3))})
	if len(d.Timeline) != 4 {
		t.Errorf("since: %d entries, want 4", len(d.Timeline))
	}
}

func testFilters(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	a := NewFixture("127.0.0.16", 6379) // open, critical
	b := NewFixture("127.0.0.17", 6379) // closed
	c := NewFixture("127.0.0.18", 9200) // open, medium, other scope
	c.Service, c.Scope = "elasticsearch", "dc2"
	record(t, s, "s1", a.Exposed(T0, "auth_token", map[string]int64{"db0": 3}))
	record(t, s, "s1", b.Exposed(T0, "", map[string]int64{"db0": 3}))
	record(t, s, "s1", c.Exposed(T0, "", map[string]int64{"logs": 30}))
	record(t, s, "s2", b.Gone(T0.Add(mins(1))))
	record(t, s, "s3", b.Gone(T0.Add(mins(2))))
	cases := []struct {
		name string
		flt  store.FindingFilter
		want []string
	}{
		{"all", store.FindingFilter{}, []string{a.ID(), b.ID(), c.ID()}},
		{"open", store.FindingFilter{Status: store.FilterOpen}, []string{a.ID(), c.ID()}},
		{"closed", store.FindingFilter{Status: store.FilterClosed}, []string{b.ID()}},
		{"statuses", store.FindingFilter{Statuses: []lifecycle.Status{lifecycle.StatusClosed, lifecycle.StatusOpen}}, []string{a.ID(), b.ID(), c.ID()}},
		{"critical", store.FindingFilter{MinSeverity: finding.SeverityCritical}, []string{a.ID()}},
		{"scope", store.FindingFilter{Scope: "dc2"}, []string{c.ID()}},
		{"service", store.FindingFilter{Service: "redis", Status: store.FilterOpen}, []string{a.ID()}},
		{"host", store.FindingFilter{Host: "127.0.0.17"}, []string{b.ID()}},
		{"prefix", store.FindingFilter{IDPrefix: c.ID()[:6]}, []string{c.ID()}},
		{"limit", store.FindingFilter{Limit: 1}, []string{a.ID()}},
	}
	for _, tc := range cases {
		fs, err := s.ListFindings(ctx, tc.flt)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, f := range fs {
			got = append(got, f.ID)
		}
		// Order: severity, then last seen; compare as sets except for limit.
		if tc.name != "limit" {
			slices.Sort(got)
			slices.Sort(tc.want)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	fs, _ := s.ListFindings(ctx, store.FindingFilter{Status: store.FilterClosed})
	if len(fs) == 1 && (!fs[0].ClosedAt.Equal(T0.Add(mins(1))) || fs[0].Status != lifecycle.StatusClosed) {
		t.Errorf("closed finding %+v", fs[0])
	}
	if _, err := s.ListFindings(ctx, store.FindingFilter{Status: "weird"}); err == nil {
		t.Errorf("unknown status filter accepted")
	}
}

// openMany opens n findings, one alert each.
func openMany(t *testing.T, s store.Store, n int) {
	for i := 0; i < n; i++ {
		fx := NewFixture(fmt.Sprintf("127.0.1.%d", i+1), 6379)
		record(t, s, "scan-1", fx.Exposed(T0, "email", map[string]int64{"db0": int64(i)}))
	}
}

func testOutboxExactlyOnce(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f(t, store.Options{Now: clock.Now})
	ctx := ctxT(t)
	const n, workers = 40, 6
	openMany(t, s, n)
	var (
		mu        sync.Mutex
		delivered = map[int64]int{}
		wg        sync.WaitGroup
	)
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			worker := fmt.Sprintf("w%d", w)
			for {
				as, err := s.ClaimAlerts(ctx, store.Claim{Worker: worker, Limit: 3, Lease: time.Hour})
				if err != nil {
					errs <- err
					return
				}
				if len(as) == 0 {
					return
				}
				for _, a := range as {
					if a.ClaimedBy != worker || a.Attempts != 1 {
						errs <- fmt.Errorf("claimed alert %+v", a)
						return
					}
					mu.Lock()
					delivered[a.ID]++
					mu.Unlock()
					if err := s.AckAlert(ctx, a.ID, worker); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(delivered) != n {
		t.Errorf("%d alerts delivered, want %d", len(delivered), n)
	}
	for id, c := range delivered {
		if c != 1 {
			t.Errorf("alert %d delivered %d times", id, c)
		}
	}
	st, err := s.OutboxStats(ctx)
	if err != nil || st.Pending != 0 || st.Delivered != n {
		t.Errorf("stats %+v %v", st, err)
	}
	if as, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "late"}); len(as) != 0 {
		t.Errorf("claimed %d delivered alerts", len(as))
	}
}

func testOutboxLease(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f(t, store.Options{Now: clock.Now})
	ctx := ctxT(t)
	openMany(t, s, 1)
	as, err := s.ClaimAlerts(ctx, store.Claim{Worker: "a", Lease: time.Minute})
	if err != nil || len(as) != 1 {
		t.Fatalf("claim: %v %v", as, err)
	}
	if got, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "b"}); len(got) != 0 {
		t.Fatalf("claimed a leased alert")
	}
	clock.Advance(2 * time.Minute) // a crashed; its lease runs out
	bs, err := s.ClaimAlerts(ctx, store.Claim{Worker: "b", Lease: time.Minute})
	if err != nil || len(bs) != 1 || bs[0].ID != as[0].ID || bs[0].Attempts != 2 {
		t.Fatalf("re-claim after lease: %+v %v", bs, err)
	}
	if err := s.AckAlert(ctx, as[0].ID, "a"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("ack by the old holder: %v", err)
	}
	if err := s.AckAlert(ctx, bs[0].ID, "b"); err != nil {
		t.Errorf("ack: %v", err)
	}
	if err := s.AckAlert(ctx, bs[0].ID, "b"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("second ack: %v", err)
	}
	if err := s.AckAlert(ctx, 1<<40, "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ack of a missing alert: %v", err)
	}
	ds, _ := s.ListAlerts(ctx, store.AlertFilter{State: store.AlertDelivered})
	if len(ds) != 1 || !ds[0].DeliveredAt.Equal(T0.Add(2*time.Minute)) {
		t.Errorf("delivered %+v", ds)
	}
	// A lease that ran out but nobody re-claimed can still be acked.
	openMany(t, s, 2)
	cs, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "c", Lease: time.Second})
	clock.Advance(time.Minute)
	for _, a := range cs {
		if err := s.AckAlert(ctx, a.ID, "c"); err != nil {
			t.Errorf("late ack: %v", err)
		}
	}
	if _, err := s.ClaimAlerts(ctx, store.Claim{}); err == nil {
		t.Errorf("claim without worker accepted")
	}
}

func testOutboxRetry(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f(t, store.Options{Now: clock.Now})
	ctx := ctxT(t)
	openMany(t, s, 2)
	as, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "w", Limit: 1})
	if len(as) != 1 {
		t.Fatalf("claimed %d", len(as))
	}
	if err := s.RetryAlert(ctx, as[0].ID, "w", "webhook: 503", T0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.AckAlert(ctx, as[0].ID, "w"); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("ack after retry: %v", err)
	}
	// Only the other alert is due now.
	bs, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "w", Limit: 5})
	if len(bs) != 1 || bs[0].ID == as[0].ID {
		t.Fatalf("due alerts %+v", bs)
	}
	if err := s.GiveUpAlert(ctx, bs[0].ID, "w", "slack: 404 no_service"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	cs, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "w", Limit: 5})
	if len(cs) != 1 || cs[0].ID != as[0].ID || cs[0].Attempts != 2 || cs[0].LastError != "webhook: 503" {
		t.Fatalf("retried alert %+v", cs)
	}
	st, _ := s.OutboxStats(ctx)
	if st.Pending != 1 || st.GaveUp != 1 || st.Delivered != 0 || !st.OldestPending.Equal(T0) {
		t.Errorf("stats %+v", st)
	}
	gs, _ := s.ListAlerts(ctx, store.AlertFilter{State: store.AlertGaveUp})
	if len(gs) != 1 || gs[0].LastError != "slack: 404 no_service" || gs[0].State != store.AlertGaveUp {
		t.Errorf("gave up %+v", gs)
	}
}

func testRoutes(t *testing.T, f Factory) {
	route := func(ev lifecycle.Event, scope string) []string {
		switch {
		case ev.Kind == lifecycle.EventClosed:
			return nil // closes go nowhere
		case ev.Severity == finding.SeverityCritical:
			return []string{"pagerduty", "slack-" + scope}
		}
		return []string{"slack-" + scope}
	}
	s := f(t, store.Options{Route: route})
	ctx := ctxT(t)
	a := NewFixture("127.0.0.20", 6379)
	record(t, s, "s1", a.Exposed(T0, "auth_token", map[string]int64{"db0": 3}))
	record(t, s, "s2", a.Gone(T0.Add(mins(1))))
	record(t, s, "s3", a.Gone(T0.Add(mins(2))))
	all, _ := s.ListAlerts(ctx, store.AlertFilter{})
	var routes []string
	for _, x := range all {
		routes = append(routes, x.Route)
	}
	slices.Sort(routes)
	if !slices.Equal(routes, []string{"pagerduty", "slack-lab"}) {
		t.Errorf("routes %v", routes)
	}
	ps, _ := s.ClaimAlerts(ctx, store.Claim{Worker: "pd", Routes: []string{"pagerduty"}})
	if len(ps) != 1 || ps[0].Route != "pagerduty" || ps[0].Event.Kind != lifecycle.EventOpened {
		t.Errorf("pagerduty claim %+v", ps)
	}
	d, _ := s.GetFinding(ctx, a.ID(), store.TimelineQuery{})
	if d.Finding.Status != lifecycle.StatusClosed {
		t.Errorf("status %s", d.Finding.Status)
	}
}

func testScanRuns(t *testing.T, f Factory) {
	clock := NewClock(T0)
	s := f(t, store.Options{Now: clock.Now})
	ctx := ctxT(t)
	if _, err := s.UnfinishedScan(ctx, "lab"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unfinished scan before any: %v", err)
	}
	r1, err := s.BeginScan(ctx, "lab")
	if err != nil || r1.ID == "" || r1.Status != store.ScanRunning || !r1.StartedAt.Equal(T0) {
		t.Fatalf("begin: %+v %v", r1, err)
	}
	clock.Advance(time.Second)
	other, _ := s.BeginScan(ctx, "dc2")
	fx := NewFixture("127.0.0.21", 6379)
	record(t, s, r1.ID, fx.Exposed(T0, "", map[string]int64{"db0": 1}))
	if err := s.SaveScanCursor(ctx, r1.ID, "127.0.0.21:6379"); err != nil {
		t.Fatal(err)
	}
	// The process dies here; the next one resumes the run.
	got, err := s.UnfinishedScan(ctx, "lab")
	if err != nil || got.ID != r1.ID || got.Cursor != "127.0.0.21:6379" || got.Observations != 1 || !got.CursorAt.Equal(T0.Add(time.Second)) {
		t.Fatalf("unfinished: %+v %v", got, err)
	}
	clock.Advance(time.Second)
	if err := s.FinishScan(ctx, r1.ID, store.ScanFinished, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishScan(ctx, r1.ID, store.ScanFinished, ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("finish twice: %v", err)
	}
	if err := s.SaveScanCursor(ctx, r1.ID, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cursor on a finished scan: %v", err)
	}
	if err := s.FinishScan(ctx, other.ID, "bogus", ""); err == nil {
		t.Errorf("bogus status accepted")
	}
	if err := s.FinishScan(ctx, other.ID, store.ScanFailed, "sweep: too many open files"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UnfinishedScan(ctx, "lab"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unfinished after finish: %v", err)
	}
	g, err := s.GetScan(ctx, r1.ID)
	if err != nil || g.Status != store.ScanFinished || !g.FinishedAt.Equal(T0.Add(2*time.Second)) {
		t.Errorf("get: %+v %v", g, err)
	}
	if _, err := s.GetScan(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("missing scan: %v", err)
	}
	runs, _ := s.ListScans(ctx, store.ScanFilter{})
	if len(runs) != 2 || runs[0].ID != other.ID || runs[0].Error != "sweep: too many open files" || runs[0].Status != store.ScanFailed {
		t.Errorf("list %+v", runs)
	}
	if runs, _ := s.ListScans(ctx, store.ScanFilter{Scope: "lab", Limit: 5}); len(runs) != 1 {
		t.Errorf("list by scope %+v", runs)
	}
}

// testReachableFrom: the sites a clustered check was made from travel with
// the finding — in the stored observation, the finding's last snapshot
// and its severity (internet raises it) — and a later check from other
// sites replaces them.
func testReachableFrom(t *testing.T, f Factory) {
	s := f(t, store.Options{})
	ctx := ctxT(t)
	fx := NewFixture("127.0.0.12", 6379)
	obs := fx.Exposed(T0, "", map[string]int64{"db0": 10})
	obs.Finding.ReachableFrom = []string{"dc-fra", finding.SiteInternet}
	obs.Finding.Severity = finding.Assess(obs.Finding)
	rec := record(t, s, "scan-a", obs)
	o, err := s.GetObservation(ctx, rec.ObservationID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.Finding.ReachableFrom, []string{"dc-fra", "internet"}) || o.Severity != finding.SeverityHigh {
		t.Errorf("observation: reachable_from %v, severity %s", o.Finding.ReachableFrom, o.Severity)
	}
	list, err := s.ListFindings(ctx, store.FindingFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %v, %d findings", err, len(list))
	}
	if l := list[0]; l.Last == nil || !slices.Equal(l.Last.ReachableFrom, []string{"dc-fra", "internet"}) || l.Severity != finding.SeverityHigh {
		t.Errorf("finding: last %+v, severity %s", l.Last, l.Severity)
	}
	inside := fx.Exposed(T0.Add(mins(1)), "", map[string]int64{"db0": 10})
	inside.Finding.ReachableFrom = []string{"dc-fra"}
	record(t, s, "scan-b", inside)
	d, err := s.GetFinding(ctx, fx.ID(), store.TimelineQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Finding.Last.ReachableFrom, []string{"dc-fra"}) {
		t.Errorf("after an inside-only check: reachable_from %v", d.Finding.Last.ReachableFrom)
	}
}
