package dashboard

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// benchFindings is the size of the benchmark history.
const benchFindings = 10000

var bench struct {
	once sync.Once
	dir  string
	st   store.Store
	d    *Dashboard
	id   string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bench.st != nil {
		bench.st.Close()
	}
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// benchDashboard is a SQLite history of 10,000 findings over 30 days in 4
// scopes and 6 kinds of store, a third of them closed, each with three
// datasets and two to four data classes (on tmpfs where there is one: the
// seeding is many small transactions).
func benchDashboard(b *testing.B) (*Dashboard, string) {
	bench.once.Do(func() {
		parent := ""
		if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
			parent = "/dev/shm"
		}
		if bench.dir, bench.err = os.MkdirTemp(parent, "leakwatch-dashbench-"); bench.err != nil {
			return
		}
		ctx := context.Background()
		// The history was written an hour ago (the store's clock), as in a
		// dashboard that has been running.
		past := func() time.Time { return time.Now().Add(-time.Hour) }
		st, err := sqlite.Open(ctx, filepath.Join(bench.dir, "lw.db"), store.Options{Now: past, Route: func(lifecycle.Event, string) []string { return nil }})
		if err != nil {
			bench.err = err
			return
		}
		bench.st = st
		now := time.Now().UTC()
		services := []string{"redis", "elasticsearch", "mongodb", "postgresql", "memcached", "s3"}
		classes := []string{"email", "person_name", "phone", "password_hash", "payment_card", "postal_address"}
		start := time.Now()
		for i := range benchFindings {
			scope := fmt.Sprintf("scope-%d", i%4)
			at := now.Add(-time.Duration(i%(30*24)) * time.Hour)
			f := &finding.Finding{
				Target:  finding.Target{Host: fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256), Port: 6379 + i%7},
				Service: services[i%len(services)], Product: "product", Version: "1.2.3",
				Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: at,
			}
			for d := range 3 {
				ds := finding.Dataset{Name: fmt.Sprintf("db%d_customers_%d", d, i), Kind: "table", Records: finding.Int64(int64(1000 * (d + 1))), Sampled: 200}
				for c := range 2 + i%3 {
					cl := classes[(i+c+d)%len(classes)]
					ds.Classes = append(ds.Classes, finding.ClassCount{Class: cl, Sampled: 200, Matched: 150,
						EstimatedRecords: finding.Int64(750), EstimateLow: finding.Int64(700), EstimateHigh: finding.Int64(800),
						DistinctSubjects: finding.Int64(600), Source: "values", Examples: []string{"j***@e*****.com", "a***@e*****.org"}})
				}
				f.Datasets = append(f.Datasets, ds)
			}
			f.Finalize()
			run := fmt.Sprintf("run-%d", i)
			if _, err := st.RecordObservation(ctx, run, lifecycle.FromFinding(f, scope)); err != nil {
				bench.err = err
				return
			}
			if i%3 == 0 {
				for k := range 2 {
					if _, err := st.RecordObservation(ctx, fmt.Sprintf("%s-gone-%d", run, k),
						lifecycle.Gone(f.Target, f.Service, at.Add(time.Duration(k+1)*time.Minute), "connection refused", scope)); err != nil {
						bench.err = err
						return
					}
				}
			}
			if i == 0 {
				bench.id = f.ID
			}
		}
		fmt.Fprintf(os.Stderr, "seeded %d findings in %s\n", benchFindings, time.Since(start).Round(time.Millisecond))
		scopes := func() []api.ScopeView {
			var out []api.ScopeView
			for i := range 4 {
				out = append(out, api.ScopeView{Name: fmt.Sprintf("scope-%d", i), Targets: []string{"127.0.0.0/8"}})
			}
			return out
		}
		bench.d, bench.err = New(Options{Store: st, Tokens: []string{testToken}, Scopes: scopes})
	})
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	id, s := bench.d.sessions.create("token 1")
	_ = s
	return bench.d, id
}

func benchPage(b *testing.B, path string, cold bool) {
	d, cookie := benchDashboard(b)
	if !cold {
		d.cache.findings(context.Background(), d.o.Store) // warm
	}
	b.ResetTimer()
	size := 0
	for b.Loop() {
		if cold {
			b.StopTimer()
			d.cache = findingCache{}
			b.StartTimer()
		}
		req := httptest.NewRequest("GET", path, nil)
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		w := httptest.NewRecorder()
		d.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("GET %s: %d", path, w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}

// BenchmarkOverview10k: the overview of 10,000 findings, server time
// (store queries, aggregation, template) per page, as a running dashboard
// serves it (the finding cache holds the states; the store is asked for
// those written since). Goal: under 1 s.
func BenchmarkOverview10k(b *testing.B) { benchPage(b, "/ui/", false) }

// BenchmarkOverview10kCold: the same with an empty cache every time (the
// first page after serve starts, or after the periodic full read): every
// stored state is read and decoded.
func BenchmarkOverview10kCold(b *testing.B) { benchPage(b, "/ui/", true) }

// BenchmarkFindings10k: the first page of all 10,000 findings, sorted by
// severity, with a text search over hosts and dataset names.
func BenchmarkFindings10k(b *testing.B) {
	benchPage(b, "/ui/findings?status=all&q=customers_99", false)
}

// BenchmarkDetail: one finding's page.
func BenchmarkDetail(b *testing.B) {
	benchDashboard(b)
	benchPage(b, "/ui/findings/"+bench.id, false)
}

// BenchmarkOverview10kCluster: the overview of 10,000 findings on a
// cluster coordinator: each page also reads the cluster status from a real
// nats-server (8 workers in 4 sites, 100 parked items listed — the most the
// status lists — of the scopes' newest sweeps, 250 parked in all).
func BenchmarkOverview10kCluster(b *testing.B) {
	testenv.Binary(b, "nats-server")
	base, _ := benchDashboard(b)
	ctx := context.Background()
	js := testenv.StartNATSJetStream(b).JetStream(b)
	n := cluster.Names{Prefix: "LWBENCH"}
	if err := cluster.Setup(ctx, js, n); err != nil {
		b.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, n.WorkersBucket())
	if err != nil {
		b.Fatal(err)
	}
	for i := range 8 {
		hb, _ := json.Marshal(cluster.Heartbeat{Name: fmt.Sprintf("worker-%d", i), Sites: []string{fmt.Sprintf("site-%d", i%4)}, At: time.Now().UTC()})
		if _, err := kv.Put(ctx, fmt.Sprintf("worker-%d", i), hb); err != nil {
			b.Fatal(err)
		}
	}
	var runs []string
	for i := range 4 {
		r, err := base.o.Store.BeginScan(ctx, fmt.Sprintf("scope-%d", i))
		if err != nil {
			b.Fatal(err)
		}
		if err := base.o.Store.FinishScan(ctx, r.ID, store.ScanFinished, ""); err != nil {
			b.Fatal(err)
		}
		runs = append(runs, r.ID)
	}
	for i := range 250 {
		site := fmt.Sprintf("site-%d", i%4)
		r := cluster.Result{ItemID: cluster.ItemID(runs[i%4], int64(i/4*1024), site), RunID: runs[i%4], Site: site, Attempt: 5, Parked: true,
			Error: fmt.Sprintf("delivered %d times without a result (workers died or stalled on it)", 4)}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_ = json.NewEncoder(zw).Encode(r)
		_ = zw.Close()
		if _, err := js.Publish(ctx, n.ParkedSubject(site), buf.Bytes()); err != nil {
			b.Fatal(err)
		}
	}
	o := base.o
	o.Chunk = 1024
	o.Cluster = func(ctx context.Context) (cluster.Status, error) { return cluster.ReadStatus(ctx, js, n, nil) }
	d, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	d.cache.findings(ctx, d.o.Store) // warm
	cookie, _ := d.sessions.create("token 1")
	size := 0
	for b.Loop() {
		req := httptest.NewRequest("GET", "/ui/", nil)
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
		w := httptest.NewRecorder()
		d.ServeHTTP(w, req)
		if w.Code != 200 || !bytes.Contains(w.Body.Bytes(), []byte("250 work items parked")) {
			b.Fatalf("GET /ui/: %d, no parked items", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size), "page-bytes")
}
