package cluster

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestStatusInFlightAndParts: against a real nats-server and PostgreSQL,
// the status shows a worker holding an item (a tarpit keeps its probe
// busy) with in_flight 1 in its heartbeat, a heartbeat without the field
// (an older worker) as 0, and a result whose parts stopped arriving as
// one incomplete part set (also as a metric) until its last part comes.
func TestStatusInFlightAndParts(t *testing.T) {
	testenv.Binary(t, "nats-server")
	js := testenv.StartNATSJetStream(t).JetStream(t)
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := pgxpool.New(ctx, pg.URL(pg.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := Names{Prefix: "LWS"}
	if err := Setup(ctx, js, n); err != nil {
		t.Fatal(err)
	}
	// Before any coordinator made the tables: no error, nothing counted.
	if st, err := ReadStatus(ctx, js, n, db); err != nil || st.IncompletePartSets != 0 {
		t.Fatalf("status without tables: %+v, %v", st, err)
	}
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}

	// A result in parts of which only the first arrived.
	c := &Coordinator{o: CoordinatorOptions{DB: db}, waiters: map[string]chan struct{}{}}
	rng := rand.New(rand.NewPCG(9, 10))
	var checks []monitor.Check
	for i := range 4 {
		checks = append(checks, bigCheck(rng, byte(30+i), 40))
	}
	parts, err := split(Result{ItemID: "run/64/dc-a", RunID: "run", Site: "dc-a", Attempt: 1, Worker: "gone", Checks: checks}, 16<<10)
	if err != nil || len(parts) < 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	feed := partFeeder(ctx, t, c)
	feed(parts[0])

	// An older worker's heartbeat, without in_flight.
	kv, err := js.KeyValue(ctx, n.WorkersBucket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "old", []byte(`{"name":"old","sites":["dc-a"],"at":"`+time.Now().UTC().Format(time.RFC3339)+`","items":3}`)); err != nil {
		t.Fatal(err)
	}

	// A worker holding an item: its probe sits on a tarpit.
	publishTarpitItem(ctx, t, js, n)
	w := testWorker(t, js, n, "busy", "s")
	wctx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); _ = w.Run(wctx) }()
	defer func() { stop(); <-ran }()

	var st Status
	held := func() (Heartbeat, bool) {
		for _, hb := range st.Workers {
			if hb.Name == "busy" {
				return hb, hb.InFlight == 1
			}
		}
		return Heartbeat{}, false
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st, err = ReadStatus(ctx, js, n, db); err != nil {
			t.Fatal(err)
		}
		if _, ok := held(); ok {
			break
		}
	}
	if hb, ok := held(); !ok {
		t.Fatalf("worker busy never shown with 1 item in flight: %+v (workers %+v)", hb, st.Workers)
	}
	for _, hb := range st.Workers {
		if hb.Name == "old" && (hb.InFlight != 0 || hb.Items != 3) {
			t.Errorf("older heartbeat read as %+v", hb)
		}
	}
	b, _ := json.Marshal(st)
	var raw struct {
		Workers []map[string]any `json:"workers"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, wk := range raw.Workers {
		if wk["name"] == "busy" && wk["in_flight"] != 1.0 {
			t.Errorf("JSON worker %v", wk)
		}
	}
	if st.IncompletePartSets != 1 || st.IncompletePartSetsCapped || st.OldestIncompleteSeconds < 0 || st.OldestIncompleteSeconds > 60 {
		t.Errorf("incomplete part sets %d (capped %v), oldest %.1fs; want 1", st.IncompletePartSets, st.IncompletePartSetsCapped, st.OldestIncompleteSeconds)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector(js, n, db, nil, "me"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sets float64 = -1
	for _, mf := range mfs {
		if mf.GetName() == "leakwatch_cluster_incomplete_part_sets" {
			sets = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if sets != 1 {
		t.Errorf("leakwatch_cluster_incomplete_part_sets = %v, want 1", sets)
	}

	// The worker lets the item go when stopped; the set completes.
	stop()
	<-ran
	if s := w.Stats(); s.InFlight != 0 {
		t.Errorf("in flight %d after the worker stopped", s.InFlight)
	}
	for i, p := range parts[1:] {
		if done := feed(p); done != (i == len(parts)-2) {
			t.Fatalf("part %d of %d: complete %v", i+2, len(parts), done)
		}
	}
	if st, err = ReadStatus(ctx, js, n, db); err != nil || st.IncompletePartSets != 0 || st.OldestIncompleteSeconds != 0 {
		t.Errorf("after the last part: %d incomplete, oldest %.1fs, %v", st.IncompletePartSets, st.OldestIncompleteSeconds, err)
	}
}
