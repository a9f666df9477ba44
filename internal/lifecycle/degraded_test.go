package lifecycle

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// cutShapes are the ways a check cut short can show a dataset that is
// still there: absent from the listing, listed without a count, listed
// with the part of the count read before the cut.
var cutShapes = map[string]func(*finding.Finding){
	"absent":     func(f *finding.Finding) { f.Datasets = nil },
	"no count":   func(f *finding.Finding) { f.Datasets[0].Records = nil },
	"part count": func(f *finding.Finding) { f.Datasets[0].Records = finding.Int64(3) },
}

// cutWays are every flag that says a check was cut short, and an error.
func cutWays() map[string]func(*finding.Finding) {
	ways := map[string]func(*finding.Finding){
		"error": func(f *finding.Finding) { f.Error = "read tcp: i/o timeout" },
	}
	for _, flag := range incompleteFlags {
		ways[flag] = func(f *finding.Finding) { f.Flags = append(f.Flags, flag) }
	}
	return ways
}

// TestCutCheckIsNotEvidence: the class behind a serve test that missed a
// wipe — a check cut short between a full check and the check that sees
// the wipe. For every way a check can be cut and every shape the cut can
// take, one or two cut checks in between change nothing a full sequence
// reports: no records change and no "new flag" from a cut check, and the
// destroyed event measured against the last full check.
func TestCutCheckIsNotEvidence(t *testing.T) {
	full := snap{datasets: map[string]int64{"customers": 2000}}
	wiped := snap{datasets: map[string]int64{"read_me": 1}}
	_, direct := fold(t, exposed(0, full), exposed(3, wiped))
	want := byKind(direct, EventDestroyed)
	if want == nil {
		t.Fatalf("full → wiped: no destroyed event in %v", evKinds(direct))
	}
	for way, cut := range cutWays() {
		for shape, reshape := range cutShapes {
			if way == "datasets-truncated" && shape == "part count" {
				// The listing cap drops datasets, never counts: a
				// listed dataset's lower count is a real drop
				// (TestDestruction).
				continue
			}
			for n := 1; n <= 2; n++ {
				t.Run(fmt.Sprintf("%s/%s/%d", way, shape, n), func(t *testing.T) {
					obs := []Observation{exposed(0, full)}
					for i := 1; i <= n; i++ {
						f := full.finding(at(i))
						reshape(f)
						cut(f)
						obs = append(obs, FromFinding(f, "lab"))
					}
					s, evs := fold(t, obs...)
					for _, e := range evs {
						if e.Kind == EventChanged && (e.Diff.RecordsTo != nil || len(e.Diff.NewFlags) > 0) {
							t.Errorf("cut check reported as a change: %s", e.Summary)
						}
						if e.Kind == EventDestroyed {
							t.Errorf("cut check reported as destruction: %s", e.Summary)
						}
					}
					if ref := s.LossReference(); ref == nil || !ref.ObservedAt.Equal(at(0)) {
						t.Fatalf("loss reference after cut checks: %+v", ref)
					}
					r, err := DefaultPolicy().Apply(s, exposed(3, wiped))
					if err != nil {
						t.Fatal(err)
					}
					got := byKind(r.Events, EventDestroyed)
					if got == nil {
						t.Fatalf("wipe after cut checks: no destroyed event in %v", evKinds(r.Events))
					}
					if !reflect.DeepEqual(got.Incident, want.Incident) {
						t.Errorf("incident %+v, want %+v", got.Incident, want.Incident)
					}
					if r.State.Reference != nil {
						t.Errorf("a full check keeps a reference: %+v", r.State.Reference)
					}
				})
			}
		}
	}
}

// TestCutCheckStillReportsWhatItProves: a cut check still proves what it
// lists: a new class, more records, an auth change are news, and the
// baseline it leaves does not take an unread count for zero.
func TestCutCheckStillReportsWhatItProves(t *testing.T) {
	full := snap{datasets: map[string]int64{"customers": 2000}}
	f := with(func(s *snap) {}).finding(at(1))
	f.Datasets = []finding.Dataset{{Name: "customers", Kind: "keyspace", Classes: []finding.ClassCount{{Class: "ssn", Sampled: 10, Matched: 10}}}}
	f.Flags = []string{"probe-timeout"}
	f.Finalize()
	s, evs := fold(t, exposed(0, full), FromFinding(f, "lab"))
	ch := byKind(evs, EventChanged)
	if ch == nil || !slices.Contains(ch.Diff.NewClasses, "ssn") || ch.Diff.RecordsTo != nil || len(ch.Diff.NewFlags) > 0 {
		t.Fatalf("cut check with a new class: %v %+v", evKinds(evs), ch)
	}
	if got := s.Baseline.TotalRecords(); got != 2000 {
		t.Errorf("baseline after a cut check counts %d records, want the full check's 2000", got)
	}
	// The next full check with the same 2,000 records is no news.
	r, err := DefaultPolicy().Apply(s, exposed(2, snap{datasets: map[string]int64{"customers": 2000}, classes: map[string]string{"customers": "ssn"}}))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) > 0 {
		t.Errorf("full check after a cut one: %v (%s)", evKinds(r.Events), r.Events[0].Summary)
	}

	// Growth seen by a cut check is news, and moves the baseline.
	grown := full.finding(at(1))
	grown.Datasets[0].Records = finding.Int64(9000)
	grown.Flags = []string{"partial"}
	s, evs = fold(t, exposed(0, full), FromFinding(grown, "lab"))
	if ch := byKind(evs, EventChanged); ch == nil || ch.Diff.RecordsTo == nil || *ch.Diff.RecordsTo != 9000 {
		t.Fatalf("growth in a cut check: %v", evKinds(evs))
	}
	if s.Baseline.TotalRecords() != 9000 {
		t.Errorf("baseline after growth: %d records", s.Baseline.TotalRecords())
	}
}

// TestSteadyTruncationComparesLikeForLike: a store always cut the same way
// (more datasets than the listing cap) is compared with itself: a drop of
// its listed records is a change, as for a store listed in full.
func TestSteadyTruncationComparesLikeForLike(t *testing.T) {
	trunc := func(n int64) snap {
		return snap{datasets: map[string]int64{"db0": n}, flags: []string{"datasets-truncated"}}
	}
	s, evs := fold(t, exposed(0, trunc(2000)), exposed(1, trunc(500)))
	ch := byKind(evs, EventChanged)
	if ch == nil || ch.Diff.RecordsTo == nil || *ch.Diff.RecordsTo != 500 {
		t.Fatalf("truncated 2000 → truncated 500: %v", evKinds(evs))
	}
	if s.Reference != nil {
		t.Errorf("like-for-like checks keep a reference")
	}
}
