package dashboard

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
)

type ctxKey int

const sessionCtx ctxKey = 1

func withSession(ctx context.Context, s *session) context.Context {
	return context.WithValue(ctx, sessionCtx, s)
}

func sessionOf(ctx context.Context) *session {
	s, _ := ctx.Value(sessionCtx).(*session)
	return s
}

// flashes are the fixed messages a redirect may ask for (?done=); nothing
// from the request is echoed but a scope name, escaped as text.
var flashes = map[string]string{
	"ack":     "Acknowledgement saved.",
	"queued":  "Sweep queued for scope ",
	"running": "A sweep is already running or queued for scope ",
}

func flashOf(r *http.Request) string {
	q := r.URL.Query()
	msg, ok := flashes[q.Get("done")]
	if !ok {
		return ""
	}
	if strings.HasSuffix(msg, " ") {
		msg += q.Get("scope") + "."
	}
	return msg
}

// pageSize is the findings table's page length.
const pageSize = 50

// Row is one row of the findings table.
type Row struct {
	Entry
	Age      time.Duration // in the current status
	Assignee string
	Acked    bool
}

// Query is the findings table's filter, sort and page.
type Query struct {
	Status, Severity, Service, Scope, Class, Q string
	Sort, Dir                                  string
	Page                                       int
}

// Findings is the findings page.
type Findings struct {
	page
	Query                     Query
	Rows                      []Row
	Total, Pages, From, To    int
	Services, Scopes, Classes []string
	Statuses                  []string
	Severities                []finding.Severity
	Sorts                     []string
	Prev, Next                string
}

// sortKeys are the sortable columns.
var sortKeys = []string{"severity", "status", "host", "service", "scope", "records", "first_seen", "last_seen", "age"}

var statusFilters = []string{"open", "changed", "reopened", "closed", "out-of-scope", "all"}

func parseQuery(v url.Values) Query {
	q := Query{Status: v.Get("status"), Severity: v.Get("severity"), Service: v.Get("service"), Scope: v.Get("scope"),
		Class: v.Get("class"), Q: strings.TrimSpace(v.Get("q")), Sort: v.Get("sort"), Dir: v.Get("dir")}
	if !slices.Contains(statusFilters, q.Status) {
		q.Status = "open"
	}
	if sv := finding.Severity(q.Severity); sv.Rank() == 0 && sv != finding.SeverityInfo {
		q.Severity = ""
	}
	if !slices.Contains(sortKeys, q.Sort) {
		q.Sort = "severity"
	}
	if q.Dir != "asc" {
		q.Dir = "desc"
	}
	if len(q.Q) > 200 {
		q.Q = q.Q[:200]
	}
	q.Page, _ = strconv.Atoi(v.Get("page"))
	q.Page = max(q.Page, 1)
	return q
}

// Values is the query as URL parameters (page links, sort links).
func (q Query) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("status", q.Status)
	set("severity", q.Severity)
	set("service", q.Service)
	set("scope", q.Scope)
	set("class", q.Class)
	set("q", q.Q)
	set("sort", q.Sort)
	set("dir", q.Dir)
	if q.Page > 1 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	return v
}

// SortURL links to the table sorted by key (toggling the direction when
// it is already sorted by key).
func (q Query) SortURL(key string) string {
	n := q
	n.Page = 1
	if q.Sort == key {
		n.Dir = map[string]string{"asc": "desc", "desc": "asc"}[q.Dir]
	} else {
		n.Sort, n.Dir = key, "desc"
		if key == "host" || key == "service" || key == "scope" {
			n.Dir = "asc"
		}
	}
	return "/ui/findings?" + n.Values().Encode()
}

// AriaSort is the aria-sort value of a column.
func (q Query) AriaSort(key string) string {
	if q.Sort != key {
		return "none"
	}
	return map[string]string{"asc": "ascending", "desc": "descending"}[q.Dir]
}

// statusSince is when the finding entered its current status.
func statusSince(f *store.Finding) time.Time {
	switch f.Status {
	case lifecycle.StatusClosed:
		if !f.ClosedAt.IsZero() {
			return f.ClosedAt
		}
	case lifecycle.StatusChanged, lifecycle.StatusReopened:
		if !f.ChangedAt.IsZero() {
			return f.ChangedAt
		}
	case lifecycle.StatusOutOfScope:
		return f.LastSeen
	}
	return f.FirstSeen
}

// statusMatches is the status filter: "open" is open, changed or
// reopened, "all" everything, another value that status.
func statusMatches(s lifecycle.Status, filter string) bool {
	switch filter {
	case "all":
		return true
	case "open":
		return isOpen(s)
	}
	return string(s) == filter
}

// matches is the text search: host, hostname, address and every dataset
// name ever seen, case-insensitive.
func matches(f *store.Finding, q string) bool {
	q = strings.ToLower(q)
	if strings.Contains(strings.ToLower(f.Target.Addr()), q) || strings.Contains(strings.ToLower(f.Target.Hostname), q) {
		return true
	}
	for _, ds := range f.Known.Datasets {
		if strings.Contains(strings.ToLower(ds), q) {
			return true
		}
	}
	return false
}

func rowOf(e Entry, now time.Time) Row {
	return Row{Entry: e, Age: now.Sub(statusSince(&e.Finding))}
}

// buildFindings filters, sorts and pages the cached findings.
func (d *Dashboard) buildFindings(ctx context.Context, q Query, now time.Time) (*Findings, error) {
	fp := &Findings{Query: q, Statuses: statusFilters, Severities: severities, Sorts: sortKeys}
	list, err := d.snapshot(ctx, &fp.page, now)
	if err != nil {
		return nil, err
	}
	minRank := finding.Severity(q.Severity).Rank()
	services, scopes, classes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	rows := make([]Row, 0, len(list))
	for _, f := range list {
		if !statusMatches(f.Status, q.Status) {
			continue
		}
		services[f.Service], scopes[f.Scope] = true, true
		for _, c := range f.Known.Classes {
			classes[c] = true
		}
		if f.Severity.Rank() < minRank || (q.Service != "" && f.Service != q.Service) || (q.Scope != "" && f.Scope != q.Scope) {
			continue
		}
		if q.Class != "" && !slices.Contains(f.Known.Classes, q.Class) {
			continue
		}
		if q.Q != "" && !matches(&f.Finding, q.Q) {
			continue
		}
		rows = append(rows, rowOf(f, now))
	}
	for _, sv := range d.o.Scopes() {
		scopes[sv.Name] = true
	}
	// Keep the selected values selectable even when nothing matches.
	for m, v := range map[*map[string]bool]string{&services: q.Service, &scopes: q.Scope, &classes: q.Class} {
		if v != "" {
			(*m)[v] = true
		}
	}
	fp.Services, fp.Scopes, fp.Classes = keys(services), keys(scopes), keys(classes)
	sortRows(rows, q.Sort, q.Dir == "asc")
	fp.Total = len(rows)
	fp.Pages = max(1, (len(rows)+pageSize-1)/pageSize)
	if q.Page > fp.Pages {
		q.Page = fp.Pages
		fp.Query.Page = q.Page
	}
	lo := (q.Page - 1) * pageSize
	hi := min(lo+pageSize, len(rows))
	fp.Rows = rows[lo:hi]
	fp.From, fp.To = lo+1, hi
	if q.Page > 1 {
		p := q
		p.Page--
		fp.Prev = "/ui/findings?" + p.Values().Encode()
	}
	if q.Page < fp.Pages {
		n := q
		n.Page++
		fp.Next = "/ui/findings?" + n.Values().Encode()
	}
	if err := d.attachAcks(ctx, fp.Rows); err != nil {
		return nil, err
	}
	return fp, nil
}

// attachAcks marks the rows of one page with their newest acknowledgement.
func (d *Dashboard) attachAcks(ctx context.Context, rows []Row) error {
	for i := range rows {
		acks, err := d.o.Store.ListAcknowledgements(ctx, store.AckFilter{FindingID: rows[i].ID, Limit: 1})
		if err != nil {
			return err
		}
		if len(acks) > 0 {
			rows[i].Acked, rows[i].Assignee = true, acks[0].Assignee
		}
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

var statusRank = map[lifecycle.Status]int{lifecycle.StatusReopened: 5, lifecycle.StatusChanged: 4, lifecycle.StatusOpen: 3, lifecycle.StatusOutOfScope: 2, lifecycle.StatusClosed: 1}

func sortRows(rows []Row, key string, asc bool) {
	slices.SortStableFunc(rows, func(a, b Row) int {
		var c int
		switch key {
		case "status":
			c = cmp.Compare(statusRank[a.Status], statusRank[b.Status])
		case "host":
			c = cmp.Or(strings.Compare(a.Target.Host, b.Target.Host), cmp.Compare(a.Target.Port, b.Target.Port))
		case "service":
			c = strings.Compare(a.Service, b.Service)
		case "scope":
			c = strings.Compare(a.Scope, b.Scope)
		case "records":
			c = cmp.Compare(a.Records, b.Records)
		case "first_seen":
			c = a.FirstSeen.Compare(b.FirstSeen)
		case "last_seen":
			c = a.LastSeen.Compare(b.LastSeen)
		case "age":
			c = cmp.Compare(a.Age, b.Age)
		default: // severity, then open before closed
			c = cmp.Or(cmp.Compare(a.Severity.Rank(), b.Severity.Rank()), cmp.Compare(statusRank[a.Status], statusRank[b.Status]))
		}
		if !asc {
			c = -c
		}
		return cmp.Or(c, b.LastSeen.Compare(a.LastSeen), strings.Compare(a.ID, b.ID))
	})
}

func (d *Dashboard) findings(w http.ResponseWriter, r *http.Request) {
	fp, err := d.buildFindings(r.Context(), parseQuery(r.URL.Query()), d.o.Now())
	if err != nil {
		d.internal(w, "findings", err)
		return
	}
	d.fill(&fp.page, r, "Findings", "findings")
	d.render(w, http.StatusOK, "findings", fp)
}

// Detail is the finding page.
type Detail struct {
	page
	F      store.Finding
	Report *report.Report
	Acks   []store.Acknowledgement
	Chart  ObsChart
	// Checks is how many observations the page read (the newest
	// maxChecks at most).
	Checks    int
	Truncated bool
	Events    []store.Event
	// StatusAge is how long it has been in its status.
	StatusAge time.Duration
}

// maxChecks bounds the observations a finding page reads.
const maxChecks = 2000

func (d *Dashboard) buildDetail(ctx context.Context, id string, now time.Time) (*Detail, error) {
	last, err := d.o.Store.LastEventID(ctx)
	if err != nil {
		return nil, err
	}
	det, err := d.o.Store.GetFinding(ctx, id, store.TimelineQuery{Limit: maxChecks})
	if errors.Is(err, store.ErrNotFound) && len(id) >= 4 {
		list, lerr := d.o.Store.ListFindings(ctx, store.FindingFilter{IDPrefix: id, Limit: 2})
		if lerr == nil && len(list) == 1 {
			det, err = d.o.Store.GetFinding(ctx, list[0].ID, store.TimelineQuery{Limit: maxChecks})
		}
	}
	if err != nil {
		return nil, err
	}
	p := &Detail{F: det.Finding, Report: report.Build(det, report.Options{Now: now})}
	p.Now, p.LastEvent = now, last
	p.StatusAge = now.Sub(statusSince(&p.F))
	var obs []store.Observation
	for _, e := range det.Timeline {
		switch {
		case e.Observation != nil:
			obs = append(obs, *e.Observation)
		case e.Event != nil:
			p.Events = append(p.Events, *e.Event)
		}
	}
	slices.Reverse(p.Events)
	p.Checks, p.Truncated = len(obs), len(obs) >= maxChecks
	p.Chart = observationChart(obs, now)
	if p.Acks, err = d.o.Store.ListAcknowledgements(ctx, store.AckFilter{FindingID: det.Finding.ID, Limit: 100}); err != nil {
		return nil, err
	}
	return p, nil
}

func (d *Dashboard) detail(w http.ResponseWriter, r *http.Request) {
	p, err := d.buildDetail(r.Context(), r.PathValue("id"), d.o.Now())
	if errors.Is(err, store.ErrNotFound) {
		d.plain(w, http.StatusNotFound, "no such finding")
		return
	}
	if err != nil {
		d.internal(w, "finding", err)
		return
	}
	d.fill(&p.page, r, p.F.Target.Addr()+" "+p.F.Service, "findings")
	p.Flash = flashOf(r)
	d.render(w, http.StatusOK, "detail", p)
}

// acknowledge stores an acknowledgement with an optional assignee and note.
func (d *Dashboard) acknowledge(w http.ResponseWriter, r *http.Request) {
	s := sessionOf(r.Context())
	id := r.PathValue("id")
	a, err := d.o.Store.Acknowledge(r.Context(), store.Acknowledgement{
		FindingID: id, By: s.by,
		Assignee: strings.TrimSpace(r.PostFormValue("assignee")), Note: strings.TrimSpace(r.PostFormValue("note")),
	})
	if errors.Is(err, store.ErrNotFound) {
		d.plain(w, http.StatusNotFound, "no such finding")
		return
	}
	if err != nil {
		d.internal(w, "acknowledge", err)
		return
	}
	d.o.Logger.Info("dashboard: finding acknowledged", "finding", id, "by", a.By, "assignee", a.Assignee)
	http.Redirect(w, r, "/ui/findings/"+url.PathEscape(id)+"?done=ack#acks", http.StatusSeeOther)
}

// triggerScan asks for a sweep of a scope now.
func (d *Dashboard) triggerScan(w http.ResponseWriter, r *http.Request) {
	scope := r.PostFormValue("scope")
	if d.o.Trigger == nil {
		d.plain(w, http.StatusServiceUnavailable, "sweeps cannot be triggered here")
		return
	}
	queued, err := d.o.Trigger(scope)
	switch {
	case errors.Is(err, api.ErrUnknownScope):
		d.plain(w, http.StatusNotFound, "no such scope")
		return
	case err != nil:
		d.internal(w, "trigger sweep", err)
		return
	}
	done := "running"
	if queued {
		done = "queued"
	}
	http.Redirect(w, r, "/ui/?"+url.Values{"done": {done}, "scope": {scope}}.Encode(), http.StatusSeeOther)
}
