package lifecycle

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func accessSnap(at time.Time, a *AccessEvidence) *finding.Finding {
	f := &finding.Finding{
		Target: finding.Target{Host: "127.0.0.5", Port: 6379}, Service: "redis",
		Status: finding.StatusExposed, Auth: finding.AuthNone, ObservedAt: at,
	}
	if a != nil {
		// As stored: plain JSON data, as finding.Sanitize leaves it.
		bad := false
		f.Evidence = map[string]any{EvidenceAccess: finding.PlainValue(*a, &bad)}
	}
	f.Finalize()
	return f
}

func TestForeignAccess(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	t1 := t0.Add(5 * time.Minute)
	reading := func(q, c int64, own, ownAfter int64, clients ...string) *AccessEvidence {
		a := &AccessEvidence{Measurable: true, Method: "INFO stats",
			Counters: map[string]int64{CounterQueries: q, CounterConnections: c},
			Own:      map[string]int64{CounterQueries: own, CounterConnections: 1},
			OwnAfter: map[string]int64{CounterQueries: ownAfter},
		}
		for _, cl := range clients {
			a.Clients = append(a.Clients, AccessClient{Addr: cl, Connections: 1})
		}
		return a
	}
	tests := []struct {
		name        string
		prev, cur   *AccessEvidence
		gap         bool
		measurable  bool
		queries     int64
		conns       int64
		reset, seen bool
		newClients  []string
	}{
		// 1000 → 1100: 12 own before the reading, 3 own after the previous one.
		{"foreign", reading(1000, 50, 10, 3), reading(1100, 54, 12, 3, "127.0.0.9"), false, true, 85, 3, false, true, []string{"127.0.0.9"}},
		{"only own", reading(1000, 50, 10, 3), reading(1015, 51, 12, 3), false, true, 0, 0, false, false, nil},
		{"own exceeds", reading(1000, 50, 10, 3), reading(1010, 51, 12, 3), false, true, 0, 0, false, false, nil},
		{"same client stays", reading(1000, 50, 10, 0, "127.0.0.9"), reading(1012, 51, 12, 0, "127.0.0.9"), false, true, 0, 0, false, false, nil},
		{"restart", reading(1000, 50, 10, 0), reading(40, 3, 12, 0), false, true, 28, 2, true, true, nil},
		{"gap", reading(1000, 50, 10, 0), reading(1100, 52, 12, 0), true, true, 88, 1, false, true, nil},
		{"no previous", nil, reading(1100, 52, 12, 0), false, false, 0, 0, false, false, nil},
		{"not measurable", &AccessEvidence{Why: "no counters"}, reading(1100, 52, 12, 0), false, false, 0, 0, false, false, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := ForeignAccess(accessSnap(t0, tc.prev), accessSnap(t1, tc.cur), tc.gap)
			if d == nil {
				t.Fatal("nil delta")
			}
			if d.Measurable != tc.measurable {
				t.Fatalf("measurable %v (why %q), want %v", d.Measurable, d.Why, tc.measurable)
			}
			if d.Seen() != tc.seen {
				t.Errorf("seen %v, want %v: %s", d.Seen(), tc.seen, d.Summary())
			}
			if !tc.measurable {
				if d.Why == "" || d.ForeignQueries != nil {
					t.Errorf("unmeasurable delta: %+v", d)
				}
				return
			}
			if d.ForeignQueries == nil || *d.ForeignQueries != tc.queries {
				t.Errorf("foreign queries %v, want %d", d.ForeignQueries, tc.queries)
			}
			if d.ForeignConnections == nil || *d.ForeignConnections != tc.conns {
				t.Errorf("foreign connections %v, want %d", d.ForeignConnections, tc.conns)
			}
			if d.Reset != tc.reset || d.Gap != tc.gap {
				t.Errorf("reset %v gap %v", d.Reset, d.Gap)
			}
			if strings.Join(d.NewClients, ",") != strings.Join(tc.newClients, ",") {
				t.Errorf("new clients %v, want %v", d.NewClients, tc.newClients)
			}
			if !d.Since.Equal(t0) || !d.At.Equal(t1) {
				t.Errorf("interval %v..%v", d.Since, d.At)
			}
			for _, cd := range d.Counters {
				if cd.Foreign < 0 {
					t.Errorf("negative foreign %+v", cd)
				}
			}
		})
	}
	if ForeignAccess(accessSnap(t0, reading(1, 1, 0, 0)), accessSnap(t1, nil), false) != nil {
		t.Error("delta without current access evidence")
	}
}

func TestForeignAccessDatasets(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	prev := &AccessEvidence{Measurable: true, Counters: map[string]int64{CounterQueries: 10},
		Datasets: map[string]map[string]int64{"customers": {"search": 4, "get": 0}, "logs": {"search": 1}}}
	cur := &AccessEvidence{Measurable: true, Counters: map[string]int64{CounterQueries: 40},
		Own:         map[string]int64{CounterQueries: 2},
		Datasets:    map[string]map[string]int64{"customers": {"search": 31, "get": 3}, "logs": {"search": 2}, "new": {"search": 9}},
		DatasetsOwn: map[string]map[string]int64{"customers": {"search": 2}, "logs": {"search": 1}}}
	d := ForeignAccess(accessSnap(t0, prev), accessSnap(t0.Add(time.Minute), cur), false)
	if got := d.Datasets["customers"]; got["search"] != 25 || got["get"] != 3 {
		t.Errorf("customers %v", got)
	}
	if _, ok := d.Datasets["logs"]; ok {
		t.Errorf("logs moved only by leakwatch: %v", d.Datasets)
	}
	if *d.ForeignQueries != 28 {
		t.Errorf("foreign %d", *d.ForeignQueries)
	}
}

// The accessed event comes with an exposed observation of an open finding
// whose interval shows foreign use, after the lifecycle's own events.
func TestAccessedEvent(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	r := func(q int64) *AccessEvidence {
		return &AccessEvidence{Measurable: true, Counters: map[string]int64{CounterQueries: q}, Own: map[string]int64{CounterQueries: 5}}
	}
	var p Policy
	s := State{}
	kinds := func(o *finding.Finding) []EventKind {
		t.Helper()
		res, err := p.Apply(s, FromFinding(o, "lab"))
		if err != nil {
			t.Fatal(err)
		}
		s = res.State
		var ks []EventKind
		for _, e := range res.Events {
			ks = append(ks, e.Kind)
			if e.Kind == EventAccessed {
				if e.Access == nil || *e.Access.ForeignQueries != 95 || !strings.Contains(e.Summary, "95 foreign queries") {
					t.Errorf("accessed event %+v", e)
				}
				if _, err := json.Marshal(e); err != nil {
					t.Error(err)
				}
			}
		}
		return ks
	}
	if ks := kinds(accessSnap(t0, r(100))); len(ks) != 1 || ks[0] != EventOpened {
		t.Fatalf("first: %v", ks)
	}
	if ks := kinds(accessSnap(t0.Add(time.Minute), r(105))); len(ks) != 0 {
		t.Fatalf("own only: %v", ks)
	}
	if ks := kinds(accessSnap(t0.Add(2*time.Minute), r(205))); len(ks) != 1 || ks[0] != EventAccessed {
		t.Fatalf("foreign: %v", ks)
	}
}

// A counter that sums per-dataset counters (Elasticsearch queries over
// indices) changes dataset by dataset: an index deleted between the
// readings lowers the total but is no restart, and the requests to the
// indices still there are counted exactly; a listing that does not add up
// falls back to the total.
func TestForeignAccessDeletedDataset(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	sums := map[string][]string{CounterQueries: {"search", "get"}}
	prev := &AccessEvidence{Measurable: true, DatasetSums: sums,
		Counters: map[string]int64{CounterQueries: 1010},
		Datasets: map[string]map[string]int64{"customers": {"search": 1000, "get": 0}, "products": {"search": 10, "get": 0}}}
	cur := &AccessEvidence{Measurable: true, DatasetSums: sums,
		Counters: map[string]int64{CounterQueries: 20},
		Own:      map[string]int64{CounterQueries: 3},
		Datasets: map[string]map[string]int64{"products": {"search": 15, "get": 1}, "read_me": {"search": 4}}}
	d := ForeignAccess(accessSnap(t0, prev), accessSnap(t0.Add(time.Minute), cur), false)
	if d.Reset {
		t.Fatal("a deleted index read as a counter reset")
	}
	// products +6, read_me +4 (new), minus 3 own = 7.
	if d.ForeignQueries == nil || *d.ForeignQueries != 7 {
		t.Fatalf("foreign %v, want 7", d.ForeignQueries)
	}
	if !strings.Contains(strings.Join(d.Limits, "; "), "deleted") {
		t.Errorf("limits do not say that a dataset was deleted: %v", d.Limits)
	}
	// A cut listing (datasets do not add up to the counter): the total is
	// used, and its drop is a reset.
	cut := *cur
	cut.Counters = map[string]int64{CounterQueries: 500}
	d = ForeignAccess(accessSnap(t0, prev), accessSnap(t0.Add(time.Minute), &cut), false)
	if !d.Reset {
		t.Error("a falling total without a complete per-dataset reading must read as a reset")
	}
}

// TestForeignAccessConcurrentSites: leakwatch's checks of one endpoint from
// other sites in the same sweep (order against the reading unknown) are
// subtracted from both intervals around the reading, and a client new at
// such a reading is not news — whichever side of the reading they fell on.
func TestForeignAccessConcurrentSites(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	reading := func(q int64, concurrent int64, clients ...string) *AccessEvidence {
		a := &AccessEvidence{Measurable: true, Method: "INFO stats",
			Counters: map[string]int64{CounterQueries: q},
			Own:      map[string]int64{CounterQueries: 10},
		}
		if concurrent > 0 {
			a.Concurrent = map[string]int64{CounterQueries: concurrent}
		}
		for _, cl := range clients {
			a.Clients = append(a.Clients, AccessClient{Addr: cl, Connections: 1})
		}
		return a
	}
	// Another site's 10 requests landed before the reading at t1 (in the
	// first interval) or after it (in the second): neither is foreign.
	for _, tc := range []struct {
		name             string
		q0, q1, q2       int64
		wantQ1, wantQ2   int64
		clients1         []string
		wantSeen1, seen2 bool
	}{
		{"other site before the reading", 1000, 1020, 1030, 0, 0, []string{"127.0.9.9"}, false, false},
		{"other site after the reading", 1000, 1010, 1030, 0, 0, nil, false, false},
		{"foreign beyond the other site", 1000, 1120, 1130, 100, 0, nil, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := accessSnap(t0, reading(tc.q0, 0))
			c := accessSnap(t0.Add(time.Minute), reading(tc.q1, 10, tc.clients1...))
			n := accessSnap(t0.Add(2*time.Minute), reading(tc.q2, 0))
			d1, d2 := ForeignAccess(p, c, false), ForeignAccess(c, n, false)
			if *d1.ForeignQueries != tc.wantQ1 || *d2.ForeignQueries != tc.wantQ2 {
				t.Errorf("foreign queries %d, %d; want %d, %d", *d1.ForeignQueries, *d2.ForeignQueries, tc.wantQ1, tc.wantQ2)
			}
			if d1.Seen() != tc.wantSeen1 || d2.Seen() != tc.seen2 {
				t.Errorf("seen %v, %v; want %v, %v (%s | %s)", d1.Seen(), d2.Seen(), tc.wantSeen1, tc.seen2, d1.Summary(), d2.Summary())
			}
			if !strings.Contains(strings.Join(d1.Limits, " "), "other sites") {
				t.Errorf("limits do not say so: %v", d1.Limits)
			}
		})
	}
}
