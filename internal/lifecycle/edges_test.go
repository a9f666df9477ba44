package lifecycle

import (
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// fold applies observations in order with the default policy and returns
// the last state and every event.
func fold(t *testing.T, obs ...Observation) (State, []Event) {
	t.Helper()
	var s State
	var evs []Event
	for _, o := range obs {
		r, err := DefaultPolicy().Apply(s, o)
		if err != nil {
			t.Fatal(err)
		}
		s, evs = r.State, append(evs, r.Events...)
	}
	return s, evs
}

// TestDiffSummaryExact: every part of a diff's line, alone and together,
// and the five-name cap of its lists.
func TestDiffSummaryExact(t *testing.T) {
	var nilDiff *Diff
	if got := nilDiff.Summary(); got != "" {
		t.Errorf("nil diff summary %q", got)
	}
	for _, tc := range []struct {
		d    Diff
		want string
	}{
		{Diff{}, ""},
		{Diff{AuthFrom: finding.AuthNone, AuthTo: finding.AuthDefaultCredentials}, "auth none→default-credentials"},
		{Diff{RecordsFrom: finding.Int64(1000), RecordsTo: finding.Int64(2400000)}, "records 1,000→2,400,000"},
		{Diff{NewDatasets: []string{"db1"}}, "new datasets db1"},
		{Diff{NewClasses: []string{"email"}}, "new classes email"},
		{Diff{NewFlags: []string{"ransom-note"}}, "new flags ransom-note"},
		{Diff{SeverityFrom: finding.SeverityHigh, SeverityTo: finding.SeverityCritical}, "severity high→critical"},
		{Diff{NewClasses: []string{"a", "b", "c", "d", "e"}}, "new classes a, b, c, d, e"},
		{Diff{NewClasses: []string{"a", "b", "c", "d", "e", "f"}}, "new classes a, b, c, d, e (+1)"},
		{Diff{NewDatasets: []string{"a", "b", "c", "d", "e", "f", "g"}}, "new datasets a, b, c, d, e (+2)"},
		{Diff{
			AuthFrom: finding.AuthNone, AuthTo: finding.AuthDefaultCredentials,
			RecordsFrom: finding.Int64(5), RecordsTo: finding.Int64(5000),
			NewDatasets: []string{"x"}, NewClasses: []string{"phone"}, NewFlags: []string{"canary"},
			SeverityFrom: finding.SeverityLow, SeverityTo: finding.SeverityHigh,
		}, "auth none→default-credentials; records 5→5,000; new datasets x; new classes phone; new flags canary; severity low→high"},
	} {
		if got := tc.d.Summary(); got != tc.want {
			t.Errorf("Summary(%+v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestEventSummaries: the human line of opened and reopened events, with
// and without classes and a diff.
func TestEventSummaries(t *testing.T) {
	noClasses := snap{datasets: map[string]int64{"db0": 7}}
	_, evs := fold(t, exposed(0, noClasses))
	if want := "opened: redis on 127.0.0.5:6379 is exposed (auth none, 1 datasets, 7 records)"; evs[0].Summary != want {
		t.Errorf("opened summary %q, want %q", evs[0].Summary, want)
	}
	_, evs = fold(t, exposed(0, base), gone(1), gone(2), exposed(3, base))
	last := evs[len(evs)-1]
	if want := "reopened: redis on 127.0.0.5:6379 is exposed (auth none, 1 datasets, 2,000 records, classes email)"; last.Kind != EventReopened || last.Summary != want {
		t.Errorf("reopened without change: %s %q, want %q", last.Kind, last.Summary, want)
	}
	_, evs = fold(t, exposed(0, base), gone(1), gone(2), exposed(3, with(func(s *snap) { s.datasets["db9"] = 1 })))
	last = evs[len(evs)-1]
	if !strings.HasSuffix(last.Summary, "; since it closed: new datasets db9") {
		t.Errorf("reopened with a change: %q", last.Summary)
	}
	// A changed event never carries the reopened suffix.
	_, evs = fold(t, exposed(0, base), exposed(1, with(func(s *snap) { s.datasets["db9"] = 1 })))
	if last = evs[len(evs)-1]; last.Summary != "changed: redis on 127.0.0.5:6379: new datasets db9" {
		t.Errorf("changed summary %q", last.Summary)
	}
	ev := event(EventOpened, &State{ID: fid, Target: target, Service: "redis"}, at(0), &Diff{NewClasses: []string{"x"}}, nil)
	if strings.Contains(ev.Summary, "since it closed") {
		t.Errorf("opened event with a diff: %q", ev.Summary)
	}
}

// TestNilSnapshots: nothing to compare is no change, whichever side is
// missing; merging nothing keeps what is known.
func TestNilSnapshots(t *testing.T) {
	p := DefaultPolicy()
	f := base.finding(at(0))
	if d := p.Diff(nil, nil, f); d != nil {
		t.Errorf("Diff(nil base) = %+v", d)
	}
	if d := p.Diff(f, nil, nil); d != nil {
		t.Errorf("Diff(nil current) = %+v", d)
	}
	k := KnownOf(f)
	if got := k.With(nil); strings.Join(got.Datasets, ",") != "db0" || strings.Join(got.Classes, ",") != "email" {
		t.Errorf("With(nil) = %+v, want %+v", got, k)
	}
}

// TestRecordsJumpCustomPolicy: the thresholds as configured, at their
// edges (a minimum of 1 record, a ratio above 1).
func TestRecordsJumpCustomPolicy(t *testing.T) {
	for _, tc := range []struct {
		p        Policy
		from, to int64
		want     bool
	}{
		{Policy{RecordsJumpMin: 1}, 0, 1, true},
		{Policy{RecordsJumpMin: 1}, 1, 1, false},
		{Policy{RecordsJumpMin: 1}, 10, 11, true},
		{Policy{RecordsJumpMin: 1}, 11, 12, false},
		{Policy{RecordsJumpMin: 1, RecordsJumpRatio: 50}, 1, 21, false},
		{Policy{RecordsJumpMin: 1, RecordsJumpRatio: 50}, 1, 51, true},
		{Policy{RecordsJumpMin: 1, RecordsJumpRatio: 50}, 0, 2, true},
		{Policy{RecordsJumpAbs: 5, RecordsJumpMin: 100}, 1000, 1005, true},
		{Policy{RecordsJumpAbs: 5, RecordsJumpMin: 100}, 1000, 1004, false},
		{Policy{RecordsJumpAbs: 5, RecordsJumpMin: 100}, 1005, 1000, true},
	} {
		if got := tc.p.WithDefaults().recordsJumped(tc.from, tc.to); got != tc.want {
			t.Errorf("%+v: %d → %d jumped = %v, want %v", tc.p, tc.from, tc.to, got, tc.want)
		}
	}
}

// TestPolicyValidateEachField: each setting is checked on its own.
func TestPolicyValidateEachField(t *testing.T) {
	for _, tc := range []struct {
		p  Policy
		ok bool
	}{
		{Policy{}, true},
		{Policy{CloseAfter: 1}, true},
		{Policy{CloseAfter: 1000}, true},
		{Policy{CloseAfter: 1001}, false},
		{Policy{CloseAfter: -1}, false},
		{Policy{RecordsJumpRatio: -0.01}, false},
		{Policy{RecordsJumpMin: -1}, false},
		{Policy{RecordsJumpAbs: -1}, false},
		{Policy{RecordsJumpMin: -1, RecordsJumpAbs: 5}, false},
		{Policy{RecordsJumpMin: 5, RecordsJumpAbs: -1}, false},
	} {
		if err := tc.p.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok %v", tc.p, err, tc.ok)
		}
	}
}

// TestObservationIdentity: an observation keeps the id its finding
// carries, takes the fingerprint when there is none, and refuses a
// finding of another id.
func TestObservationIdentity(t *testing.T) {
	f := base.finding(at(0))
	f.ID = "custom-id"
	if o := FromFinding(f, "lab"); o.FindingID != "custom-id" {
		t.Errorf("FromFinding kept id %q, want custom-id", o.FindingID)
	}
	f.ID = ""
	if o := FromFinding(f, "lab"); o.FindingID != fid {
		t.Errorf("FromFinding without id: %q, want the fingerprint %q", o.FindingID, fid)
	}
	o := FromFinding(base.finding(at(0)), "lab")
	if err := o.Validate(); err != nil {
		t.Errorf("matching ids: %v", err)
	}
	o.Finding = base.finding(at(0))
	o.Finding.ID = "another"
	if err := o.Validate(); err == nil {
		t.Errorf("an observation of %s carrying finding %s was accepted", o.FindingID, o.Finding.ID)
	}
	o.Finding.ID = ""
	if err := o.Validate(); err != nil {
		t.Errorf("a finding without id: %v", err)
	}
}

// TestWithDefaults: unset (zero) settings take the default; every set
// value, however small, is kept.
func TestWithDefaults(t *testing.T) {
	if got := (Policy{}).WithDefaults(); got != DefaultPolicy() {
		t.Errorf("zero policy → %+v, want %+v", got, DefaultPolicy())
	}
	small := Policy{CloseAfter: 1, RecordsJumpRatio: 0.5, RecordsJumpMin: 1, RecordsJumpAbs: 1}
	if got := small.WithDefaults(); got != small {
		t.Errorf("%+v → %+v: set values replaced", small, got)
	}
	large := Policy{CloseAfter: 7, RecordsJumpRatio: 2, RecordsJumpMin: 50, RecordsJumpAbs: 99}
	if got := large.WithDefaults(); got != large {
		t.Errorf("%+v → %+v: set values replaced", large, got)
	}
}

// TestApplyRejectsUnknownStatus: a stored state with a status the machine
// does not know is an error, not a fresh start.
func TestApplyRejectsUnknownStatus(t *testing.T) {
	if _, err := DefaultPolicy().Apply(State{ID: fid, Status: "bogus"}, gone(0)); err == nil {
		t.Errorf("state with status bogus accepted")
	}
}
