package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Status is the cluster at a glance (`leakwatch cluster status`).
type Status struct {
	// Active is the active coordinator's name ("" if none holds the lease).
	Active  string      `json:"active_coordinator"`
	Workers []Heartbeat `json:"workers"`
	Sites   []SiteState `json:"sites"`
	// QueueDepth is the work items not yet done, all sites.
	QueueDepth int64 `json:"queue_depth"`
	// Redeliveries: work items whose stored result took more than one
	// delivery (a worker died, stalled or failed on them), from the
	// results table (0 without db), plus the redelivered items pending now.
	Redeliveries int64 `json:"redeliveries"`
	// ResultsPending: results not yet stored by a coordinator.
	ResultsPending int64 `json:"results_pending"`
	// Parked items, newest first (at most 100).
	Parked      []ParkedItem `json:"parked"`
	ParkedTotal int64        `json:"parked_total"`
	// IncompletePartSets: results arriving in parts (an item's attempt)
	// of which the coordinator holds some parts but not all — still
	// arriving, or their worker died between parts (the redelivered
	// attempt completes the item; these are pruned after ResultRetention).
	// Counted up to maxPartSets (IncompletePartSetsCapped then). From
	// PostgreSQL (0 without db).
	IncompletePartSets       int64 `json:"incomplete_part_sets"`
	IncompletePartSetsCapped bool  `json:"incomplete_part_sets_capped,omitempty"`
	// OldestIncompleteSeconds: age of the oldest part of an incomplete
	// set, by the database's clock (0 if none).
	OldestIncompleteSeconds float64 `json:"oldest_incomplete_part_set_seconds"`
}

// maxPartSets bounds the incomplete part sets a status counts.
const maxPartSets = 10000

// SiteState is one site's queue.
type SiteState struct {
	Site    string `json:"site"`
	Workers int    `json:"workers"`
	// Pending: items waiting; InFlight: delivered, not yet acked.
	Pending  int64 `json:"pending"`
	InFlight int64 `json:"in_flight"`
	// Redeliveries: items redelivered and not yet acked (the consumer's
	// count).
	Redeliveries int64 `json:"redeliveries_pending"`
}

// ParkedItem is a work item given up on, with its error.
type ParkedItem struct {
	ItemID   string    `json:"item_id"`
	Site     string    `json:"site"`
	Attempts int       `json:"attempts"`
	Error    string    `json:"error"`
	At       time.Time `json:"at"`
}

// ReadStatus reads the cluster's state from JetStream and, if db is set,
// the active coordinator from PostgreSQL.
func ReadStatus(ctx context.Context, js jetstream.JetStream, n Names, db *pgxpool.Pool) (Status, error) {
	return readStatus(ctx, js, n, db, 100)
}

// readStatus reads the status with up to maxParked parked items listed
// (metrics list none: a scrape stays cheap).
func readStatus(ctx context.Context, js jetstream.JetStream, n Names, db *pgxpool.Pool, maxParked int) (Status, error) {
	var st Status
	if db != nil {
		a, err := activeCoordinator(ctx, db, n.Prefix)
		if err != nil {
			return st, err
		}
		st.Active = a
		err = db.QueryRow(ctx, `SELECT COUNT(*) FROM cluster_results WHERE attempt > 1`).Scan(&st.Redeliveries)
		var pgErr *pgconn.PgError
		if err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P01") { // no coordinator ran yet
			return st, err
		}
		if err := incompleteParts(ctx, db, &st); err != nil && !(errors.As(err, &pgErr) && pgErr.Code == "42P01") {
			return st, err
		}
	}
	if kv, err := js.KeyValue(ctx, n.WorkersBucket()); err == nil {
		keys, err := kv.ListKeys(ctx)
		if err == nil {
			for k := range keys.Keys() {
				e, err := kv.Get(ctx, k)
				if err != nil {
					continue
				}
				var hb Heartbeat
				if json.Unmarshal(e.Value(), &hb) == nil {
					st.Workers = append(st.Workers, hb)
				}
			}
		}
	} else if !errors.Is(err, jetstream.ErrBucketNotFound) {
		return st, err
	}
	slices.SortFunc(st.Workers, func(a, b Heartbeat) int { return strings.Compare(a.Name, b.Name) })
	sites := map[string]*SiteState{}
	site := func(name string) *SiteState {
		if sites[name] == nil {
			sites[name] = &SiteState{Site: name}
		}
		return sites[name]
	}
	for _, w := range st.Workers {
		for _, s := range w.Sites {
			site(s).Workers++
		}
	}
	ws, err := js.Stream(ctx, n.WorkStream())
	if err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return st, err
	}
	if ws != nil {
		info, err := ws.Info(ctx)
		if err != nil {
			return st, err
		}
		st.QueueDepth = int64(info.State.Msgs)
		for ci := range ws.ListConsumers(ctx).Info() {
			name, ok := strings.CutPrefix(ci.Config.FilterSubject, n.Prefix+".work.")
			if !ok {
				continue
			}
			s := site(name)
			s.Pending = int64(ci.NumPending)
			s.InFlight = int64(ci.NumAckPending)
			s.Redeliveries = int64(ci.NumRedelivered)
			st.Redeliveries += s.Redeliveries
		}
	}
	if rs, err := js.Stream(ctx, n.ResultStream()); err == nil {
		if info, err := rs.Info(ctx); err == nil {
			st.ResultsPending = int64(info.State.Msgs)
		}
	}
	if ps, err := js.Stream(ctx, n.ParkedStream()); err == nil {
		info, err := ps.Info(ctx)
		if err == nil {
			st.ParkedTotal = int64(info.State.Msgs)
			for seq := info.State.LastSeq; seq >= info.State.FirstSeq && seq > 0 && len(st.Parked) < maxParked; seq-- {
				m, err := ps.GetMsg(ctx, seq)
				if err != nil {
					continue
				}
				var r Result
				if decode(m.Data, &r) == nil {
					st.Parked = append(st.Parked, ParkedItem{ItemID: r.ItemID, Site: r.Site, Attempts: r.Attempt, Error: r.Error, At: m.Time})
				}
			}
		}
	}
	for _, s := range sites {
		st.Sites = append(st.Sites, *s)
	}
	slices.SortFunc(st.Sites, func(a, b SiteState) int { return strings.Compare(a.Site, b.Site) })
	return st, nil
}

// incompleteParts counts the part sets in cluster_result_parts (a set's
// parts are deleted in the transaction that completes it, so every set
// there is incomplete), at most maxPartSets of them, and the age of the
// oldest part (an index lookup on received_at).
func incompleteParts(ctx context.Context, db *pgxpool.Pool, st *Status) error {
	var n int64
	err := db.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM (SELECT 1 FROM cluster_result_parts GROUP BY item_id, attempt LIMIT $1) s),
		COALESCE((SELECT EXTRACT(EPOCH FROM now() - MIN(received_at))::float8 FROM cluster_result_parts), 0)`,
		maxPartSets+1).Scan(&n, &st.OldestIncompleteSeconds)
	if err != nil {
		return err
	}
	st.IncompletePartSets, st.IncompletePartSetsCapped = min(n, maxPartSets), n > maxPartSets
	st.OldestIncompleteSeconds = max(0, st.OldestIncompleteSeconds)
	return nil
}

// activeCoordinator is the application name of the session holding the
// lease, without its prefix.
func activeCoordinator(ctx context.Context, db *pgxpool.Pool, prefix string) (string, error) {
	var name string
	err := db.QueryRow(ctx, `SELECT COALESCE(MAX(a.application_name), '') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2`,
		int64(leaseClass), int64(LeaseKey(prefix))).Scan(&name)
	return strings.TrimPrefix(name, appName), err
}

// Collector exposes the cluster's state as Prometheus gauges, read at
// scrape time (bounded by a 3s timeout): workers by site, queue depth,
// in-flight items, redeliveries, parked items, pending results, whether
// this coordinator is active, and coord's counters.
func Collector(js jetstream.JetStream, n Names, db *pgxpool.Pool, coord *Coordinator, self string) prometheus.Collector {
	return &collector{js: js, n: n, db: db, coord: coord, self: self}
}

type collector struct {
	js    jetstream.JetStream
	n     Names
	db    *pgxpool.Pool
	coord *Coordinator
	self  string
}

var (
	descWorkers      = prometheus.NewDesc("leakwatch_cluster_workers", "Workers with a recent heartbeat, by site.", []string{"site"}, nil)
	descQueue        = prometheus.NewDesc("leakwatch_cluster_queue_depth", "Work items not yet done, by site (pending, not delivered).", []string{"site"}, nil)
	descInFlight     = prometheus.NewDesc("leakwatch_cluster_in_flight", "Work items delivered to a worker and not yet acked, by site.", []string{"site"}, nil)
	descRedeliveries = prometheus.NewDesc("leakwatch_cluster_redeliveries_pending", "Work items redelivered and not yet acked, by site.", []string{"site"}, nil)
	descRedelivered  = prometheus.NewDesc("leakwatch_cluster_redelivered_items", "Work items whose stored result took more than one delivery.", nil, nil)
	descParked       = prometheus.NewDesc("leakwatch_cluster_parked_items", "Work items parked after failing too often (kept 7 days).", nil, nil)
	descResults      = prometheus.NewDesc("leakwatch_cluster_results_pending", "Results not yet stored by the active coordinator.", nil, nil)
	descActive       = prometheus.NewDesc("leakwatch_cluster_coordinator_active", "1 if this coordinator holds the lease.", nil, nil)
	descIngested     = prometheus.NewDesc("leakwatch_cluster_results_ingested_total", "Results stored by this coordinator.", nil, nil)
	descDuplicates   = prometheus.NewDesc("leakwatch_cluster_results_duplicate_total", "Results of an item already stored (ignored).", nil, nil)
	descPublished    = prometheus.NewDesc("leakwatch_cluster_items_published_total", "Work items published by this coordinator.", nil, nil)
	descPartSets     = prometheus.NewDesc("leakwatch_cluster_incomplete_part_sets", "Results arriving in parts of which some parts are stored but not all (counted up to 10000).", nil, nil)
	descPartSetAge   = prometheus.NewDesc("leakwatch_cluster_incomplete_part_set_oldest_seconds", "Age of the oldest stored part of an incomplete result (0 if none).", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWorkers, descQueue, descInFlight, descRedeliveries, descRedelivered, descParked, descResults, descActive, descIngested, descDuplicates, descPublished, descPartSets, descPartSetAge} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if c.coord != nil {
		s := c.coord.Stats()
		ch <- prometheus.MustNewConstMetric(descIngested, prometheus.CounterValue, float64(s.Ingested))
		ch <- prometheus.MustNewConstMetric(descDuplicates, prometheus.CounterValue, float64(s.Duplicates))
		ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(s.Published))
	}
	st, err := readStatus(ctx, c.js, c.n, c.db, 0)
	if err != nil {
		return
	}
	active := 0.0
	if st.Active != "" && st.Active == c.self {
		active = 1
	}
	ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, active)
	for _, s := range st.Sites {
		ch <- prometheus.MustNewConstMetric(descWorkers, prometheus.GaugeValue, float64(s.Workers), s.Site)
		ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(s.Pending), s.Site)
		ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(s.InFlight), s.Site)
		ch <- prometheus.MustNewConstMetric(descRedeliveries, prometheus.GaugeValue, float64(s.Redeliveries), s.Site)
	}
	ch <- prometheus.MustNewConstMetric(descParked, prometheus.GaugeValue, float64(st.ParkedTotal))
	ch <- prometheus.MustNewConstMetric(descRedelivered, prometheus.GaugeValue, float64(st.Redeliveries))
	ch <- prometheus.MustNewConstMetric(descResults, prometheus.GaugeValue, float64(st.ResultsPending))
	if c.db != nil {
		ch <- prometheus.MustNewConstMetric(descPartSets, prometheus.GaugeValue, float64(st.IncompletePartSets))
		ch <- prometheus.MustNewConstMetric(descPartSetAge, prometheus.GaugeValue, st.OldestIncompleteSeconds)
	}
}
