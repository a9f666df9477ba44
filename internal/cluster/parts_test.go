package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// bigCheck is an exposed store whose finding lists datasets with long
// random (incompressible) names and fields, as a hostile network can
// set up.
func bigCheck(rng *rand.Rand, host byte, datasets int) monitor.Check {
	addr := netip.AddrFrom4([4]byte{127, 0, 0, host})
	f := &finding.Finding{Target: finding.Target{Host: addr.String(), Port: 5432}, Service: "postgres", Status: finding.StatusExposed,
		Auth: finding.AuthNone, Evidence: map[string]any{"banner": noise(rng, 2000)}}
	for i := range datasets {
		d := finding.Dataset{Name: noise(rng, 60), Kind: "table", Records: finding.Int64(int64(i + 1)), Sampled: 1,
			Fields: []finding.Field{{Name: noise(rng, 40)}, {Name: noise(rng, 40)}}}
		if i%7 == 0 {
			d.Classes = []finding.ClassCount{{Class: "email", Sampled: 1, Matched: 1}}
		}
		if i%11 == 0 {
			d.Classes = append(d.Classes, finding.ClassCount{Class: "password", Sampled: 2, Matched: 1})
		}
		f.Datasets = append(f.Datasets, d)
	}
	f.Finalize()
	return monitor.Check{Target: probe.Target{Addr: addr, Port: 5432}, Finding: f, Outcome: probe.Outcome(finding.StatusExposed)}
}

func noise(rng *rand.Rand, n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789_"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// decodeParts decodes split's messages, checking each against limit.
func decodeParts(t *testing.T, msgs [][]byte, limit int) []Result {
	t.Helper()
	var out []Result
	for i, m := range msgs {
		if len(m) > limit {
			t.Fatalf("part %d: %d bytes over the limit %d", i, len(m), limit)
		}
		var r Result
		if err := decode(m, &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func checksJSON(t *testing.T, cs []monitor.Check) string {
	t.Helper()
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSplitAssemble: a result over the message limit is split into parts
// that each fit, carry the header and number i of n; assembled in any
// order and with repeats they give back exactly the checks in order; a
// missing part or a part of another attempt does not assemble.
func TestSplitAssemble(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := Result{ItemID: "run/0/dc-a", RunID: "run", Site: "dc-a", Worker: "w1", Attempt: 2, Swept: 64}
	for i := range 12 {
		r.Checks = append(r.Checks, bigCheck(rng, byte(10+i), 30+rng.IntN(30)))
		r.Checks = append(r.Checks, check(fmt.Sprintf("127.0.1.%d", i), 6379, "", finding.StatusUnknown))
	}
	const limit = 16 << 10
	msgs, err := split(r, limit)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < 3 {
		t.Fatalf("%d parts: the test proves nothing", len(msgs))
	}
	parts := decodeParts(t, msgs, limit)
	for i, p := range parts {
		if p.Part != i || p.Parts != len(parts) || p.ItemID != r.ItemID || p.Attempt != 2 || p.Worker != "w1" || p.Swept != 64 {
			t.Errorf("part %d header: %+v", i, p)
		}
	}
	want := checksJSON(t, r.Checks)
	for trial := range 20 {
		shuffled := slices.Clone(parts)
		if trial%2 == 1 { // repeats (redelivered or republished parts)
			shuffled = append(shuffled, parts[rng.IntN(len(parts))], parts[0])
		}
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := assemble(shuffled)
		if err != nil {
			t.Fatal(err)
		}
		if got.ItemID != r.ItemID || got.Attempt != 2 || got.Parts != 0 || got.Swept != 64 {
			t.Errorf("assembled header %+v", got)
		}
		if checksJSON(t, got.Checks) != want {
			t.Fatalf("trial %d: assembled checks differ from the result's", trial)
		}
	}
	// Nothing was shrunk: every check fit a part on its own.
	for _, c := range r.Checks {
		if c.Finding != nil && slices.Contains(c.Finding.Flags, FlagResultTruncated) {
			t.Errorf("input changed: %v", c.Finding.Flags)
		}
	}
	if _, err := assemble(append(slices.Clone(parts[:1]), parts[2:]...)); err == nil || !strings.Contains(err.Error(), "part 1 of") {
		t.Errorf("a missing part assembled: %v", err)
	}
	other := parts[1]
	other.Attempt = 3
	if _, err := assemble(append(slices.Clone(parts), other)); err == nil {
		t.Errorf("parts of two attempts assembled")
	}
	// A result that fits is one message without part numbers.
	small := Result{ItemID: "run/64/dc-a", Checks: r.Checks[1:2]}
	msgs, err = split(small, limit)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("small result: %d messages, %v", len(msgs), err)
	}
	if p := decodeParts(t, msgs, limit)[0]; p.Parts != 0 || len(p.Checks) != 1 {
		t.Errorf("small result: %+v", p)
	}
}

// TestShrink: a check too large for a message even alone is reduced to a
// valid finding flagged result-truncated — its datasets past the cut are
// one left-out dataset with their count, records and classes — never
// dropped; the other checks go through unchanged.
func TestShrink(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	huge := bigCheck(rng, 9, 1500)
	small := bigCheck(rng, 8, 3)
	r := Result{ItemID: "run/0/dc-a", Attempt: 1, Checks: []monitor.Check{small, huge}}
	const limit = 16 << 10
	msgs, err := split(r, limit)
	if err != nil {
		t.Fatal(err)
	}
	got, err := assemble(decodeParts(t, msgs, limit))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Checks) != 2 || checksJSON(t, got.Checks[:1]) != checksJSON(t, []monitor.Check{small}) {
		t.Fatalf("checks: %d, first changed", len(got.Checks))
	}
	f := got.Checks[1].Finding
	if f == nil || f.ID != huge.Finding.ID || f.Status != finding.StatusExposed || !slices.Contains(f.Flags, FlagResultTruncated) {
		t.Fatalf("shrunk finding: %+v", f)
	}
	if f.Evidence != nil || len(f.Datasets) >= 1500 || len(f.Datasets) < 2 {
		t.Errorf("shrunk finding keeps evidence %v, %d datasets", f.Evidence != nil, len(f.Datasets))
	}
	last := f.Datasets[len(f.Datasets)-1]
	if last.Kind != DatasetKindLeftOut || !strings.Contains(last.Name, fmt.Sprintf("(%d datasets left out", 1500-len(f.Datasets)+1)) {
		t.Errorf("left-out dataset %+v", last)
	}
	if f.TotalRecords() != huge.Finding.TotalRecords() {
		t.Errorf("records %d, want %d", f.TotalRecords(), huge.Finding.TotalRecords())
	}
	// It stays valid: finalized again (as the store does), classes kept.
	g := *f
	g.Finalize()
	if !slices.Equal(g.Classes, huge.Finding.Classes) || g.Severity != huge.Finding.Severity {
		t.Errorf("re-finalized: classes %v severity %s, want %v %s", g.Classes, g.Severity, huge.Finding.Classes, huge.Finding.Severity)
	}
	if len(huge.Finding.Datasets) != 1500 || huge.Finding.Evidence == nil {
		t.Errorf("input finding changed")
	}
}

// TestStorePartsAttempts: against a real PostgreSQL, the coordinator
// records parts idempotently and completes an item with the first
// attempt whose parts are all there — parts of an abandoned attempt
// (its worker died between parts), interleaved with the redelivered
// attempt's, repeated parts and a late part of the abandoned attempt
// after completion change nothing.
func TestStorePartsAttempts(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()
	db, err := pgxpool.New(ctx, pg.URL(pg.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	c := &Coordinator{o: CoordinatorOptions{DB: db}, waiters: map[string]chan struct{}{}}
	rng := rand.New(rand.NewPCG(5, 6))
	base := Result{ItemID: "run/0/dc-a", RunID: "run", Site: "dc-a", Swept: 64}
	var checks []monitor.Check
	for i := range 8 {
		checks = append(checks, bigCheck(rng, byte(20+i), 40))
	}
	const limit = 16 << 10
	attempt := func(k int, worker string, cs []monitor.Check) [][]byte {
		r := base
		r.Attempt, r.Worker, r.Checks = k, worker, cs
		msgs, err := split(r, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) < 3 {
			t.Fatalf("attempt %d: %d parts", k, len(msgs))
		}
		return msgs
	}
	// Attempt 1 saw one check fewer (the store answered differently):
	// its parts must not mix with attempt 2's.
	a1 := attempt(1, "w1", checks[1:])
	a2 := attempt(2, "w2", checks)
	feed := partFeeder(ctx, t, c)
	// w1 dies after all but its last part; w2's parts come interleaved
	// with repeats of w1's and its own, last part first.
	order := [][]byte{a1[0], a2[len(a2)-1], a1[1], a1[0], a2[0]}
	order = append(order, a1[2:len(a1)-1]...)
	for i := 1; i < len(a2)-1; i++ {
		order = append(order, a2[i], a2[i]) // each twice
	}
	for i, b := range order {
		if feed(b) {
			if i != len(order)-2 {
				t.Fatalf("item complete after %d of %d messages", i+1, len(order))
			}
			break
		}
		if i == len(order)-1 {
			t.Fatal("item never complete")
		}
	}
	// Late: w1's last part, repeats of w2's.
	for _, b := range [][]byte{a1[len(a1)-1], a2[0], a2[len(a2)-1]} {
		if feed(b) {
			t.Errorf("a part after completion stored a result again")
		}
	}
	rows, err := c.stored(ctx, []string{base.ItemID})
	if err != nil {
		t.Fatal(err)
	}
	got := rows[base.ItemID]
	if got.Attempt != 2 || got.Worker != "w2" || checksJSON(t, got.Checks) != checksJSON(t, checks) {
		t.Errorf("stored attempt %d by %s with %d checks, want attempt 2 by w2 with %d", got.Attempt, got.Worker, len(got.Checks), len(checks))
	}
	var results, left int
	if err := db.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM cluster_results), (SELECT COUNT(*) FROM cluster_result_parts)`).Scan(&results, &left); err != nil {
		t.Fatal(err)
	}
	if results != 1 || left != 0 {
		t.Errorf("%d results, %d parts left", results, left)
	}
}

// FuzzParts: no pair of messages crashes the part decoder and assembly,
// and whatever assembles is numbered and complete.
func FuzzParts(f *testing.F) {
	rng := rand.New(rand.NewPCG(7, 8))
	msgs, _ := split(Result{ItemID: "r/0/a", Attempt: 1, Checks: []monitor.Check{bigCheck(rng, 1, 30), bigCheck(rng, 2, 30)}}, 4<<10)
	if len(msgs) >= 2 {
		f.Add(msgs[0], msgs[1])
	}
	one, _ := encode(Result{ItemID: "r/0/a", Checks: []monitor.Check{check("127.0.0.5", 6379, "redis", finding.StatusExposed)}})
	f.Add(one, one)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var parts []Result
		for _, m := range [][]byte{a, b} {
			var r Result
			if decode(m, &r) == nil {
				parts = append(parts, r)
			}
		}
		got, err := assemble(parts)
		if err != nil {
			return
		}
		if got.Parts != 0 || len(parts) == 0 || max(parts[0].Parts, 1) > len(parts) {
			t.Fatalf("assembled %+v from %d parts of %d", got, len(parts), parts[0].Parts)
		}
	})
}

// BenchmarkSplit measures splitting a chunk's result of 64 large findings
// (200 datasets with random names each, ≈ 1.3 MB gzip'd) at nats-server's
// default max_payload and at 64 KiB.
func BenchmarkSplit(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	r := Result{ItemID: "run/0/dc-a", Attempt: 1}
	for i := range 64 {
		r.Checks = append(r.Checks, bigCheck(rng, byte(i+1), 200))
	}
	for _, limit := range []int{messageLimit(1 << 20), messageLimit(64 << 10)} {
		b.Run(fmt.Sprintf("limit=%dKiB", limit>>10), func(b *testing.B) {
			var parts, bytes int
			for b.Loop() {
				msgs, err := split(r, limit)
				if err != nil {
					b.Fatal(err)
				}
				parts, bytes = len(msgs), 0
				for _, m := range msgs {
					bytes += len(m)
				}
			}
			b.ReportMetric(float64(parts), "parts")
			b.ReportMetric(float64(bytes)/float64(parts), "bytes/part")
		})
	}
}

// TestItemOverMaxPayload: against a real nats-server with a small
// max_payload, a work item too large for it is refused at once with the
// remedy (a smaller cluster.chunk), not retried for ever; one that fits
// is published.
func TestItemOverMaxPayload(t *testing.T) {
	testenv.Binary(t, "nats-server")
	js := testenv.StartNATSJetStreamWith(t, testenv.NATSJSOptions{MaxPayload: 16 << 10}).JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n := Names{Prefix: "LWM"}
	if err := Setup(ctx, js, n); err != nil {
		t.Fatal(err)
	}
	c := &Coordinator{o: CoordinatorOptions{JS: js, Names: n, MaxDeliver: 3, AckWait: time.Minute}, waiters: map[string]chan struct{}{}, sites: map[string]bool{}}
	rng := rand.New(rand.NewPCG(11, 12))
	ch := monitor.Chunk{Scope: "s", Sites: []string{"dc-a"}, RunID: "run", Spec: monitor.ScopeSpec{Targets: []string{"127.0.0.0/8"}, Ports: []int{6379}}}
	for range 20000 {
		ch.Endpoints = append(ch.Endpoints, scope.Endpoint{Addr: netip.AddrFrom4([4]byte{127, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))}), Port: 1 + rng.IntN(65535)})
	}
	err := c.publish(ctx, ch, "dc-a", ItemID("run", 0, "dc-a"))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "cluster.chunk") {
		t.Errorf("oversized item: %v", err)
	}
	ch.Endpoints = ch.Endpoints[:64]
	if err := c.publish(ctx, ch, "dc-a", ItemID("run", 64, "dc-a")); err != nil {
		t.Errorf("small item: %v", err)
	}
}

// TestStorePartsAssembledBound: parts written by anyone who may publish
// results, each small and within maxDecoded, must not assemble into a
// result the coordinator cannot read back (RunChunk would retry reading
// it for ever and the sweep never end) or hold without bound: a part set
// whose JSON together exceeds the bound, or whose re-encoding would ('<'
// is written \u003c), is dropped, nothing is stored for the item, and a
// later attempt of normal size still completes it (real PostgreSQL).
func TestStorePartsAssembledBound(t *testing.T) {
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	ctx := context.Background()
	db, err := pgxpool.New(ctx, pg.URL(pg.NewDatabase(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	old := maxAssembled
	maxAssembled = 1 << 20
	t.Cleanup(func() { maxAssembled = old })
	c := &Coordinator{o: CoordinatorOptions{DB: db, Logger: slog.New(slog.DiscardHandler)}, waiters: map[string]chan struct{}{}}
	feed := func(r Result) bool {
		t.Helper()
		// As a publisher may write it: without HTML escaping.
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		enc := json.NewEncoder(zw)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		b := buf.Bytes()
		var got Result
		if err := decode(b, &got); err != nil {
			t.Fatal(err)
		}
		ok, err := c.storePart(ctx, got, b)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for i, tc := range []struct {
		name   string
		parts  int
		reason string
	}{
		{"parts too large together", 4, strings.Repeat("a", 400<<10)}, // 1.6 MB of JSON
		{"re-encoding too large", 2, strings.Repeat("<", 30<<10)},     // 240 KB read, 1.4 MB written
	} {
		item := fmt.Sprintf("run/%d/dc-a", i*64)
		for k := range tc.parts {
			r := Result{ItemID: item, RunID: "run", Site: "dc-a", Attempt: 1, Worker: "forged", Part: k, Parts: tc.parts}
			for j := range 4 {
				r.Checks = append(r.Checks, monitor.Check{Target: probe.Target{Addr: netip.AddrFrom4([4]byte{127, 0, byte(k), byte(j)}), Port: 1}, Reason: tc.reason})
			}
			if feed(r) {
				t.Fatalf("%s: an item stored from parts over the bound", tc.name)
			}
		}
		rows, err := c.stored(ctx, []string{item})
		if err != nil {
			t.Fatalf("%s: stored result unreadable: %v", tc.name, err)
		}
		if len(rows) != 0 {
			t.Fatalf("%s: %d results stored", tc.name, len(rows))
		}
		var left int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM cluster_result_parts WHERE item_id = $1`, item).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%s: %d parts of the refused set kept", tc.name, left)
		}
		// The real worker's attempt, in parts of normal size.
		for k := range 2 {
			r := Result{ItemID: item, RunID: "run", Site: "dc-a", Attempt: 2, Worker: "w", Part: k, Parts: 2,
				Checks: []monitor.Check{{Target: probe.Target{Addr: netip.AddrFrom4([4]byte{127, 0, 0, byte(k)}), Port: 1}, Reason: ": refused"}}}
			if done := feed(r); done != (k == 1) {
				t.Fatalf("%s: part %d completes the item: %v", tc.name, k, done)
			}
		}
		rows, err = c.stored(ctx, []string{item})
		if err != nil || rows[item].Attempt != 2 || len(rows[item].Checks) != 2 {
			t.Fatalf("%s: after the worker's attempt: %+v, %v", tc.name, rows[item], err)
		}
	}
}

// partFeeder decodes a part and stores it with c, telling whether it
// completed its item.
func partFeeder(ctx context.Context, t *testing.T, c *Coordinator) func([]byte) bool {
	return func(b []byte) bool {
		t.Helper()
		var r Result
		if err := decode(b, &r); err != nil {
			t.Fatal(err)
		}
		ok, err := c.storePart(ctx, r, b)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
}
