package monitor

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/metrics"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestCursor(t *testing.T) {
	c := cursor{hash: "abc123", done: 4096}
	got, ok := parseCursor(c.String())
	if !ok || got != c {
		t.Errorf("round trip %q → %+v %v", c.String(), got, ok)
	}
	for _, bad := range []string{"", "v2:abc:1", "v1:abc", "v1:abc:-1", "v1:abc:x"} {
		if _, ok := parseCursor(bad); ok {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

func TestJitter(t *testing.T) {
	for range 1000 {
		d := jitter(10*time.Second, 0.1)
		if d < 9*time.Second || d > 11*time.Second {
			t.Fatalf("jitter(10s, 0.1) = %s", d)
		}
	}
	if jitter(time.Second, 0) != time.Second {
		t.Error("zero jitter changes the duration")
	}
}

func deepSnapshot() *finding.Finding {
	f := &finding.Finding{
		Target: finding.Target{Host: "127.0.0.5", Port: 6379}, Service: "redis", Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC),
		Datasets: []finding.Dataset{{Name: "db0", Kind: "database", Records: finding.Int64(2400), Sampled: 200,
			Classes: []finding.ClassCount{{Class: "auth_token", Sampled: 200, Matched: 200, Examples: []string{"s***"}}}}},
	}
	f.Finalize()
	return f
}

func lightSnapshot(records int64, auth finding.Auth, datasets ...string) *finding.Finding {
	f := &finding.Finding{
		Target: finding.Target{Host: "127.0.0.5", Port: 6379}, Service: "redis", Product: "redis", Version: "7.0.15",
		Status: finding.StatusExposed, Auth: auth, ObservedAt: time.Date(2026, 11, 28, 15, 0, 10, 0, time.UTC),
	}
	for _, d := range append([]string{"db0"}, datasets...) {
		f.Datasets = append(f.Datasets, finding.Dataset{Name: d, Kind: "database", Records: finding.Int64(records)})
	}
	f.Finalize()
	return f
}

func TestCarryClasses(t *testing.T) {
	last := deepSnapshot()
	light := lightSnapshot(2410, finding.AuthNone)
	if light.Severity == finding.SeverityCritical {
		t.Fatal("a light probe alone should not know the classes")
	}
	m := carryClasses(light, last)
	if m.Severity != finding.SeverityCritical || len(m.Classes) != 1 || m.Classes[0] != "auth_token" || m.Datasets[0].Sampled != 200 {
		t.Errorf("merged %+v", m)
	}
	if m.TotalRecords() != 2410 || m.ObservedAt != light.ObservedAt || m.ID != light.ID {
		t.Errorf("merged lost the light probe's facts: %+v", m)
	}
	if got := m.Evidence["classes_sampled_at"]; got != last.ObservedAt.Format(time.RFC3339Nano) {
		t.Errorf("classes_sampled_at = %v", got)
	}
	if len(light.Datasets[0].Classes) != 0 {
		t.Error("carryClasses modified its input")
	}
	// Carried twice, the original sampling time stays.
	if got := carryClasses(lightSnapshot(2420, finding.AuthNone), m).Evidence["classes_sampled_at"]; got != last.ObservedAt.Format(time.RFC3339Nano) {
		t.Errorf("second carry: classes_sampled_at = %v", got)
	}
}

func TestMaterialChange(t *testing.T) {
	p := lifecycle.DefaultPolicy()
	last := deepSnapshot()
	cases := []struct {
		cur  *finding.Finding
		want string
	}{
		{lightSnapshot(2405, finding.AuthNone), ""},
		{lightSnapshot(2400, finding.AuthDefaultCredentials), "auth none→default-credentials"},
		{lightSnapshot(4000, finding.AuthNone), "records 2,400→4,000"},
		{lightSnapshot(0, finding.AuthNone), "records 2,400→0"},
		{lightSnapshot(2400, finding.AuthNone, "db1"), "records"}, // db1 adds 2,400 records
	}
	for _, c := range cases {
		got := materialChange(p, last, carryClasses(c.cur, last))
		if (c.want == "") != (got == "") || !strings.HasPrefix(got, c.want) {
			t.Errorf("materialChange → %q, want %q", got, c.want)
		}
	}
	small := lightSnapshot(0, finding.AuthNone, "db1")
	small.Datasets[0].Records = finding.Int64(2400)
	if got := materialChange(p, last, carryClasses(small, last)); got != "new dataset db1" {
		t.Errorf("new dataset: %q", got)
	}
}

// newTestMonitor builds a monitor on an empty loopback /24 with one port.
func newTestMonitor(t *testing.T, chunk int) (*Monitor, *sqlite.Store, *metrics.Metrics) {
	t.Helper()
	net24 := testenv.Subnet24(t)
	c, err := config.Parse([]byte(`
api: {disable: true}
probe: {rate: 0}
scopes:
  - name: lab
    targets: [`+net24.CIDR()+`]
    ports: [6379]
`), "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lw.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	mon, err := New(context.Background(), Options{Config: c, Store: st, Registry: all.Registry(), Classifier: clf, Metrics: m, Chunk: chunk})
	if err != nil {
		t.Fatal(err)
	}
	return mon, st, m
}

// TestSweepResumes: a sweep that was cut off after 3 of 16 chunks resumes
// there (same scan run, only the rest dialed); a cursor of another scope
// version is abandoned and the sweep starts over.
func TestSweepResumes(t *testing.T) {
	mon, st, m := newTestMonitor(t, 16)
	r := mon.byName["lab"]
	ctx := context.Background()
	run, err := st.BeginScan(ctx, "lab")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SaveScanCursor(ctx, run.ID, cursor{hash: r.hash, done: 48}.String()); err != nil {
		t.Fatal(err)
	}
	if err := r.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetScan(ctx, run.ID)
	if err != nil || got.Status != store.ScanFinished || got.Cursor != (cursor{hash: r.hash, done: 256}).String() {
		t.Fatalf("resumed run %+v, %v", got, err)
	}
	if n := counter(t, m.EndpointsSwept.WithLabelValues("lab")); n != 256-48 {
		t.Errorf("resumed sweep dialed %v endpoints, want %d", n, 256-48)
	}
	if runs, _ := st.ListScans(ctx, store.ScanFilter{Scope: "lab"}); len(runs) != 1 {
		t.Errorf("%d scan runs, want the one resumed", len(runs))
	}

	// A stale cursor (the scope changed): abandoned, a full new sweep.
	old, _ := st.BeginScan(ctx, "lab")
	_ = st.SaveScanCursor(ctx, old.ID, cursor{hash: "otherscope", done: 200}.String())
	if err := r.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetScan(ctx, old.ID); got.Status != store.ScanAbandoned {
		t.Errorf("stale run %+v, want abandoned", got)
	}
	if n := counter(t, m.EndpointsSwept.WithLabelValues("lab")); n != 256-48+256 {
		t.Errorf("dialed %v endpoints in total, want %d", n, 256-48+256)
	}
	if n := counter(t, m.ScansTotal.WithLabelValues("lab", "finished")); n != 2 {
		t.Errorf("scans_total finished = %v", n)
	}
}

// TestCancelledSweepStaysResumable: a sweep cut by shutdown is left running
// with its cursor, for the next start.
func TestCancelledSweepStaysResumable(t *testing.T) {
	mon, st, _ := newTestMonitor(t, 8)
	r := mon.byName["lab"]
	ctx, cancel := context.WithCancel(context.Background())
	mon.limiter.SetLimit(200) // slow enough to cut mid-way
	mon.limiter.SetBurst(1)
	time.AfterFunc(400*time.Millisecond, cancel)
	if err := r.sweep(ctx); err == nil {
		t.Fatal("sweep not cancelled")
	}
	run, err := st.UnfinishedScan(context.Background(), "lab")
	if err != nil {
		t.Fatalf("no unfinished run after cancel: %v", err)
	}
	c, ok := parseCursor(run.Cursor)
	if !ok || c.done <= 0 || c.done >= 256 || c.done%8 != 0 {
		t.Errorf("cursor %q", run.Cursor)
	}
}

func TestTrigger(t *testing.T) {
	mon, _, _ := newTestMonitor(t, 0)
	if ok, err := mon.Trigger("lab"); !ok || err != nil {
		t.Errorf("first trigger: %v %v", ok, err)
	}
	if ok, _ := mon.Trigger("lab"); ok {
		t.Error("second trigger queued while one is pending")
	}
	if _, err := mon.Trigger("nope"); err != ErrUnknownScope {
		t.Errorf("unknown scope: %v", err)
	}
}

func counter(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.Counter.GetValue()
}
