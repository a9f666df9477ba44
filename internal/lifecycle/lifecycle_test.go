package lifecycle

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

var (
	t0     = time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	target = finding.Target{Host: "127.0.0.5", Port: 6379}
	fid    = finding.Fingerprint(target, "redis")
)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// snap describes an exposed snapshot compactly.
type snap struct {
	auth     finding.Auth
	datasets map[string]int64 // name → records
	classes  map[string]string
	flags    []string
	canary   string // dataset with a canary hit
}

func (s snap) finding(when time.Time) *finding.Finding {
	f := &finding.Finding{
		Target: target, Service: "redis", Status: finding.StatusExposed,
		Auth: finding.AuthNone, ObservedAt: when, Flags: s.flags,
	}
	if s.auth != "" {
		f.Auth = s.auth
	}
	for name, n := range s.datasets {
		d := finding.Dataset{Name: name, Kind: "keyspace", Records: finding.Int64(n)}
		if c, ok := s.classes[name]; ok {
			d.Classes = []finding.ClassCount{{Class: c, Sampled: 10, Matched: 10}}
		}
		if s.canary == name {
			d.Canary = []string{"lw-canary-1"}
		}
		f.Datasets = append(f.Datasets, d)
	}
	f.Finalize()
	return f
}

func exposed(min int, s snap) Observation { return FromFinding(s.finding(at(min)), "lab") }

func protected(min int) Observation {
	f := &finding.Finding{Target: target, Service: "redis", Status: finding.StatusProtected,
		Auth: finding.AuthRequired, ObservedAt: at(min)}
	f.Finalize()
	return FromFinding(f, "lab")
}

func gone(min int) Observation {
	return Gone(target, "redis", at(min), "connection refused", "lab")
}

func unknown(min int) Observation {
	f := &finding.Finding{Target: target, Service: "redis", Status: finding.StatusUnknown,
		Auth: finding.AuthUnknown, ObservedAt: at(min), Error: "timeout"}
	f.Finalize()
	return FromFinding(f, "lab")
}

var base = snap{datasets: map[string]int64{"db0": 2000}, classes: map[string]string{"db0": "email"}}

func with(f func(*snap)) snap {
	s := base
	s.datasets = map[string]int64{}
	for k, v := range base.datasets {
		s.datasets[k] = v
	}
	s.classes = map[string]string{}
	for k, v := range base.classes {
		s.classes[k] = v
	}
	f(&s)
	return s
}

// step is one observation and what must follow from it.
type step struct {
	obs    Observation
	status Status
	events []EventKind
}

func TestLifecycle(t *testing.T) {
	cases := []struct {
		name   string
		policy Policy
		steps  []step
		check  func(t *testing.T, s State, evs []Event)
	}{
		{
			name: "protected or gone before ever exposed stays untracked",
			steps: []step{
				{protected(0), StatusUntracked, nil},
				{gone(1), StatusUntracked, nil},
				{unknown(2), StatusUntracked, nil},
			},
		},
		{
			name: "open then same snapshot: no events",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, base), StatusOpen, nil},
				{exposed(2, base), StatusOpen, nil},
			},
			check: func(t *testing.T, s State, evs []Event) {
				if !s.FirstSeen.Equal(at(0)) || !s.LastSeenOpen.Equal(at(2)) || !s.LastSeen.Equal(at(2)) {
					t.Errorf("first %v last_open %v last %v", s.FirstSeen, s.LastSeenOpen, s.LastSeen)
				}
				if evs[0].Severity != finding.SeverityCritical || !strings.Contains(evs[0].Summary, "opened: redis on 127.0.0.5:6379 is exposed (auth none, 1 datasets, 2,000 records, classes email)") {
					t.Errorf("opened event %+v", evs[0])
				}
			},
		},
		{
			name: "full cycle open → changed → closed → reopened → changed",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, with(func(s *snap) { s.datasets["db1"] = 5 })), StatusChanged, []EventKind{EventChanged}},
				{gone(2), StatusChanged, nil},
				{protected(3), StatusClosed, []EventKind{EventClosed}},
				{gone(4), StatusClosed, nil},
				{exposed(5, base), StatusReopened, []EventKind{EventReopened}},
				{exposed(6, base), StatusReopened, nil},
				{exposed(7, with(func(s *snap) { s.auth = finding.AuthDefaultCredentials })), StatusChanged, []EventKind{EventChanged}},
			},
			check: func(t *testing.T, s State, evs []Event) {
				if s.ReopenCount != 1 || !s.ClosedAt.IsZero() || !s.FirstSeen.Equal(at(0)) || !s.ChangedAt.Equal(at(7)) {
					t.Errorf("state %+v", s)
				}
				closed := evs[2]
				if len(closed.Proof) != 2 || closed.Proof[0].Outcome != OutcomeGone || closed.Proof[1].Outcome != OutcomeProtected ||
					closed.Proof[1].Auth != finding.AuthRequired || !closed.Proof[0].At.Equal(at(2)) {
					t.Errorf("closed proof %+v", closed.Proof)
				}
				if closed.Finding == nil || closed.Finding.TotalRecords() != 2005 {
					t.Errorf("closed event should carry the last exposed snapshot")
				}
				want := "closed: redis on 127.0.0.5:6379 after 2 checks: gone (connection refused), protected (auth required)"
				if closed.Summary != want {
					t.Errorf("summary %q, want %q", closed.Summary, want)
				}
				if r := evs[3]; r.Diff != nil {
					// base has fewer datasets than the last baseline: nothing new.
					t.Errorf("reopened diff %+v", r.Diff)
				}
			},
		},
		{
			name: "closed_at is the first closing check; one exposed check resets the streak",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{gone(1), StatusOpen, nil},
				{exposed(2, base), StatusOpen, nil},
				{gone(3), StatusOpen, nil},
				{unknown(4), StatusOpen, nil}, // inconclusive: neither counts nor resets
				{gone(5), StatusClosed, []EventKind{EventClosed}},
				{gone(6), StatusClosed, nil},
			},
			check: func(t *testing.T, s State, evs []Event) {
				if !s.ClosedAt.Equal(at(3)) || !s.LastSeenOpen.Equal(at(2)) || len(evs[1].Proof) != 2 {
					t.Errorf("closed_at %v last_seen_open %v proof %d", s.ClosedAt, s.LastSeenOpen, len(evs[1].Proof))
				}
				if !evs[1].At.Equal(at(5)) {
					t.Errorf("closed event at %v, want the confirming check", evs[1].At)
				}
			},
		},
		{
			name:   "close after 1 (policy)",
			policy: Policy{CloseAfter: 1},
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{protected(1), StatusClosed, []EventKind{EventClosed}},
				{protected(2), StatusClosed, nil},
			},
		},
		{
			name:   "close after 3 (policy)",
			policy: Policy{CloseAfter: 3},
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{protected(1), StatusOpen, nil},
				{protected(2), StatusOpen, nil},
				{gone(3), StatusClosed, []EventKind{EventClosed}},
			},
		},
		{
			name: "stale observation changes nothing",
			steps: []step{
				{exposed(5, base), StatusOpen, []EventKind{EventOpened}},
				{gone(3), StatusOpen, nil},
				{gone(6), StatusOpen, nil},
				{gone(4), StatusOpen, nil},
			},
			check: func(t *testing.T, s State, _ []Event) {
				if len(s.Closing) != 1 || !s.LastSeen.Equal(at(6)) {
					t.Errorf("closing %v last_seen %v", s.Closing, s.LastSeen)
				}
			},
		},
		{
			name: "slow growth adds up against the baseline",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, with(func(s *snap) { s.datasets["db0"] = 2100 })), StatusOpen, nil},
				{exposed(2, with(func(s *snap) { s.datasets["db0"] = 2180 })), StatusOpen, nil},
				{exposed(3, with(func(s *snap) { s.datasets["db0"] = 2200 })), StatusChanged, []EventKind{EventChanged}},
				{exposed(4, with(func(s *snap) { s.datasets["db0"] = 2300 })), StatusChanged, nil},
			},
			check: func(t *testing.T, _ State, evs []Event) {
				d := evs[1].Diff
				if d == nil || *d.RecordsFrom != 2000 || *d.RecordsTo != 2200 {
					t.Fatalf("diff %+v", d)
				}
				if got := evs[1].Summary; got != "changed: redis on 127.0.0.5:6379: records 2,000→2,200" {
					t.Errorf("summary %q", got)
				}
			},
		},
		{
			name: "flags and canaries are material",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, with(func(s *snap) { s.flags = []string{"ransom-note"} })), StatusChanged, []EventKind{EventChanged, EventExtortion}},
				{exposed(2, with(func(s *snap) { s.flags = []string{"ransom-note"}; s.canary = "db0" })), StatusChanged, []EventKind{EventChanged, EventCanary}},
			},
			check: func(t *testing.T, _ State, evs []Event) {
				if d := evs[1].Diff; !reflect.DeepEqual(d.NewFlags, []string{"ransom-note"}) {
					t.Errorf("diff 1 %+v", d)
				}
				if d := evs[3].Diff; !reflect.DeepEqual(d.NewFlags, []string{"canary"}) {
					t.Errorf("diff 2 %+v", d)
				}
			},
		},
		{
			name: "severity rise is reported in the diff",
			steps: []step{
				{exposed(0, with(func(s *snap) { s.datasets["db0"] = 900 })), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, with(func(s *snap) { s.datasets["db0"] = 1001 })), StatusChanged, []EventKind{EventChanged}},
			},
			check: func(t *testing.T, _ State, evs []Event) {
				d := evs[1].Diff
				if d.SeverityFrom != finding.SeverityHigh || d.SeverityTo != finding.SeverityCritical || *d.RecordsTo != 1001 {
					t.Errorf("diff %+v", d)
				}
				if !strings.HasSuffix(evs[1].Summary, "records 900→1,001; severity high→critical") {
					t.Errorf("summary %q", evs[1].Summary)
				}
			},
		},
		{
			name: "class that flaps in the sample alerts once",
			steps: []step{
				{exposed(0, base), StatusOpen, []EventKind{EventOpened}},
				{exposed(1, with(func(s *snap) { s.classes["db0"] = "auth_token" })), StatusChanged, []EventKind{EventChanged}},
				{exposed(2, base), StatusChanged, nil},
				{exposed(3, with(func(s *snap) { s.classes["db0"] = "auth_token" })), StatusChanged, nil},
			},
		},
		{
			name: "protected then exposed opens; reopened only after closed",
			steps: []step{
				{protected(0), StatusUntracked, nil},
				{exposed(1, base), StatusOpen, []EventKind{EventOpened}},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s State
			var all []Event
			for i, st := range tc.steps {
				r, err := tc.policy.Apply(s, st.obs)
				if err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				var kinds []EventKind
				for _, e := range r.Events {
					kinds = append(kinds, e.Kind)
					if e.FindingID != fid || e.Status != r.State.Status || e.Summary == "" {
						t.Errorf("step %d: event %+v", i, e)
					}
				}
				if r.State.Status != st.status || !reflect.DeepEqual(kinds, st.events) {
					t.Fatalf("step %d (%s at %v): status %q events %v, want %q %v",
						i, st.obs.Outcome, st.obs.At.Format("15:04"), r.State.Status, kinds, st.status, st.events)
				}
				s = r.State
				all = append(all, r.Events...)
			}
			if tc.check != nil {
				tc.check(t, s, all)
			}
		})
	}
}

func TestApplyDoesNotMutatePrev(t *testing.T) {
	var p Policy
	r, _ := p.Apply(State{}, exposed(0, base))
	r2, _ := p.Apply(r.State, gone(1))
	prev := r2.State
	snapshot, _ := json.Marshal(prev)
	if _, err := p.Apply(prev, gone(2)); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(prev)
	if string(snapshot) != string(after) {
		t.Errorf("prev mutated")
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	var p Policy
	var s State
	for _, o := range []Observation{exposed(0, base), gone(1), gone(2), exposed(3, base)} {
		r, err := p.Apply(s, o)
		if err != nil {
			t.Fatal(err)
		}
		s = r.State
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(back)
	if string(b) != string(b2) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	if back.Status != StatusReopened || back.ReopenCount != 1 {
		t.Errorf("back %+v", back)
	}
}

func TestRecordsJump(t *testing.T) {
	p := DefaultPolicy()
	cases := []struct {
		from, to int64
		want     bool
	}{
		{1000, 1000, false},
		{1000, 1099, false},
		{1000, 1100, true},
		{1000, 900, true}, // shrinking is news too (wiped, ransomed)
		{5, 6, false},     // ratio met, below the minimum
		{50, 60, true},
		{0, 9, false},
		{0, 10, true},
		{2_400_000, 2_401_000, true}, // absolute threshold
		{2_400_000, 2_400_999, false},
	}
	for _, c := range cases {
		if got := p.recordsJumped(c.from, c.to); got != c.want {
			t.Errorf("%d → %d: %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestValidation(t *testing.T) {
	var p Policy
	bad := []Observation{
		{},
		{FindingID: "x", Outcome: "weird", At: t0},
		{FindingID: "x", Outcome: OutcomeGone},
		{FindingID: "x", Outcome: OutcomeExposed, At: t0},
	}
	for i, o := range bad {
		if _, err := p.Apply(State{}, o); err == nil {
			t.Errorf("%d: accepted %+v", i, o)
		}
	}
	if _, err := p.Apply(State{ID: "other"}, gone(0)); err == nil {
		t.Errorf("applied to another finding's state")
	}
	if err := (Policy{CloseAfter: -1}).Validate(); err == nil {
		t.Errorf("negative close_after accepted")
	}
	if err := DefaultPolicy().Validate(); err != nil {
		t.Error(err)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 2400000: "2,400,000", -1234: "-1,234"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q", n, got)
		}
	}
}
