package lifecycle

import (
	"reflect"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

func evKinds(evs []Event) []EventKind {
	var out []EventKind
	for _, e := range evs {
		out = append(out, e.Kind)
	}
	return out
}

func byKind(evs []Event, k EventKind) *Event {
	for i := range evs {
		if evs[i].Kind == k {
			return &evs[i]
		}
	}
	return nil
}

// TestDestruction: the thresholds at their edges (a drop must be > 50 %
// and > 100 records; a vanished dataset must have held > 100), against the
// previous exposed snapshot, and never from an incomplete listing.
func TestDestruction(t *testing.T) {
	two := snap{datasets: map[string]int64{"db0": 2000, "db1": 500}}
	for _, tc := range []struct {
		name string
		next snap
		want []Drop // vanished then dropped, by name
		lost int64
	}{
		{"unchanged", two, nil, 0},
		{"db1 gone", snap{datasets: map[string]int64{"db0": 2000}}, []Drop{{Name: "db1", Kind: "keyspace", From: 500}}, 500},
		{"both gone", snap{datasets: map[string]int64{}}, []Drop{{Name: "db0", Kind: "keyspace", From: 2000}, {Name: "db1", Kind: "keyspace", From: 500}}, 2500},
		{"drop exactly half is not", snap{datasets: map[string]int64{"db0": 1000, "db1": 500}}, nil, 0},
		{"drop just over half", snap{datasets: map[string]int64{"db0": 999, "db1": 500}}, []Drop{{Name: "db0", Kind: "keyspace", From: 2000, To: finding.Int64(999)}}, 1001},
		{"drop to zero", snap{datasets: map[string]int64{"db0": 0, "db1": 500}}, []Drop{{Name: "db0", Kind: "keyspace", From: 2000, To: finding.Int64(0)}}, 2000},
		{"growth", snap{datasets: map[string]int64{"db0": 9000, "db1": 500}}, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := fold(t, exposed(0, two), exposed(1, tc.next))
			ev := byKind(evs, EventDestroyed)
			if tc.want == nil {
				if ev != nil {
					t.Fatalf("unexpected destroyed event %+v", ev.Incident)
				}
				return
			}
			if ev == nil {
				t.Fatalf("no destroyed event in %v", evKinds(evs))
			}
			got := append(append([]Drop{}, ev.Incident.Vanished...), ev.Incident.Dropped...)
			if !reflect.DeepEqual(got, tc.want) || ev.Incident.RecordsLost != tc.lost {
				t.Errorf("incident %+v, want %+v lost %d", ev.Incident, tc.want, tc.lost)
			}
			if ev.Severity != finding.SeverityCritical || !ev.Incident.Since.Equal(at(0)) || !ev.At.Equal(at(1)) {
				t.Errorf("event %+v", ev)
			}
		})
	}

	// Small drops: 150 → 60 is > 50 % but only 90 records; a 100-record
	// dataset vanishing is not destruction either.
	small := snap{datasets: map[string]int64{"a": 150, "b": 100}}
	_, evs := fold(t, exposed(0, small), exposed(1, snap{datasets: map[string]int64{"a": 60}}))
	if byKind(evs, EventDestroyed) != nil {
		t.Errorf("small drops: %v", evKinds(evs))
	}

	// A truncated listing proves nothing gone; a shrunk listed dataset
	// still counts.
	trunc := snap{datasets: map[string]int64{"db0": 100}, flags: []string{"datasets-truncated"}}
	_, evs = fold(t, exposed(0, two), exposed(1, trunc))
	ev := byKind(evs, EventDestroyed)
	if ev == nil || len(ev.Incident.Vanished) != 0 || len(ev.Incident.Dropped) != 1 {
		t.Errorf("truncated listing: %+v", evs)
	}

	// Against the previous exposed snapshot, across a close and reopen.
	_, evs = fold(t, exposed(0, two), gone(1), gone(2), exposed(3, snap{datasets: map[string]int64{"db1": 500}}))
	if ev := byKind(evs, EventDestroyed); ev == nil || ev.Incident.Vanished[0].Name != "db0" || byKind(evs, EventReopened) == nil {
		t.Errorf("reopened without db0: %v", evKinds(evs))
	}
	want := "destroyed: redis on 127.0.0.5:6379: db0 gone (2,000 records); 2,000 records lost"
	if ev := byKind(evs, EventDestroyed); ev.Summary != want {
		t.Errorf("summary %q, want %q", ev.Summary, want)
	}
}

// TestExtortion: a ransom-note dataset by name or by a prober's flag, once;
// present at first sight too.
func TestExtortion(t *testing.T) {
	note := with(func(s *snap) { s.datasets["public.read_me_to_recover"] = 1 })
	_, evs := fold(t, exposed(0, base), exposed(1, note), exposed(2, note))
	if got := evKinds(evs); !reflect.DeepEqual(got, []EventKind{EventOpened, EventChanged, EventExtortion}) {
		t.Fatalf("events %v", got)
	}
	ev := byKind(evs, EventExtortion)
	if !reflect.DeepEqual(ev.Incident.RansomNotes, []string{"public.read_me_to_recover"}) || ev.Severity != finding.SeverityCritical {
		t.Errorf("incident %+v", ev.Incident)
	}
	if want := "extortion: redis on 127.0.0.5:6379: ransom note public.read_me_to_recover"; ev.Summary != want {
		t.Errorf("summary %q", ev.Summary)
	}
	_, evs = fold(t, exposed(0, note))
	if got := evKinds(evs); !reflect.DeepEqual(got, []EventKind{EventOpened, EventExtortion}) {
		t.Errorf("first sight: %v", got)
	}
	flagged := with(func(s *snap) { s.flags = []string{"ransom-note"} })
	_, evs = fold(t, exposed(0, base), exposed(1, flagged), exposed(2, flagged))
	if ev := byKind(evs, EventExtortion); ev == nil || !ev.Incident.RansomFlag || len(evs) != 3 {
		t.Errorf("flag: %v", evKinds(evs))
	}
	for name, want := range map[string]bool{"README": true, "how_to_recover_your_data": true, "MEOW": true, "customers": false, "orders": false} {
		if IsRansomNoteName(name) != want {
			t.Errorf("IsRansomNoteName(%q) != %v", name, want)
		}
	}
}

// TestCanaryEvent: a canary label alerts once, with its dataset.
func TestCanaryEvent(t *testing.T) {
	c := with(func(s *snap) { s.canary = "db0" })
	_, evs := fold(t, exposed(0, base), exposed(1, c), exposed(2, c))
	ev := byKind(evs, EventCanary)
	if ev == nil || len(evKinds(evs)) != 3 || !reflect.DeepEqual(ev.Incident.Canaries, []string{"lw-canary-1"}) ||
		!reflect.DeepEqual(ev.Incident.CanaryDatasets, []string{"db0"}) {
		t.Fatalf("events %v %+v", evKinds(evs), ev)
	}
	if want := "canary: redis on 127.0.0.5:6379: canary lw-canary-1; in db0"; ev.Summary != want {
		t.Errorf("summary %q", ev.Summary)
	}
}

// TestClosingProofEvidence: a protected check's auth challenge is carried
// into the proof; other evidence is not.
func TestClosingProofEvidence(t *testing.T) {
	p := protected(1)
	p.Finding.Evidence = map[string]any{"auth_challenge": `Basic realm="security"`, "http_status": 401, "cluster_uuid": "x"}
	p.Finding.Product = "opensearch"
	_, evs := fold(t, exposed(0, base), p, gone(2))
	ev := byKind(evs, EventClosed)
	if ev == nil {
		t.Fatal("not closed")
	}
	want := map[string]any{"auth_challenge": `Basic realm="security"`, "http_status": 401}
	if !reflect.DeepEqual(ev.Proof[0].Evidence, want) || ev.Proof[0].Product != "opensearch" || ev.Proof[1].Evidence != nil {
		t.Errorf("proof %+v", ev.Proof)
	}
}
