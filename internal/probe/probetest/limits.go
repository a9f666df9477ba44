package probetest

// Helpers for the cases many probers' tests share past the conformance
// kit: a probe under a tight budget that must stay exposed and say what it
// left out, a probe cut after identification that must leave a provisional
// result, and a probe whose access evidence a test compares over time.

import (
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Exposed probes addr:port with p under the test budget adjusted by
// budget (nil: as it is), as Check does, and fails the test on an error, on
// a status other than exposed, and for each of flags the result lacks. It
// returns the result.
func Exposed(tb testing.TB, p probe.Prober, addr netip.Addr, port int, budget func(*probe.Budget), flags ...string) *probe.Result {
	tb.Helper()
	res := Probed(tb, p, addr, port, budget)
	if res.Status != finding.StatusExposed {
		tb.Fatalf("status %s (error %q), want exposed", res.Status, res.Error)
	}
	for _, f := range flags {
		if !slices.Contains(res.Flags, f) {
			tb.Errorf("flags %v lack %s", res.Flags, f)
		}
	}
	return res
}

// Probed probes addr:port with p under the test budget adjusted by budget
// (nil: as it is), as Check does, and fails the test on an error. It
// returns the result.
func Probed(tb testing.TB, p probe.Prober, addr netip.Addr, port int, budget func(*probe.Budget)) *probe.Result {
	tb.Helper()
	var opts []Option
	if budget != nil {
		opts = append(opts, WithBudget(budget))
	}
	res, err := Check(tb, p, addr, port, opts...)
	if err != nil {
		tb.Fatalf("probe: %v", err)
	}
	if res == nil {
		tb.Fatal("probe: no result")
	}
	return res
}

// Flagged probes like Probed and fails the test unless some dataset of the
// result carries flag (see WantDatasetFlag). It returns the result.
func Flagged(tb testing.TB, p probe.Prober, addr netip.Addr, port int, budget func(*probe.Budget), flag string) *probe.Result {
	tb.Helper()
	res := Probed(tb, p, addr, port, budget)
	WantDatasetFlag(tb, res, flag)
	return res
}

// WriteList writes open, then n items (each written by item, comma
// separated), then close: a JSON list as large as a test wants.
func WriteList(w io.Writer, open string, n int, item func(w io.Writer, i int), close string) {
	io.WriteString(w, open)
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		item(w, i)
	}
	io.WriteString(w, close)
}

// Stall serves handle on a fresh loopback address; each connection stays
// open (silent) after handle returns, until the test ends. It is for
// servers that identify, then stall until the probe deadline.
func Stall(tb testing.TB, handle func(c net.Conn)) *Server {
	tb.Helper()
	return serve(tb, func(c net.Conn, quit chan struct{}) {
		handle(c)
		<-quit
	})
}

// ProbeCut probes addr:port with p under a short deadline and returns what
// the engine would report: the result, or the provisional one
// (env.ProvisionalResult) when the probe failed. It fails the test when
// the probe left no provisional result, took far past its deadline, or
// returned a result other than the provisional one.
func ProbeCut(tb testing.TB, p probe.Prober, addr netip.Addr, port int) (prov *probe.Result, res *probe.Result, err error) {
	tb.Helper()
	env := Env(addr, port)
	env.Budget.IOTimeout = 700 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	began := time.Now()
	res, err = p.Probe(ctx, env)
	if d := time.Since(began); d > 5*time.Second {
		tb.Errorf("probe took %v", d)
	}
	prov = env.ProvisionalResult()
	if prov == nil {
		tb.Fatalf("no provisional result after identification: res %+v err %v", res, err)
	}
	if res != nil && res != prov {
		tb.Errorf("the returned result is not the provisional one")
	}
	return prov, res, err
}

// AccessFinding probes addr:port with p, fails the test unless the store
// is exposed, and returns the finding as the store keeps it (service
// p.Name(), evidence as plain JSON data), whose access evidence
// lifecycle.ParseAccess reads.
func AccessFinding(tb testing.TB, p probe.Prober, addr netip.Addr, port int) *finding.Finding {
	tb.Helper()
	res, err := Run(tb, p, addr, port)
	if err != nil || res.Status != finding.StatusExposed {
		tb.Fatalf("probe: %v %+v", err, res)
	}
	f := &finding.Finding{Target: finding.Target{Host: addr.String(), Port: port}, Service: p.Name(),
		Status: res.Status, Evidence: res.Evidence, ObservedAt: time.Now().UTC()}
	f.Finalize()
	return f
}

// Observe is AccessFinding that also fails the test unless the access
// evidence is measurable and counts some of the probe's own queries; two
// findings of it are what lifecycle.ForeignAccess compares.
func Observe(tb testing.TB, p probe.Prober, addr netip.Addr, port int) *finding.Finding {
	tb.Helper()
	f := AccessFinding(tb, p, addr, port)
	if a := lifecycle.ParseAccess(f); a == nil || !a.Measurable || a.Own[probe.CounterQueries] == 0 {
		tb.Fatalf("access evidence %+v", f.Evidence[probe.EvidenceAccess])
	}
	return f
}

// SampleCutFlagged probes a seeded SQL store (p at addr:port) twice: under
// a 300-byte sample budget with two tables listed, the result must stay
// exposed with two datasets and be flagged datasets-truncated, some sample
// must be cut, and exactly the datasets sampled short of their row count
// must be flagged sample-truncated; under the default budget, which reads
// the seeded tables whole, none may be. A limit never drops data silently.
func SampleCutFlagged(t *testing.T, p func() probe.Prober, addr netip.Addr, port int) {
	t.Helper()
	const sampleBytes = 300
	res := Exposed(t, p(), addr, port, func(b *probe.Budget) {
		b.SampleBytes = sampleBytes
		b.MaxListed = 2
	})
	if len(res.Datasets) != 2 || !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("%d datasets, flags %v; want 2 and %s", len(res.Datasets), res.Flags, probe.FlagDatasetsTruncated)
	}
	cut := 0
	for _, d := range res.Datasets {
		short := d.Sampled > 0 && d.Records != nil && int64(d.Sampled) < *d.Records
		if short != slices.Contains(d.Flags, probe.FlagSampleTruncated) {
			t.Errorf("%s: sampled %d of %v, flags %v", d.Name, d.Sampled, Ptr(d.Records), d.Flags)
		}
		if short {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no sample was cut by a %d-byte budget: %+v", sampleBytes, res.Datasets)
	}
	res = Probed(t, p(), addr, port, nil)
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, probe.FlagSampleTruncated) {
			t.Errorf("%s flagged under the default budget: %v", d.Name, d.Flags)
		}
	}
}

// Open probes addr:port with p like Check (with opts) and fails the test
// on an error, or unless the store is exposed without authentication. It
// returns the result.
func Open(tb testing.TB, p probe.Prober, addr netip.Addr, port int, opts ...Option) *probe.Result {
	tb.Helper()
	res, err := Check(tb, p, addr, port, opts...)
	if err != nil {
		tb.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		tb.Fatalf("status %s/%s, want exposed/none (error %q, evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
	return res
}

// ListedUnread is for a protected store that shows the names of its
// datasets but not their contents (a visible keyspace or tree): Protected
// then wants the datasets it lists unsampled, instead of none.
func ListedUnread() Option { return func(o *checkOpts) { o.listed = true } }

// Protected probes addr:port with p like Check (with opts) and fails the
// test on an error, unless the store is protected with authentication
// required, and when the result lists datasets (with ListedUnread: when it
// samples any). It returns the result.
func Protected(tb testing.TB, p probe.Prober, addr netip.Addr, port int, opts ...Option) *probe.Result {
	tb.Helper()
	var o checkOpts
	for _, opt := range opts {
		opt(&o)
	}
	res, err := Check(tb, p, addr, port, opts...)
	if err != nil {
		tb.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		tb.Fatalf("status %s/%s, want protected/required (error %q, evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
	if o.listed {
		NoSamples(tb, res)
	} else if len(res.Datasets) != 0 {
		tb.Errorf("datasets on a protected server: %v", DatasetNames(res))
	}
	return res
}

// OpenClean is Open that also fails the test when the result reports an
// error (a partial read).
func OpenClean(tb testing.TB, p probe.Prober, addr netip.Addr, port int, opts ...Option) *probe.Result {
	tb.Helper()
	res := Open(tb, p, addr, port, opts...)
	if res.Error != "" {
		tb.Fatalf("error: %s", res.Error)
	}
	return res
}

// ObserveDelta observes the store again (Observe) and returns the finding
// and the access delta since prev (lifecycle.ForeignAccess, no gap), which
// it logs.
func ObserveDelta(tb testing.TB, p probe.Prober, addr netip.Addr, port int, prev *finding.Finding) (*finding.Finding, *lifecycle.AccessDelta) {
	tb.Helper()
	cur := Observe(tb, p, addr, port)
	d := lifecycle.ForeignAccess(prev, cur, false)
	tb.Logf("access since the last probe: %s; counters %+v; clients %+v; datasets %v", d.Summary(), d.Counters, d.Clients, d.Datasets)
	return cur, d
}

// WantTables fails the test unless res holds, for each table of want, a
// dataset of kind "table" with want's row count as its records, a size,
// and every row sampled.
func WantTables(tb testing.TB, res *probe.Result, want map[string]int64) {
	tb.Helper()
	for name, n := range want {
		d := Dataset(tb, res, name)
		if d.Kind != "table" || d.Records == nil || *d.Records != n {
			tb.Errorf("%s: kind %q records %v, want table/%d", name, d.Kind, Ptr(d.Records), n)
		}
		if d.Bytes == nil || *d.Bytes <= 0 {
			tb.Errorf("%s: bytes %v", name, Ptr(d.Bytes))
		}
		if d.Sampled != int(n) || len(d.Sample) != int(n) {
			tb.Errorf("%s: sampled %d (%d records), want %d", name, d.Sampled, len(d.Sample), n)
		}
	}
}
