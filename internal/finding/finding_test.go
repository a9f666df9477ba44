package finding

import (
	"slices"
	"testing"
)

func TestSeverityRankOrders(t *testing.T) {
	order := []Severity{"", SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}
	want := []int{0, 0, 1, 2, 3, 4}
	for i, s := range order {
		if got := s.Rank(); got != want[i] {
			t.Errorf("%q.Rank() = %d, want %d", s, got, want[i])
		}
	}
	if Severity("bogus").Rank() != 0 {
		t.Errorf("unknown severity ranks above none")
	}
}

func TestTargetAddr(t *testing.T) {
	for _, tc := range []struct {
		t    Target
		want string
	}{
		{Target{Host: "127.0.0.5", Port: 9200}, "127.0.0.5:9200"},
		{Target{Host: "::1", Port: 6379}, "[::1]:6379"},
		{Target{Host: "fe80::1%lo", Port: 1}, "[fe80::1%lo]:1"},
		{Target{Host: "db.example", Port: 5432}, "db.example:5432"},
		{Target{Host: "a:", Port: 2}, "[a:]:2"},
		{Target{Host: ":", Port: 3}, "[:]:3"},
		{Target{Host: "", Port: 4}, ":4"},
	} {
		if got := tc.t.Addr(); got != tc.want {
			t.Errorf("%+v.Addr() = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestTotalRecordsSkipsHiddenAndUnknown(t *testing.T) {
	f := Finding{Datasets: []Dataset{
		{Name: "a", Records: Int64(5)},
		{Name: "b"},
		{Name: "c", Records: Int64(7), Hidden: true},
		{Name: "d", Records: Int64(11)},
	}}
	if got := f.TotalRecords(); got != 16 {
		t.Errorf("TotalRecords = %d, want 16", got)
	}
}

func TestFinalizeDerivedFields(t *testing.T) {
	shared := []string{"stale", "x"}
	f := Finding{
		Target: Target{Host: "127.0.0.5", Port: 9200}, Service: "elasticsearch", Status: StatusExposed,
		Classes: shared[:1],
		Datasets: []Dataset{
			{Name: "a", Classes: []ClassCount{{Class: "phone"}, {Class: "email"}}},
			{Name: "b", Classes: []ClassCount{{Class: "email"}}},
			{Name: "c"},
		},
	}
	f.Finalize()
	if f.ID != Fingerprint(f.Target, f.Service) || f.Schema != Schema {
		t.Errorf("id %q schema %q", f.ID, f.Schema)
	}
	if !slices.Equal(f.Classes, []string{"email", "phone"}) {
		t.Errorf("classes %v, want [email phone]", f.Classes)
	}
	if shared[0] != "stale" || shared[1] != "x" {
		t.Errorf("Finalize wrote into the caller's class slice: %v", shared)
	}
	if f.Datasets[2].Classes == nil || len(f.Datasets[2].Classes) != 0 {
		t.Errorf("dataset without classes: %#v, want an empty list", f.Datasets[2].Classes)
	}
	if f.Severity != SeverityHigh {
		t.Errorf("severity %q", f.Severity)
	}

	g := Finding{ID: "kept", Target: f.Target, Service: "x"}
	g.Finalize()
	if g.ID != "kept" || g.Datasets == nil || len(g.Datasets) != 0 {
		t.Errorf("finalized empty finding %+v", g)
	}
	if g.Severity != SeverityInfo {
		t.Errorf("non-exposed severity %q", g.Severity)
	}
}

// TestAssess: the severity rules at each boundary.
func TestAssess(t *testing.T) {
	ds := func(records *int64, hidden bool, classes ...ClassCount) Dataset {
		return Dataset{Name: "d", Records: records, Hidden: hidden, Classes: classes}
	}
	cc := func(class string, matched int, est *int64) ClassCount {
		return ClassCount{Class: class, Sampled: 10, Matched: matched, EstimatedRecords: est}
	}
	for _, tc := range []struct {
		name   string
		status Status
		flags  []string
		ds     []Dataset
		want   Severity
	}{
		{"protected", StatusProtected, nil, []Dataset{ds(Int64(5000), false, cc("password", 5, nil))}, SeverityInfo},
		{"unknown", StatusUnknown, []string{"ransom-note"}, nil, SeverityInfo},
		{"empty", StatusExposed, nil, nil, SeverityLow},
		{"zero records", StatusExposed, nil, []Dataset{ds(Int64(0), false)}, SeverityLow},
		{"one record", StatusExposed, nil, []Dataset{ds(Int64(1), false)}, SeverityMedium},
		{"1000 records", StatusExposed, nil, []Dataset{ds(Int64(1000), false)}, SeverityMedium},
		{"1001 records", StatusExposed, nil, []Dataset{ds(Int64(1001), false)}, SeverityHigh},
		{"ransom note", StatusExposed, []string{"other", "ransom-note"}, nil, SeverityCritical},
		{"code execution", StatusExposed, []string{"code-execution"}, nil, SeverityCritical},
		{"canary", StatusExposed, []string{"canary"}, nil, SeverityCritical},
		{"other flag", StatusExposed, []string{"datasets-truncated"}, nil, SeverityLow},
		{"credential", StatusExposed, nil, []Dataset{ds(Int64(1), false, cc("api_key", 1, nil))}, SeverityCritical},
		{"credential after personal", StatusExposed, nil, []Dataset{ds(Int64(1), false, cc("email", 1, nil), cc("auth_token", 1, nil))}, SeverityCritical},
		{"hidden credential", StatusExposed, nil, []Dataset{ds(Int64(1), true, cc("password", 1, nil))}, SeverityLow},
		{"hidden personal", StatusExposed, nil, []Dataset{ds(Int64(5000), true, cc("email", 10, nil))}, SeverityLow},
		{"personal, few", StatusExposed, nil, []Dataset{ds(Int64(10), false, cc("email", 1, nil))}, SeverityHigh},
		{"personal, estimate 1000", StatusExposed, nil, []Dataset{ds(Int64(1000000), false, cc("email", 1, Int64(1000)))}, SeverityHigh},
		{"personal, estimate 1001", StatusExposed, nil, []Dataset{ds(Int64(5), false, cc("email", 1, Int64(1001)))}, SeverityCritical},
		{"personal, records 1001 without estimate", StatusExposed, nil, []Dataset{ds(Int64(1001), false, cc("phone", 1, nil))}, SeverityCritical},
		{"personal, records 1000 without estimate", StatusExposed, nil, []Dataset{ds(Int64(1000), false, cc("phone", 1, nil))}, SeverityHigh},
		{"personal, no counts: matched", StatusExposed, nil, []Dataset{ds(nil, false, cc("phone", 1001, nil))}, SeverityCritical},
		{"personal, no counts, few matched", StatusExposed, nil, []Dataset{ds(nil, false, cc("phone", 3, nil))}, SeverityHigh},
		{"largest personal class counts", StatusExposed, nil, []Dataset{
			ds(Int64(10), false, cc("email", 1, Int64(2000))), ds(Int64(10), false, cc("phone", 1, Int64(5))),
		}, SeverityCritical},
		{"non-personal class", StatusExposed, nil, []Dataset{ds(Int64(10), false, cc("device_model", 10, nil))}, SeverityMedium},
	} {
		f := Finding{Status: tc.status, Flags: tc.flags, Datasets: tc.ds}
		if got := Assess(&f); got != tc.want {
			t.Errorf("%s: Assess = %q, want %q", tc.name, got, tc.want)
		}
	}
	if !IsPersonal("email") || IsPersonal("api_key") || !IsCredential("api_key") || IsCredential("email") {
		t.Errorf("class kinds")
	}
}

// TestAssessInternet: a store that answers from the internet site is one
// level worse; from inside sites only, unchanged.
func TestAssessInternet(t *testing.T) {
	exposed := func(sites ...string) *Finding {
		return &Finding{Status: StatusExposed, ReachableFrom: sites,
			Datasets: []Dataset{{Name: "d", Records: Int64(10)}}}
	}
	for _, c := range []struct {
		f    *Finding
		want Severity
	}{
		{exposed(), SeverityMedium},
		{exposed("dc-fra"), SeverityMedium},
		{exposed("dc-fra", SiteInternet), SeverityHigh},
		{&Finding{Status: StatusProtected, ReachableFrom: []string{SiteInternet}}, SeverityLow},
		{&Finding{Status: StatusProtected, ReachableFrom: []string{"vpc"}}, SeverityInfo},
		{&Finding{Status: StatusExposed, Flags: []string{"canary"}, ReachableFrom: []string{SiteInternet}}, SeverityCritical},
	} {
		if got := Assess(c.f); got != c.want {
			t.Errorf("Assess(%s from %v) = %s, want %s", c.f.Status, c.f.ReachableFrom, got, c.want)
		}
	}
}
