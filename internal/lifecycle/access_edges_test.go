package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestCounterDeltaEdges(t *testing.T) {
	for _, tc := range []struct {
		from, to, own int64
		want          CounterDelta
	}{
		{100, 150, 10, CounterDelta{From: 100, To: 150, Own: 10, Delta: 50, Foreign: 40}},
		{100, 100, 0, CounterDelta{From: 100, To: 100}},
		{100, 99, 5, CounterDelta{From: 100, To: 99, Own: 5, Delta: 99, Foreign: 94, Reset: true}},
		{100, 105, 5, CounterDelta{From: 100, To: 105, Own: 5, Delta: 5}},
		{100, 104, 5, CounterDelta{From: 100, To: 104, Own: 5, Delta: 4, OwnExceeded: true}},
	} {
		if got := counterDelta(tc.from, tc.to, tc.own); got != tc.want {
			t.Errorf("counterDelta(%d, %d, %d) = %+v, want %+v", tc.from, tc.to, tc.own, got, tc.want)
		}
	}
}

func TestAccessDeltaSeen(t *testing.T) {
	zero, one := finding.Int64(0), finding.Int64(1)
	for _, tc := range []struct {
		d    *AccessDelta
		want bool
	}{
		{nil, false},
		{&AccessDelta{ForeignQueries: one}, false}, // not measurable
		{&AccessDelta{Measurable: true}, false},
		{&AccessDelta{Measurable: true, ForeignQueries: zero, ForeignConnections: zero}, false},
		{&AccessDelta{Measurable: true, ForeignQueries: one}, true},
		// Connections alone (a port check, leakwatch's own sweep) are no use.
		{&AccessDelta{Measurable: true, ForeignConnections: one}, false},
		{&AccessDelta{Measurable: true, ForeignQueries: zero, ForeignConnections: one}, false},
		{&AccessDelta{Measurable: true, NewClients: []string{"127.0.0.9"}}, true},
		{&AccessDelta{Measurable: true, Clients: []AccessClient{{Addr: "127.0.0.9"}}}, false},
	} {
		if got := tc.d.Seen(); got != tc.want {
			t.Errorf("%+v.Seen() = %v, want %v", tc.d, got, tc.want)
		}
	}
}

func TestAccessDeltaSummaryExact(t *testing.T) {
	since := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	var nilDelta *AccessDelta
	for _, tc := range []struct {
		d    *AccessDelta
		want string
	}{
		{nilDelta, ""},
		{&AccessDelta{Why: "no counters"}, "access not measurable: no counters"},
		{&AccessDelta{Measurable: true, ForeignQueries: finding.Int64(0)}, "0 foreign queries"},
		{&AccessDelta{Measurable: true, ForeignConnections: finding.Int64(2)}, "2 foreign connections"},
		{&AccessDelta{Measurable: true, Clients: []AccessClient{{Addr: "127.0.0.9"}}}, "other clients 127.0.0.9"},
		{&AccessDelta{Measurable: true, ForeignQueries: finding.Int64(1031), ForeignConnections: finding.Int64(2),
			Clients: []AccessClient{{Addr: "127.0.0.9"}, {Addr: "127.0.0.10"}}, Since: since, Reset: true, Gap: true},
			"1,031 foreign queries, 2 foreign connections, other clients 127.0.0.9, 127.0.0.10 since 2026-11-28T15:00:00Z" +
				" (counters reset: the store restarted; lower bound) (checks in between without counters; upper bound)"},
	} {
		if got := tc.d.Summary(); got != tc.want {
			t.Errorf("Summary(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestParseAccessForms(t *testing.T) {
	ev := AccessEvidence{Measurable: true, Counters: map[string]int64{CounterQueries: 7}}
	ptr := &ev
	for _, tc := range []struct {
		name    string
		f       *finding.Finding
		queries int64
		ok      bool
	}{
		{"nil finding", nil, 0, false},
		{"no evidence", &finding.Finding{}, 0, false},
		{"no access key", &finding.Finding{Evidence: map[string]any{"other": 1}}, 0, false},
		{"nil value", &finding.Finding{Evidence: map[string]any{EvidenceAccess: nil}}, 0, false},
		{"value", &finding.Finding{Evidence: map[string]any{EvidenceAccess: ev}}, 7, true},
		{"pointer", &finding.Finding{Evidence: map[string]any{EvidenceAccess: ptr}}, 7, true},
		{"decoded JSON", &finding.Finding{Evidence: map[string]any{EvidenceAccess: map[string]any{"measurable": true, "counters": map[string]any{CounterQueries: 7}}}}, 7, true},
		{"not an object", &finding.Finding{Evidence: map[string]any{EvidenceAccess: "x"}}, 0, false},
	} {
		a := ParseAccess(tc.f)
		if (a != nil) != tc.ok || a != nil && (a.Counters[CounterQueries] != tc.queries || !a.Measurable) {
			t.Errorf("%s: ParseAccess = %+v", tc.name, a)
		}
	}
	if a := ParseAccess(&finding.Finding{Evidence: map[string]any{EvidenceAccess: ptr}}); a != ptr {
		t.Errorf("pointer evidence copied, not returned")
	}
}

// TestForeignAccessDatasetsAndReset: per-dataset foreign counts from one
// request on, and the reset limit only when a counter went down.
func TestForeignAccessDatasetsAndReset(t *testing.T) {
	mk := func(q int64, ds int64) *finding.Finding {
		return &finding.Finding{ObservedAt: t0, Evidence: map[string]any{EvidenceAccess: AccessEvidence{
			Measurable: true, Counters: map[string]int64{CounterQueries: q},
			Datasets: map[string]map[string]int64{"idx": {"search": ds}},
		}}}
	}
	d := ForeignAccess(mk(10, 5), mk(20, 6), false)
	if d == nil || d.Datasets["idx"]["search"] != 1 || d.Reset {
		t.Fatalf("delta %+v", d)
	}
	for _, l := range d.Limits {
		if strings.Contains(l, "went down") {
			t.Errorf("reset limit without a reset: %v", d.Limits)
		}
	}
	d = ForeignAccess(mk(10, 5), mk(20, 5), false)
	if _, ok := d.Datasets["idx"]; ok {
		t.Errorf("dataset without foreign requests listed: %+v", d.Datasets)
	}
	d = ForeignAccess(mk(30, 5), mk(20, 5), false)
	found := false
	for _, l := range d.Limits {
		found = found || strings.Contains(l, "went down")
	}
	if !d.Reset || !found {
		t.Errorf("reset %v, limits %v", d.Reset, d.Limits)
	}
}

func TestIncidentSummaryEdges(t *testing.T) {
	var nilIn *Incident
	if nilIn.Summary(EventDestroyed) != "" {
		t.Errorf("nil incident summary")
	}
	in := &Incident{RansomNotes: []string{"README_TO_RESTORE"}}
	if got := in.Summary(EventExtortion); got != "ransom note README_TO_RESTORE" {
		t.Errorf("extortion: %q", got)
	}
	if got := (&Incident{}).Summary(EventExtortion); got != "ransom-note flagged by the prober" {
		t.Errorf("extortion by flag: %q", got)
	}
	in = &Incident{Canaries: []string{"prod-users"}, CanaryDatasets: []string{"users"}}
	if got := in.Summary(EventCanary); got != "canary prod-users; in users" {
		t.Errorf("canary: %q", got)
	}
	if got := (&Incident{Canaries: []string{"prod-users"}}).Summary(EventCanary); got != "canary prod-users" {
		t.Errorf("canary without dataset: %q", got)
	}
}

// TestDestructionThresholds: a drop counts when it is more than DropMin
// records and more than DropRatio of them; hidden or uncounted datasets
// never count.
func TestDestructionThresholds(t *testing.T) {
	snapOf := func(ds ...finding.Dataset) *finding.Finding { return &finding.Finding{Datasets: ds} }
	dsn := func(name string, n int64, hidden bool) finding.Dataset {
		return finding.Dataset{Name: name, Records: finding.Int64(n), Hidden: hidden}
	}
	for _, tc := range []struct {
		name      string
		prev, cur *finding.Finding
		lost      int64
	}{
		{"half of 202 is 101: not more than half", snapOf(dsn("a", 202, false)), snapOf(dsn("a", 101, false)), 0},
		{"102 of 202", snapOf(dsn("a", 202, false)), snapOf(dsn("a", 100, false)), 102},
		{"100 of 150: not more than DropMin", snapOf(dsn("a", 150, false)), snapOf(dsn("a", 50, false)), 0},
		{"101 of 150", snapOf(dsn("a", 150, false)), snapOf(dsn("a", 49, false)), 101},
		{"hidden", snapOf(dsn("a", 5000, true)), snapOf(dsn("a", 0, true)), 0},
		{"uncounted before", snapOf(finding.Dataset{Name: "a"}), snapOf(dsn("a", 0, false)), 0},
		{"hidden gone", snapOf(dsn("a", 5000, true), dsn("b", 1, false)), snapOf(dsn("b", 1, false)), 0},
		{"gone", snapOf(dsn("a", 5000, false)), snapOf(dsn("b", 1, false)), 5000},
	} {
		in := destruction(tc.prev, tc.cur)
		var lost int64
		if in != nil {
			lost = in.RecordsLost
		}
		if lost != tc.lost {
			t.Errorf("%s: lost %d, want %d (%+v)", tc.name, lost, tc.lost, in)
		}
	}
}

// TestVanishedNeedsCompleteListing: a dataset absent from a listing that
// may be incomplete (an error, a truncation flag) is not proven gone; a
// complete listing proves it gone above DropMin records.
func TestVanishedNeedsCompleteListing(t *testing.T) {
	prev := &finding.Finding{Datasets: []finding.Dataset{{Name: "a", Records: finding.Int64(5000)}}}
	for _, tc := range []struct {
		name string
		cur  *finding.Finding
		lost int64
	}{
		{"complete", &finding.Finding{}, 5000},
		{"error", &finding.Finding{Error: "timeout"}, 0},
		{"truncated", &finding.Finding{Flags: []string{"datasets-truncated"}}, 0},
		{"other flag", &finding.Finding{Flags: []string{"ransom-note"}}, 5000},
	} {
		in := destruction(prev, tc.cur)
		var lost int64
		if in != nil {
			lost = in.RecordsLost
		}
		if lost != tc.lost {
			t.Errorf("%s: lost %d, want %d", tc.name, lost, tc.lost)
		}
	}
	for n, want := range map[int64]int64{DropMin: 0, DropMin + 1: DropMin + 1} {
		p := &finding.Finding{Datasets: []finding.Dataset{{Name: "a", Records: finding.Int64(n)}}}
		in := destruction(p, &finding.Finding{})
		var lost int64
		if in != nil {
			lost = in.RecordsLost
		}
		if lost != want {
			t.Errorf("%d records vanished: lost %d, want %d", n, lost, want)
		}
	}
}

// TestAccessGap: the gap limit is stated exactly when checks in between
// carried no counters, and an interval with a non-exposed check in it is
// such a gap.
func TestAccessGap(t *testing.T) {
	ev := func(q int64) map[string]any {
		return map[string]any{EvidenceAccess: AccessEvidence{Measurable: true, Counters: map[string]int64{CounterQueries: q}}}
	}
	prev := &finding.Finding{ObservedAt: t0, Evidence: ev(10)}
	cur := &finding.Finding{ObservedAt: at(5), Evidence: ev(20)}
	hasGap := func(d *AccessDelta) bool {
		for _, l := range d.Limits {
			if strings.Contains(l, "carried no counters") {
				return true
			}
		}
		return false
	}
	if d := ForeignAccess(prev, cur, true); !d.Gap || !hasGap(d) {
		t.Errorf("gap: %+v", d)
	}
	if d := ForeignAccess(prev, cur, false); d.Gap || hasGap(d) {
		t.Errorf("no gap: %+v", d)
	}
	withEv := func(min int, q int64) Observation {
		o := exposed(min, base)
		o.Finding.Evidence = ev(q)
		return o
	}
	for _, tc := range []struct {
		name string
		obs  []Observation
		gap  bool
	}{
		{"consecutive exposed checks", []Observation{withEv(0, 10), withEv(1, 20)}, false},
		{"a gone check in between", []Observation{withEv(0, 10), gone(1), withEv(2, 20)}, true},
	} {
		_, evs := fold(t, tc.obs...)
		var d *AccessDelta
		for _, e := range evs {
			if e.Kind == EventAccessed {
				d = e.Access
			}
		}
		if d == nil || d.Gap != tc.gap {
			t.Errorf("%s: accessed delta %+v, want gap %v", tc.name, d, tc.gap)
		}
	}
}
