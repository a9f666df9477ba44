package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func check(addr string, port int, service string, status finding.Status) monitor.Check {
	c := monitor.Check{Target: probe.Target{Addr: netip.MustParseAddr(addr), Port: port}, Outcome: probe.Outcome(status)}
	if service != "" {
		f := &finding.Finding{Target: finding.Target{Host: addr, Port: port}, Service: service, Status: status,
			Datasets: []finding.Dataset{{Name: "d", Records: finding.Int64(5)}}}
		f.Finalize()
		c.Finding = f
	}
	return c
}

// TestMerge: a chunk's sites fold into one check per endpoint; the most
// telling check wins; reachable_from lists the sites where the same
// service answered; internet among them raises the severity; a parked
// site is reported.
func TestMerge(t *testing.T) {
	ch := monitor.Chunk{RunID: "r", Start: 0, Sites: []string{"dc-a", "internet", "vpc"},
		Endpoints: endpoints("127.0.0.5:6379", "127.0.0.6:9200")}
	rows := map[string]Result{
		ItemID("r", 0, "dc-a"): {Checks: []monitor.Check{
			check("127.0.0.5", 6379, "redis", finding.StatusProtected),
			check("127.0.0.6", 9200, "", finding.StatusUnknown),
		}},
		ItemID("r", 0, "internet"): {Checks: []monitor.Check{
			check("127.0.0.5", 6379, "redis", finding.StatusExposed),
			// Forged: no worker checks an endpoint outside its chunk, or
			// reports a finding about another address than its check's.
			check("127.0.0.99", 6379, "redis", finding.StatusExposed),
			elsewhere("127.0.0.6", 9200, "127.0.0.98"),
		}},
		ItemID("r", 0, "vpc"): {Parked: true, Error: "boom"},
	}
	res, err := merge(ch, rows)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Parked, []string{"vpc"}) || len(res.Checks) != 2 || res.Foreign != 2 {
		t.Fatalf("merge: %+v", res)
	}
	r := res.Checks[0].Finding
	if r == nil || r.Status != finding.StatusExposed || !slices.Equal(r.ReachableFrom, []string{"dc-a", "internet"}) || r.Severity != finding.SeverityHigh {
		t.Errorf("redis: %+v", r)
	}
	if res.Checks[1].Finding != nil || res.Checks[1].Target.Port != 9200 {
		t.Errorf("silent port: %+v", res.Checks[1])
	}
	// Same status at two sites: the check that sampled more wins (one
	// site may find the store's sampler busy with the other's probe).
	rich := check("127.0.0.7", 11211, "memcached", finding.StatusExposed)
	rich.Finding.Datasets[0].Sampled = 5
	rich.Finding.Datasets[0].Classes = []finding.ClassCount{{Class: "email", Sampled: 5, Matched: 5}}
	rich.Finding.Finalize()
	poor := check("127.0.0.7", 11211, "memcached", finding.StatusExposed)
	res, _ = merge(monitor.Chunk{RunID: "r", Sites: []string{"a", "b"}, Endpoints: endpoints("127.0.0.7:11211")}, map[string]Result{
		ItemID("r", 0, "a"): {Checks: []monitor.Check{poor}}, ItemID("r", 0, "b"): {Checks: []monitor.Check{rich}},
	})
	if len(res.Checks) != 1 || !slices.Equal(res.Checks[0].Finding.Classes, []string{"email"}) || !slices.Equal(res.Checks[0].Finding.ReachableFrom, []string{"a", "b"}) {
		t.Errorf("same status: %+v", res.Checks)
	}
	// The input's findings are not changed (results are shared).
	if f := rows[ItemID("r", 0, "internet")].Checks[0].Finding; f.ReachableFrom != nil {
		t.Errorf("input finding changed: %v", f.ReachableFrom)
	}
}

// TestMergeConcurrentSites: two sites read one store's counters in the same
// sweep; the recorded check carries the other site's own requests as
// concurrent, so neither interval around its reading counts them foreign.
func TestMergeConcurrentSites(t *testing.T) {
	withReading := func(c monitor.Check, q, own int64) monitor.Check {
		a := lifecycle.AccessEvidence{Measurable: true,
			Counters: map[string]int64{lifecycle.CounterQueries: q},
			Own:      map[string]int64{lifecycle.CounterQueries: own},
			OwnAfter: map[string]int64{lifecycle.CounterQueries: 1}}
		bad := false
		c.Finding.Evidence = map[string]any{lifecycle.EvidenceAccess: finding.PlainValue(a, &bad)}
		return c
	}
	a := withReading(check("127.0.0.7", 6379, "redis", finding.StatusExposed), 130, 10)
	b := withReading(check("127.0.0.7", 6379, "redis", finding.StatusExposed), 141, 10)
	res, err := merge(monitor.Chunk{RunID: "r", Sites: []string{"a", "b"}, Endpoints: endpoints("127.0.0.7:6379")}, map[string]Result{
		ItemID("r", 0, "a"): {Checks: []monitor.Check{a}}, ItemID("r", 0, "b"): {Checks: []monitor.Check{b}},
	})
	if err != nil || len(res.Checks) != 1 {
		t.Fatalf("merge: %+v %v", res, err)
	}
	got := lifecycle.ParseAccess(res.Checks[0].Finding)
	if got == nil || got.Concurrent[lifecycle.CounterQueries] != 11 {
		t.Fatalf("recorded reading %+v, want the other site's 10 + 1 requests as concurrent", got)
	}
	for _, in := range []monitor.Check{a, b} {
		if len(lifecycle.ParseAccess(in.Finding).Concurrent) > 0 {
			t.Error("an input finding was changed")
		}
	}
}

// elsewhere is a check of addr:port whose finding names another host.
func elsewhere(addr string, port int, host string) monitor.Check {
	c := check(addr, port, "elasticsearch", finding.StatusExposed)
	f := *c.Finding
	f.Target.Host = host
	f.Finalize()
	c.Finding = &f
	return c
}

// endpoints are a chunk's endpoints.
func endpoints(aps ...string) []scope.Endpoint {
	var out []scope.Endpoint
	for _, a := range aps {
		ap := netip.MustParseAddrPort(a)
		out = append(out, scope.Endpoint{Addr: ap.Addr(), Port: int(ap.Port())})
	}
	return out
}

func TestChunkKey(t *testing.T) {
	id := ItemID("20261206T0947-abc", 4096, "dc.fra")
	if k := chunkKey(id); k != "20261206T0947-abc/4096" {
		t.Errorf("chunkKey(%q) = %q", id, k)
	}
}

// TestEncodeBounds: a result too large for one message is refused; a
// message that expands past the bound does not decode.
func TestEncodeBounds(t *testing.T) {
	if _, err := encode(Result{Checks: []monitor.Check{check("127.0.0.5", 6379, "redis", finding.StatusExposed)}}); err != nil {
		t.Fatalf("small result: %v", err)
	}
	if _, err := encode(Result{Checks: []monitor.Check{{Reason: randomText(4 << 20)}}}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("4 MiB of noise encoded: %v", err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"item_id":"` + strings.Repeat("x", maxDecoded+10)))
	zw.Close()
	var r Result
	if err := decode(b.Bytes(), &r); err == nil {
		t.Errorf("oversized message decoded")
	}
}

func randomText(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = 'a' + byte(x%26)
	}
	return string(b)
}

// FuzzDecode: no message from NATS crashes the decoder of items and
// results.
func FuzzDecode(f *testing.F) {
	seed, _ := encode(Item{ID: "r/0/a", Endpoints: []scope.Endpoint{{Addr: netip.MustParseAddr("127.0.0.1"), Port: 6379}}})
	f.Add(seed)
	seed2, _ := encode(Result{ItemID: "r/0/a", Checks: []monitor.Check{check("127.0.0.5", 6379, "redis", finding.StatusExposed)}})
	f.Add(seed2)
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var it Item
		_ = decode(data, &it)
		var r Result
		_ = decode(data, &r)
	})
}

func testWorker(t *testing.T, js jetstream.JetStream, n Names, name, site string) *Worker {
	t.Helper()
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	b := probe.DefaultBudget()
	b.Timeout = 5 * time.Second
	w, err := NewWorker(WorkerOptions{JS: js, Names: n, Name: name, Sites: []string{site}, Registry: all.Registry(), Classifier: clf,
		Budget: b, AllProbers: true, AckWait: 2 * time.Second, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestPoisonParked (issue 11): against a real nats-server, a work item
// that fails every time (its scope cannot be built) is parked after
// MaxDeliver attempts with its error — as the item's result for the
// coordinator and in the parked stream, where status and metrics show
// it — and one whose workers died on it (delivered more than MaxDeliver
// times without a result) is parked without being run again.
func TestPoisonParked(t *testing.T) {
	testenv.Binary(t, "nats-server")
	js := testenv.StartNATSJetStream(t).JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	n := Names{Prefix: "LWT"}
	if err := Setup(ctx, js, n); err != nil {
		t.Fatal(err)
	}
	// Poison: a target spec the scope parser refuses.
	bad, _ := encode(Item{ID: "run/0/dc-a", RunID: "run", Site: "dc-a", MaxDeliver: 3,
		Spec: monitor.ScopeSpec{Targets: []string{"not a target!"}, Ports: []int{6379}}})
	if _, err := js.Publish(ctx, n.WorkSubject("dc-a"), bad, jetstream.WithMsgID("run/0/dc-a")); err != nil {
		t.Fatal(err)
	}
	// A crasher: delivered 3 times to "workers" that vanish (fetched,
	// never acked, ack wait 2s).
	crash, _ := encode(Item{ID: "run/1/dc-b", RunID: "run", Site: "dc-b", MaxDeliver: 2,
		Spec: monitor.ScopeSpec{Targets: []string{"127.0.0.1"}, Ports: []int{1}}, Endpoints: []scope.Endpoint{{Addr: netip.MustParseAddr("127.0.0.1"), Port: 1}}})
	if _, err := js.Publish(ctx, n.WorkSubject("dc-b"), crash, jetstream.WithMsgID("run/1/dc-b")); err != nil {
		t.Fatal(err)
	}
	cons, err := SiteConsumer(ctx, js, n, "dc-b", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		b, err := cons.Fetch(1, jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for range b.Messages() {
			got++ // dropped: the "worker" died
		}
		if got != 1 {
			t.Fatalf("delivery %d: %d messages", i+1, got)
		}
	}
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, site := range []string{"dc-a", "dc-b"} {
		w := testWorker(t, js, n, "w-"+site, site)
		go w.Run(wctx)
	}
	var st Status
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if st, err = ReadStatus(ctx, js, n, nil); err == nil && st.ParkedTotal == 2 {
			break
		}
	}
	if st.ParkedTotal != 2 || len(st.Parked) != 2 {
		t.Fatalf("status: %+v (err %v)", st, err)
	}
	byID := map[string]ParkedItem{}
	for _, p := range st.Parked {
		byID[p.ItemID] = p
	}
	if p := byID["run/0/dc-a"]; p.Attempts != 3 || !strings.Contains(p.Error, "scope") {
		t.Errorf("poison item: %+v", p)
	}
	if p := byID["run/1/dc-b"]; p.Attempts != 3 || !strings.Contains(p.Error, "without a result") {
		t.Errorf("crasher: %+v", p)
	}
	if st.QueueDepth != 0 {
		t.Errorf("queue depth %d after parking", st.QueueDepth)
	}
	// Both reach the coordinator as parked results.
	rc, err := js.CreateOrUpdateConsumer(ctx, n.ResultStream(), jetstream.ConsumerConfig{Durable: "t", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rc.Fetch(2, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	parked := 0
	for m := range b.Messages() {
		var r Result
		if decode(m.Data(), &r) == nil && r.Parked && r.Error != "" {
			parked++
		}
	}
	if parked != 2 {
		t.Errorf("%d parked results for the coordinator", parked)
	}
	// Metrics show them.
	reg := prometheus.NewRegistry()
	reg.MustRegister(Collector(js, n, nil, nil, "me"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "leakwatch_cluster_parked_items" {
			found = true
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 2 {
				t.Errorf("leakwatch_cluster_parked_items = %v", v)
			}
		}
	}
	if !found {
		t.Errorf("no leakwatch_cluster_parked_items among %d families", len(mfs))
	}
}

// TestInProgressExtends (issue 11): a chunk that takes longer than the
// ack wait (a tarpit holds its probe for the probe timeout) stays with
// its worker — the worker reports progress — and is done once, on the
// first delivery.
func TestInProgressExtends(t *testing.T) {
	testenv.Binary(t, "nats-server")
	js := testenv.StartNATSJetStream(t).JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	n := Names{Prefix: "LWP"}
	if err := Setup(ctx, js, n); err != nil {
		t.Fatal(err)
	}
	publishTarpitItem(ctx, t, js, n)
	w := testWorker(t, js, n, "w", "s") // ack wait 2s, probe timeout 5s
	wctx, stop := context.WithCancel(ctx)
	defer stop()
	start := time.Now()
	go w.Run(wctx)
	rc, err := js.CreateOrUpdateConsumer(ctx, n.ResultStream(), jetstream.ConsumerConfig{Durable: "t", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rc.Fetch(1, jetstream.FetchMaxWait(45*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var r Result
	for m := range b.Messages() {
		if err := decode(m.Data(), &r); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	if r.ItemID != "run/0/s" || r.Attempt != 1 || len(r.Checks) != 1 {
		t.Fatalf("result %+v", r)
	}
	if took < 2*time.Second {
		t.Fatalf("the chunk took %s, not longer than the ack wait: the test proves nothing", took)
	}
	for deadline := time.Now().Add(10 * time.Second); w.Stats().Items == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // the ack follows the result
	}
	if s := w.Stats(); s.Redelivered != 0 || s.Items != 1 {
		t.Errorf("worker stats %+v after a %s chunk with a 2s ack wait", s, took.Round(time.Millisecond))
	}
}

// publishTarpitItem queues work item run/0/s for site s whose one
// endpoint is a tarpit: a worker's probe of it holds the item.
func publishTarpitItem(ctx context.Context, t *testing.T, js jetstream.JetStream, n Names) {
	t.Helper()
	tp := probetest.Tarpit(t)
	ep := scope.Endpoint{Addr: tp.Addr, Port: tp.Port}
	spec := monitor.ScopeSpec{Targets: []string{netip.AddrPortFrom(tp.Addr, uint16(tp.Port)).String()}, Ports: []int{tp.Port}}
	item, _ := encode(Item{ID: "run/0/s", RunID: "run", Site: "s", MaxDeliver: 5, Spec: spec, Endpoints: []scope.Endpoint{ep}})
	if _, err := js.Publish(ctx, n.WorkSubject("s"), item, jetstream.WithMsgID("run/0/s")); err != nil {
		t.Fatal(err)
	}
}
