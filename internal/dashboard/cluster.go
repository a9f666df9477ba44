package dashboard

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/store"
)

// ClusterView is the overview's cluster section (serve as a cluster
// coordinator). Every string in it came from NATS messages that workers
// wrote: it is made visible text (controls and bidi runes escaped) and a
// parked item's error is scrubbed as the API scrubs it.
type ClusterView struct {
	// Err is set when the status could not be read (the rest is empty).
	Err string
	// Refresh: seconds between reloads of the section in an open page.
	Refresh int
	Active  string
	// Sites are the sites' queues with their workers.
	Sites          []ClusterSite
	QueueDepth     int64
	Redeliveries   int64
	ResultsPending int64
	Parked         []ParkedView
	ParkedTotal    int64
	// Incomplete results in parts (some parts stored, not all) and the
	// oldest one's age; IncompleteCapped: counted up to the status's cap.
	Incomplete       int64
	IncompleteCapped bool
	IncompleteOldest time.Duration
	// Unlisted parked items (the status lists the newest 100): coverage
	// of any scope may be overstated by them.
	Unlisted int64
}

// ClusterSite is one site: its queue and the workers serving it.
type ClusterSite struct {
	cluster.SiteState
	Workers []ClusterWorker
}

// ClusterWorker is a worker's last heartbeat. InFlight is what the worker
// holds now (0 from workers whose heartbeats predate the count).
type ClusterWorker struct {
	Name     string
	Sites    int // sites the worker serves
	LastBeat time.Time
	InFlight int64
	Items    int64
	Parked   int64
}

// ParkedView is a parked work item: a chunk of a scope that a site gave up
// on, so its endpoints were not checked from there.
type ParkedView struct {
	ItemID string
	RunID  string
	// Scope is the scope of the item's sweep ("" when the run is unknown).
	Scope string
	// First and Last are the chunk's endpoint positions in the scope's
	// sweep order (Last is -1 when the chunk size is unknown).
	First, Last int64
	HasRange    bool
	Site        string
	Attempts    int
	Error       string
	At          time.Time
	// Current: the item belongs to the scope's newest complete or running
	// sweep, so the coverage shown for it is partial.
	Current bool
}

// clusterTimeout bounds one read of the cluster status.
const clusterTimeout = 3 * time.Second

// buildCluster reads the cluster status for the overview (nil when serve
// is no coordinator). A failed read is shown, not fatal: the rest of the
// overview comes from the store.
func (d *Dashboard) buildCluster(ctx context.Context) *ClusterView {
	if d.o.Cluster == nil {
		return nil
	}
	refresh := int(d.o.ClusterRefresh / time.Second)
	cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	st, err := d.o.Cluster(cctx)
	if err != nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return &ClusterView{Err: "cancelled", Refresh: refresh}
		}
		d.o.Logger.Warn("dashboard: cluster status", "err", err)
		return &ClusterView{Err: classify.ScrubText(err.Error()), Refresh: refresh}
	}
	cv := clusterView(st)
	cv.Refresh = refresh
	return cv
}

// clusterView turns a status into the section's rows (workers grouped by
// site; a worker serving two sites is listed under both).
func clusterView(st cluster.Status) *ClusterView {
	v := &ClusterView{Active: finding.VisibleText(st.Active), QueueDepth: st.QueueDepth, Redeliveries: st.Redeliveries,
		ResultsPending: st.ResultsPending, ParkedTotal: st.ParkedTotal, Incomplete: st.IncompletePartSets,
		IncompleteCapped: st.IncompletePartSetsCapped, IncompleteOldest: time.Duration(st.OldestIncompleteSeconds * float64(time.Second))}
	bySite := map[string]int{}
	for _, s := range st.Sites {
		s.Site = finding.VisibleText(s.Site)
		bySite[s.Site] = len(v.Sites)
		v.Sites = append(v.Sites, ClusterSite{SiteState: s})
	}
	for _, w := range st.Workers {
		cw := ClusterWorker{Name: finding.VisibleText(w.Name), Sites: len(w.Sites), LastBeat: w.At, InFlight: w.InFlight, Items: w.Items, Parked: w.Parked}
		for _, s := range w.Sites {
			s = finding.VisibleText(s)
			i, ok := bySite[s]
			if !ok {
				i = len(v.Sites)
				bySite[s] = i
				v.Sites = append(v.Sites, ClusterSite{SiteState: cluster.SiteState{Site: s}})
			}
			v.Sites[i].Workers = append(v.Sites[i].Workers, cw)
		}
	}
	for _, p := range st.Parked {
		pv := ParkedView{ItemID: finding.VisibleText(p.ItemID), Site: finding.VisibleText(p.Site), Attempts: p.Attempts,
			Error: classify.ScrubText(p.Error), At: p.At, Last: -1}
		if run, start, _, ok := splitItemID(p.ItemID); ok {
			pv.RunID, pv.First, pv.HasRange = run, start, true
		}
		v.Parked = append(v.Parked, pv)
	}
	v.Unlisted = max(0, st.ParkedTotal-int64(len(st.Parked)))
	return v
}

// splitItemID splits a work item id, RunID/Start/Site (cluster.ItemID).
func splitItemID(id string) (run string, start int64, site string, ok bool) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return "", 0, "", false
	}
	j := strings.LastIndexByte(id[:i], '/')
	if j <= 0 {
		return "", 0, "", false
	}
	start, err := strconv.ParseInt(id[j+1:i], 10, 64)
	if err != nil || start < 0 {
		return "", 0, "", false
	}
	return id[:j], start, id[i+1:], true
}

// placeParked finds each parked item's scope (from its sweep's run) and
// chunk range, and marks the items of each scope's newest complete or
// running sweep, whose coverage they make partial. runs are the runs
// already read for the coverage table (by id); others are read here.
func (d *Dashboard) placeParked(ctx context.Context, cv *ClusterView, runs map[string]store.ScanRun) error {
	unknown := map[string]bool{}
	for i := range cv.Parked {
		p := &cv.Parked[i]
		if p.RunID == "" || unknown[p.RunID] {
			continue
		}
		r, ok := runs[p.RunID]
		if !ok {
			var err error
			r, err = d.o.Store.GetScan(ctx, p.RunID)
			if errors.Is(err, store.ErrNotFound) {
				unknown[p.RunID] = true
				continue
			}
			if err != nil {
				return err
			}
			runs[p.RunID] = r
		}
		p.Scope = r.Scope
		if d.o.Chunk > 0 {
			p.Last = p.First + int64(d.o.Chunk) - 1
			if d.o.Endpoints != nil {
				if n := int64(d.o.Endpoints(r.Scope)); n > 0 && p.Last >= n {
					p.Last = n - 1
				}
			}
		}
		p.RunID = finding.VisibleText(p.RunID)
	}
	return nil
}

// markPartial marks the scopes whose newest complete or running sweep has
// parked items, and those items as current.
func markPartial(cv *ClusterView, scopes []ScopeCoverage) {
	if cv == nil {
		return
	}
	for i := range scopes {
		sc := &scopes[i]
		sites := map[string]bool{}
		counted := map[string]bool{} // a re-parked item is listed twice
		for j := range cv.Parked {
			p := &cv.Parked[j]
			if p.Scope != sc.Name || p.RunID == "" {
				continue
			}
			if counted[p.ItemID] {
				p.Current = p.RunID == idOf(sc.LastComplete) || p.RunID == idOf(sc.Running)
				continue
			}
			counted[p.ItemID] = true
			switch {
			case sc.LastComplete != nil && p.RunID == sc.LastComplete.ID:
				sc.ParkedChunks++
				sc.NotChecked += chunkLen(*p)
			case sc.Running != nil && p.RunID == sc.Running.ID:
				sc.RunningParked++
			default:
				continue
			}
			p.Current = true
			sites[p.Site] = true
		}
		for s := range sites {
			sc.ParkedSites = append(sc.ParkedSites, s)
		}
		slices.Sort(sc.ParkedSites)
		sc.MayBePartial = cv.Unlisted > 0
	}
	slices.SortStableFunc(cv.Parked, func(a, b ParkedView) int {
		if a.Current != b.Current {
			if a.Current {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Scope, b.Scope)
	})
}

// chunkLen is how many endpoints a parked chunk holds (0: unknown).
func chunkLen(p ParkedView) int64 {
	if !p.HasRange || p.Last < p.First {
		return 0
	}
	return p.Last - p.First + 1
}

func idOf(r *store.ScanRun) string {
	if r == nil {
		return "\x00" // matches no run id
	}
	return r.ID
}
