package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
)

// page is what every page template gets.
type page struct {
	Title string
	Nav   string // "overview" | "findings" | ""
	CSRF  string
	By    string
	// LastEvent is the newest event id when the page was read: the live
	// stream starts after it.
	LastEvent int64
	Now       time.Time
	Flash     string
}

// severities, worst first.
var severities = []finding.Severity{finding.SeverityCritical, finding.SeverityHigh, finding.SeverityMedium, finding.SeverityLow, finding.SeverityInfo}

// SeverityCount is one bar of the severity chart.
type SeverityCount struct {
	Severity finding.Severity
	Count    int
	Width    float64 // bar width, 0–100
}

// MatrixRow is one data class across store kinds.
type MatrixRow struct {
	Class  string
	Label  string
	Counts []int // per Overview.Services
	Total  int
}

// WindowBar is one finding's exposure in the last 30 days.
type WindowBar struct {
	ID       string
	Label    string
	Severity finding.Severity
	Open     bool
	X, W, Y  float64
	From, To time.Time
}

// ScopeCoverage is one scope's sweep coverage.
type ScopeCoverage struct {
	api.ScopeView
	Endpoints int // -1: unknown
	// LastComplete is the newest finished sweep (nil: none yet).
	LastComplete *store.ScanRun
	Duration     time.Duration
	Running      *store.ScanRun
	Open         int
	// Cluster mode: parked work items of the last complete sweep (chunks
	// not checked from ParkedSites, up to NotChecked endpoints) make its
	// coverage partial; RunningParked counts those of the running sweep.
	ParkedChunks  int
	NotChecked    int64
	ParkedSites   []string
	RunningParked int
	// MayBePartial: more items are parked than the status lists, so
	// this scope's coverage may be partial too.
	MayBePartial bool
}

// Partial tells whether the last complete sweep left endpoints unchecked.
func (s ScopeCoverage) Partial() bool { return s.ParkedChunks > 0 }

// RouteHealth is one notifier route's outbox.
type RouteHealth struct {
	Route     string
	Pending   int
	GaveUp    int
	LastError string
}

// Overview is the overview page.
type Overview struct {
	page
	Total, Open, Closed int
	BySeverity          []SeverityCount
	Records             int64
	Subjects            int64
	SubjectsLow         int64
	Services            []string
	Matrix              []MatrixRow
	Windows             []WindowBar
	WindowsOf           int // findings exposed in the window (bars may be fewer)
	WindowStart         time.Time
	Ticks               []Tick
	Scopes              []ScopeCoverage
	Outbox              store.OutboxStats
	Routes              []RouteHealth
	Recent              []store.Event
	// Cluster is nil unless serve runs as a cluster coordinator.
	Cluster *ClusterView
}

// Tick is an axis label of a chart.
type Tick struct {
	X     float64
	Label string
}

// windowDays is the span of the exposure-window chart.
const windowDays = 30

// maxBars caps the bars of the exposure-window chart (worst first).
const maxBars = 60

// isOpen: open, changed or reopened.
func isOpen(s lifecycle.Status) bool {
	return s == lifecycle.StatusOpen || s == lifecycle.StatusChanged || s == lifecycle.StatusReopened
}

// snapshot returns the cached findings and sets the page's time and the
// event id its live stream starts after (read first: an event written
// meanwhile is streamed, never missed).
func (d *Dashboard) snapshot(ctx context.Context, p *page, now time.Time) ([]Entry, error) {
	p.Now = now
	last, err := d.o.Store.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	p.LastEvent = last
	return d.cache.findings(ctx, d.o.Store)
}

// buildOverview reads everything the overview shows.
func (d *Dashboard) buildOverview(ctx context.Context, now time.Time) (*Overview, error) {
	ov := &Overview{}
	list, err := d.snapshot(ctx, &ov.page, now)
	if err != nil {
		return nil, err
	}
	last := ov.LastEvent
	ov.Total = len(list)
	sev := map[finding.Severity]int{}
	services := map[string]int{}
	type cell struct{ class, service string }
	cells := map[cell]int{}
	classes := map[string]int{}
	openByScope := map[string]int{}
	ov.WindowStart = now.Add(-windowDays * 24 * time.Hour)
	var bars []WindowBar
	for i := range list {
		f := &list[i]
		open := isOpen(f.Status)
		if f.Status == lifecycle.StatusClosed {
			ov.Closed++
		}
		end := f.LastSeenOpen
		switch {
		case open:
			end = now
		case !f.ClosedAt.IsZero():
			end = f.ClosedAt
		}
		if end.After(ov.WindowStart) && !f.FirstSeen.IsZero() {
			bars = append(bars, WindowBar{ID: f.ID, Label: f.Target.Addr() + " " + f.Service, Severity: f.Severity,
				Open: open, From: f.FirstSeen, To: end})
		}
		if !open {
			continue
		}
		ov.Open++
		openByScope[f.Scope]++
		sev[f.Severity]++
		services[f.Service]++
		ov.Records = finding.SatAdd(ov.Records, f.Records)
		ov.Subjects = finding.SatAdd(ov.Subjects, f.SubjectsHigh)
		ov.SubjectsLow = max(ov.SubjectsLow, f.SubjectsLow)
		for _, c := range f.Classes {
			cells[cell{c, f.Service}]++
			classes[c]++
		}
	}
	maxSev := 1
	for _, s := range severities {
		maxSev = max(maxSev, sev[s])
	}
	for _, s := range severities {
		ov.BySeverity = append(ov.BySeverity, SeverityCount{Severity: s, Count: sev[s], Width: 100 * float64(sev[s]) / float64(maxSev)})
	}
	for s := range services {
		ov.Services = append(ov.Services, s)
	}
	slices.SortFunc(ov.Services, func(a, b string) int {
		return cmp.Or(cmp.Compare(services[b], services[a]), cmp.Compare(a, b))
	})
	for c, n := range classes {
		row := MatrixRow{Class: c, Label: report.Label(c), Total: n}
		for _, s := range ov.Services {
			row.Counts = append(row.Counts, cells[cell{c, s}])
		}
		ov.Matrix = append(ov.Matrix, row)
	}
	slices.SortFunc(ov.Matrix, func(a, b MatrixRow) int { return cmp.Or(cmp.Compare(b.Total, a.Total), cmp.Compare(a.Class, b.Class)) })
	ov.WindowsOf = len(bars)
	ov.Windows, ov.Ticks = layoutWindows(bars, ov.WindowStart, now)

	ov.Cluster = d.buildCluster(ctx)
	runsByID := map[string]store.ScanRun{}
	for _, sv := range d.o.Scopes() {
		sc := ScopeCoverage{ScopeView: sv, Endpoints: -1, Open: openByScope[sv.Name]}
		if d.o.Endpoints != nil {
			sc.Endpoints = d.o.Endpoints(sv.Name)
		}
		runs, err := d.o.Store.ListScans(ctx, store.ScanFilter{Scope: sv.Name, Limit: 20})
		if err != nil {
			return nil, err
		}
		for i := range runs {
			r := &runs[i]
			runsByID[r.ID] = *r
			if r.Status == store.ScanRunning && sc.Running == nil {
				sc.Running = r
			}
			if r.Status == store.ScanFinished && sc.LastComplete == nil {
				sc.LastComplete = r
				sc.Duration = r.FinishedAt.Sub(r.StartedAt)
			}
		}
		if sc.LastComplete == nil {
			runs, err := d.o.Store.ListScans(ctx, store.ScanFilter{Scope: sv.Name, Status: store.ScanFinished, Limit: 1})
			if err != nil {
				return nil, err
			}
			if len(runs) > 0 {
				sc.LastComplete = &runs[0]
				sc.Duration = runs[0].FinishedAt.Sub(runs[0].StartedAt)
			}
		}
		ov.Scopes = append(ov.Scopes, sc)
	}
	if ov.Cluster != nil {
		if err := d.placeParked(ctx, ov.Cluster, runsByID); err != nil {
			return nil, err
		}
		markPartial(ov.Cluster, ov.Scopes)
	}
	if ov.Outbox, err = d.o.Store.OutboxStats(ctx); err != nil {
		return nil, err
	}
	if ov.Routes, err = d.routeHealth(ctx); err != nil {
		return nil, err
	}
	recent, err := d.o.Store.ListEvents(ctx, store.EventFilter{AfterID: max(0, last-10)})
	if err != nil {
		return nil, err
	}
	slices.Reverse(recent)
	ov.Recent = recent
	return ov, nil
}

// routeHealth groups the undelivered outbox by route.
func (d *Dashboard) routeHealth(ctx context.Context) ([]RouteHealth, error) {
	by := map[string]*RouteHealth{}
	get := func(route string) *RouteHealth {
		if by[route] == nil {
			by[route] = &RouteHealth{Route: route}
		}
		return by[route]
	}
	for _, state := range []store.AlertState{store.AlertPending, store.AlertGaveUp} {
		alerts, err := d.o.Store.ListAlerts(ctx, store.AlertFilter{State: state, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, a := range alerts {
			rh := get(a.Route)
			if state == store.AlertPending {
				rh.Pending++
			} else {
				rh.GaveUp++
			}
			if rh.LastError == "" {
				rh.LastError = a.LastError
			}
		}
	}
	var out []RouteHealth
	for _, rh := range by {
		out = append(out, *rh)
	}
	slices.SortFunc(out, func(a, b RouteHealth) int { return cmp.Compare(a.Route, b.Route) })
	return out, nil
}

// layoutWindows orders the bars (open first, then worst, then newest),
// keeps maxBars and places them on a 0–1000 × rows canvas.
func layoutWindows(bars []WindowBar, start, now time.Time) ([]WindowBar, []Tick) {
	slices.SortFunc(bars, func(a, b WindowBar) int {
		if a.Open != b.Open {
			if a.Open {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.Severity.Rank(), a.Severity.Rank()), b.To.Compare(a.To), cmp.Compare(a.ID, b.ID))
	})
	if len(bars) > maxBars {
		bars = bars[:maxBars]
	}
	span := float64(now.Sub(start))
	x := func(t time.Time) float64 {
		if t.Before(start) {
			t = start
		}
		if t.After(now) {
			t = now
		}
		return 1000 * float64(t.Sub(start)) / span
	}
	for i := range bars {
		b := &bars[i]
		b.X = x(b.From)
		b.W = max(x(b.To)-b.X, 2)
		b.Y = float64(i) * barPitch
	}
	var ticks []Tick
	for d := 0; d <= windowDays; d += 5 {
		t := start.Add(time.Duration(d) * 24 * time.Hour)
		ticks = append(ticks, Tick{X: x(t), Label: t.UTC().Format("Jan 2")})
	}
	return bars, ticks
}

// barPitch is the row height of the exposure-window chart.
const barPitch = 14

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request) {
	ov, err := d.buildOverview(r.Context(), d.o.Now())
	if err != nil {
		d.internal(w, "overview", err)
		return
	}
	d.fill(&ov.page, r, "Overview", "overview")
	ov.Flash = flashOf(r)
	d.render(w, http.StatusOK, "overview", ov)
}

// fill sets the page fields every page has.
func (d *Dashboard) fill(p *page, r *http.Request, title, nav string) {
	p.Title, p.Nav = title, nav
	if s := sessionOf(r.Context()); s != nil {
		p.CSRF, p.By = s.csrf, s.by
	}
	if p.Now.IsZero() {
		p.Now = d.o.Now()
	}
}
