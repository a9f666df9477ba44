package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/monitor"
)

// CoordinatorOptions configure a Coordinator.
type CoordinatorOptions struct {
	JS    jetstream.JetStream
	Names Names
	// DB is the PostgreSQL history database (the store's), where results
	// are kept (cluster_results) until their chunk is recorded.
	DB *pgxpool.Pool
	// InFlight caps a sweep's chunks waiting for results (default 32).
	InFlight int
	// AckWait of the site consumers (default 30s).
	AckWait time.Duration
	// MaxDeliver: deliveries before a work item is parked (default 5).
	MaxDeliver int
	Logger     *slog.Logger
}

// Coordinator is the cluster side of `leakwatch serve`: it implements
// monitor.Remote (publishes a chunk's work items, waits for their results
// and merges them over the sites) and ingests results into PostgreSQL
// (Ingest, run only by the active coordinator).
type Coordinator struct {
	o CoordinatorOptions

	mu      sync.Mutex
	waiters map[string]chan struct{} // chunk key → closed when one of its results is stored
	sites   map[string]bool          // site consumers made

	// Counters (metrics).
	ingested, duplicates, parkedSeen, published atomic.Int64
}

// schema is the coordinator's own table: one row per work item's first
// result (the idempotency key of results).
const schema = `CREATE TABLE IF NOT EXISTS cluster_results (
	item_id     text PRIMARY KEY,
	run_id      text NOT NULL,
	site        text NOT NULL,
	attempt     integer NOT NULL,
	worker      text NOT NULL,
	parked      boolean NOT NULL,
	error       text NOT NULL DEFAULT '',
	body        bytea NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cluster_results_run ON cluster_results (run_id);
CREATE TABLE IF NOT EXISTS cluster_result_parts (
	item_id     text NOT NULL,
	attempt     integer NOT NULL,
	part        integer NOT NULL,
	parts       integer NOT NULL,
	body        bytea NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (item_id, attempt, part)
);
CREATE INDEX IF NOT EXISTS cluster_result_parts_received ON cluster_result_parts (received_at)`

// NewCoordinator sets up the streams and the results table.
func NewCoordinator(ctx context.Context, o CoordinatorOptions) (*Coordinator, error) {
	if o.JS == nil || o.DB == nil {
		return nil, errors.New("cluster: incomplete coordinator options")
	}
	if o.InFlight <= 0 {
		o.InFlight = 32
	}
	if o.AckWait <= 0 {
		o.AckWait = 30 * time.Second
	}
	if o.MaxDeliver <= 0 {
		o.MaxDeliver = 5
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := Setup(ctx, o.JS, o.Names); err != nil {
		return nil, err
	}
	if err := Migrate(ctx, o.DB); err != nil {
		return nil, err
	}
	return &Coordinator{o: o, waiters: map[string]chan struct{}{}, sites: map[string]bool{}}, nil
}

// Migrate creates the results table (idempotent; concurrent coordinators
// are serialised by a transaction-scoped advisory lock).
func Migrate(ctx context.Context, db *pgxpool.Pool) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("cluster: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, leaseClass); err != nil {
		return fmt.Errorf("cluster: migrate: %w", err)
	}
	if _, err := tx.Exec(ctx, schema); err != nil {
		return fmt.Errorf("cluster: migrate: %w", err)
	}
	return tx.Commit(ctx)
}

// InFlight implements monitor.Remote.
func (c *Coordinator) InFlight() int { return c.o.InFlight }

// CoordinatorStats are the coordinator's counters.
type CoordinatorStats struct {
	// Ingested results stored; Duplicates: results of an item already
	// stored (a redelivered item's second result); Parked results seen.
	Ingested, Duplicates, Parked, Published int64
}

// Stats reads the counters.
func (c *Coordinator) Stats() CoordinatorStats {
	return CoordinatorStats{Ingested: c.ingested.Load(), Duplicates: c.duplicates.Load(), Parked: c.parkedSeen.Load(), Published: c.published.Load()}
}

// RunChunk implements monitor.Remote: it publishes the chunk's work item
// for each site that has no stored result yet (the message id makes a
// repeat within two minutes a no-op; a later repeat only costs a second
// sweep of the chunk, whose result is ignored), waits for every site's
// result in cluster_results, and merges them.
func (c *Coordinator) RunChunk(ctx context.Context, ch monitor.Chunk) (monitor.ChunkResult, error) {
	if len(ch.Sites) == 0 {
		return monitor.ChunkResult{}, fmt.Errorf("cluster: scope %s names no site", ch.Scope)
	}
	ids := make([]string, len(ch.Sites))
	for i, site := range ch.Sites {
		ids[i] = ItemID(ch.RunID, ch.Start, site)
	}
	key := chunkKey(ids[0])
	defer func() {
		c.mu.Lock()
		delete(c.waiters, key)
		c.mu.Unlock()
	}()
	published := false
	var publishedAt time.Time
	// An item without a result long after every delivery it may get is
	// published again (the queue lost it, e.g. a purged stream); a copy
	// of an item still queued only costs a second sweep of the chunk.
	republish := max(10*time.Minute, 2*time.Duration(c.o.MaxDeliver)*c.o.AckWait)
	for {
		c.mu.Lock()
		wake := c.waiters[key]
		if wake == nil {
			wake = make(chan struct{})
			c.waiters[key] = wake
		}
		c.mu.Unlock()
		rows, err := c.stored(ctx, ids)
		if err == nil && len(rows) == len(ids) {
			return merge(ch, rows)
		}
		if err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("read results (retrying)", "err", err)
		}
		if published && time.Since(publishedAt) > republish {
			c.o.Logger.Warn("no result for a work item: publishing it again", "chunk", key, "after", republish)
			published = false
		}
		if err == nil && !published {
			for i, site := range ch.Sites {
				if _, ok := rows[ids[i]]; ok {
					continue
				}
				if err := c.publish(ctx, ch, site, ids[i]); err != nil {
					return monitor.ChunkResult{}, err
				}
			}
			published, publishedAt = true, time.Now()
		}
		// Wake on a stored result of this chunk, or look again after a
		// while (a result stored by a previous coordinator, a lost wake).
		t := time.NewTimer(2 * time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return monitor.ChunkResult{}, context.Cause(ctx)
		case <-t.C:
		case <-wake:
			t.Stop()
		}
	}
}

// chunkKey is the chunk part (RunID/Start) of an item id.
func chunkKey(itemID string) string {
	if i := strings.LastIndexByte(itemID, '/'); i >= 0 {
		return itemID[:i]
	}
	return itemID
}

// publish sends one work item, retrying until JetStream stores it.
func (c *Coordinator) publish(ctx context.Context, ch monitor.Chunk, site, id string) error {
	c.mu.Lock()
	made := c.sites[site]
	c.mu.Unlock()
	if !made {
		if err := monitor.Retry(ctx, func() error {
			_, err := SiteConsumer(ctx, c.o.JS, c.o.Names, site, c.o.AckWait)
			return err
		}); err != nil {
			return err
		}
		c.mu.Lock()
		c.sites[site] = true
		c.mu.Unlock()
	}
	// Within the server's real max_payload (an item is a list of
	// endpoints: about 10 bytes each gzip'd; only a huge cluster.chunk
	// can exceed it, which no retry mends).
	data, err := encodeLimit(Item{
		ID: id, RunID: ch.RunID, Scope: ch.Scope, Site: site, Start: ch.Start, Spec: ch.Spec,
		Endpoints: ch.Endpoints, MaxDeliver: c.o.MaxDeliver, Published: time.Now().UTC(),
	}, messageLimit(c.o.JS.Conn().MaxPayload()))
	if err != nil {
		return fmt.Errorf("work item %s (%d endpoints; use a smaller cluster.chunk): %w", id, len(ch.Endpoints), err)
	}
	err = monitor.Retry(ctx, func() error {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.o.JS.Publish(pctx, c.o.Names.WorkSubject(site), data, jetstream.WithMsgID(id))
		if err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("publish work item (retrying)", "item", id, "err", err)
		}
		return err
	})
	if err == nil {
		c.published.Add(1)
	}
	return err
}

// stored reads the stored results of ids.
func (c *Coordinator) stored(ctx context.Context, ids []string) (map[string]Result, error) {
	rows, err := c.o.DB.Query(ctx, `SELECT item_id, body FROM cluster_results WHERE item_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Result{}
	for rows.Next() {
		var id string
		var body []byte
		if err := rows.Scan(&id, &body); err != nil {
			return nil, err
		}
		var r Result
		if err := decodeLimit(body, &r, maxAssembled); err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

// merge folds the sites' results of a chunk into one check per open
// endpoint: the most telling check wins (exposed, then protected, then
// any identified service, then the rest), and its finding's ReachableFrom
// lists every site where the same service answered.
func merge(ch monitor.Chunk, rows map[string]Result) (monitor.ChunkResult, error) {
	var res monitor.ChunkResult
	type entry struct {
		best  monitor.Check
		sites map[string][]string // finding id → sites
		all   []*finding.Finding  // every site's finding of the endpoint
	}
	byEP := map[string]*entry{}
	var order []string
	// Only the chunk's endpoints: a result is a message anyone who can
	// publish to the results stream could forge, and a check of another
	// address would open a finding (and alert) for it.
	inChunk := make(map[netip.AddrPort]bool, len(ch.Endpoints))
	for _, ep := range ch.Endpoints {
		inChunk[ep.AddrPort()] = true
	}
	for _, site := range ch.Sites {
		r := rows[ItemID(ch.RunID, ch.Start, site)]
		if r.Parked {
			res.Parked = append(res.Parked, site)
			continue
		}
		for _, c := range r.Checks {
			if !inChunk[c.Target.AddrPort()] || !sameEndpoint(c) {
				res.Foreign++
				continue
			}
			key := c.Target.AddrPort().String()
			e := byEP[key]
			if e == nil {
				e = &entry{best: c, sites: map[string][]string{}}
				byEP[key] = e
				order = append(order, key)
			} else if better(c, e.best) {
				e.best = c
			}
			if c.Finding != nil && !c.Unidentified {
				e.sites[c.Finding.ID] = append(e.sites[c.Finding.ID], site)
			}
			if c.Finding != nil {
				e.all = append(e.all, c.Finding)
			}
		}
	}
	for _, key := range order {
		e := byEP[key]
		c := e.best
		if c.Finding != nil && !c.Unidentified {
			f := *c.Finding
			f.ReachableFrom = slices.Sorted(slices.Values(e.sites[f.ID]))
			f.Severity = finding.Assess(&f)
			// The other sites' checks of this endpoint ran around its
			// reading in an unknown order: their requests are leakwatch's.
			others := slices.DeleteFunc(slices.Clone(e.all), func(o *finding.Finding) bool { return o == c.Finding })
			c.Finding = monitor.WithConcurrent(&f, others)
		}
		res.Checks = append(res.Checks, c)
	}
	return res, nil
}

// sameEndpoint tells whether a check's finding is about the check's own
// endpoint, under the id the engine gives it: a forged finding naming
// another address (or another id) would open a finding elsewhere.
func sameEndpoint(c monitor.Check) bool {
	f := c.Finding
	if f == nil {
		return true
	}
	a, err := netip.ParseAddr(f.Target.Host)
	return err == nil && f.Target.Kind == finding.TargetNetwork &&
		netip.AddrPortFrom(a.Unmap(), uint16(f.Target.Port)) == netip.AddrPortFrom(c.Target.Addr.Unmap(), uint16(c.Target.Port)) &&
		f.Target.Port == c.Target.Port && f.ID == finding.Fingerprint(f.Target, f.Service)
}

// better tells whether check a tells more than b: a worse status first
// (rank), then — for the same status, e.g. two sites probing one store at
// the same moment, where one may find its sampler busy — more classes,
// more records sampled, more datasets, fewer flags.
func better(a, b monitor.Check) bool {
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra > rb
	}
	if a.Finding == nil || b.Finding == nil {
		return false
	}
	sa, sb := score(a.Finding), score(b.Finding)
	return slices.Compare(sa[:], sb[:]) > 0
}

// score is what better compares for findings of one status.
func score(f *finding.Finding) [4]int {
	sampled := 0
	for _, d := range f.Datasets {
		sampled += d.Sampled
	}
	return [4]int{len(f.Classes), sampled, len(f.Datasets), -len(f.Flags)}
}

// rank orders checks by how much they tell.
func rank(c monitor.Check) int {
	switch {
	case c.Finding == nil:
		return 0
	case c.Unidentified:
		return 1
	case c.Finding.Status == finding.StatusExposed:
		return 4
	case c.Finding.Status == finding.StatusProtected:
		return 3
	}
	return 2
}

// resultAckWait is how long a result pulled by a coordinator that lost
// its lease (or died) waits before the next one gets it; a result whose
// storing takes longer is delivered again, which is harmless.
const resultAckWait = 10 * time.Second

// Ingest consumes results until ctx ends: each is stored in
// cluster_results (the first result of an item wins; a repeat is a
// no-op), then acked, then its chunk's waiter is woken. A database error
// is retried without acking, so no result is dropped; the message stays
// in the stream until stored.
func (c *Coordinator) Ingest(ctx context.Context) error {
	var cons jetstream.Consumer
	if err := monitor.Retry(ctx, func() error {
		var err error
		cons, err = c.o.JS.CreateOrUpdateConsumer(ctx, c.o.Names.ResultStream(), jetstream.ConsumerConfig{
			Durable: ResultConsumer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: resultAckWait,
			MaxDeliver: -1, MaxAckPending: 1024,
		})
		if err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("results consumer (retrying)", "err", err)
		}
		return err
	}); err != nil {
		return err
	}
	go c.prune(ctx)
	for ctx.Err() == nil {
		// A continuous pull: results are stored as they arrive.
		it, err := cons.Messages(jetstream.PullMaxMessages(64))
		if err != nil {
			c.o.Logger.Warn("pull results (retrying)", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		stop := context.AfterFunc(ctx, it.Stop)
		for {
			msg, err := it.Next()
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
					c.o.Logger.Warn("pull results", "err", err)
				}
				break
			}
			c.ingest(ctx, msg)
		}
		stop()
		it.Stop()
		sleep(ctx, 200*time.Millisecond)
	}
	return nil
}

func (c *Coordinator) ingest(ctx context.Context, msg jetstream.Msg) {
	var r Result
	if err := decode(msg.Data(), &r); err != nil || r.ItemID == "" {
		c.o.Logger.Error("undecodable result dropped", "subject", msg.Subject(), "err", err)
		_ = msg.Term()
		return
	}
	if r.Parts > 1 && (r.Part < 0 || r.Part >= r.Parts || r.Parts > maxParts) {
		c.o.Logger.Error("result part with bad numbers dropped", "item", r.ItemID, "part", r.Part, "parts", r.Parts)
		_ = msg.Term()
		return
	}
	var inserted bool
	err := monitor.Retry(ctx, func() error {
		if r.Parts > 1 {
			var err error
			inserted, err = c.storePart(ctx, r, msg.Data())
			if err != nil && ctx.Err() == nil {
				c.o.Logger.Warn("store result part (retrying)", "item", r.ItemID, "part", r.Part, "parts", r.Parts, "err", err)
			}
			return err
		}
		tag, err := c.o.DB.Exec(ctx, `INSERT INTO cluster_results (item_id, run_id, site, attempt, worker, parked, error, body)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (item_id) DO NOTHING`,
			r.ItemID, r.RunID, r.Site, r.Attempt, r.Worker, r.Parked, r.Error, msg.Data())
		if err != nil {
			if ctx.Err() == nil {
				c.o.Logger.Warn("store result (retrying)", "item", r.ItemID, "err", err)
			}
			return err
		}
		inserted = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		_ = msg.Nak() // ctx ended: to the next active coordinator now
		return
	}
	if inserted {
		c.ingested.Add(1)
		if r.Parked {
			c.parkedSeen.Add(1)
		}
	} else if r.Parts <= 1 { // (a part that does not complete its item is no duplicate)
		c.duplicates.Add(1)
	}
	if err := msg.Ack(); err != nil && ctx.Err() == nil {
		c.o.Logger.Debug("ack result", "err", err) // redelivered; storing it again is a no-op
	}
	c.mu.Lock()
	if w := c.waiters[chunkKey(r.ItemID)]; w != nil {
		close(w)
		delete(c.waiters, chunkKey(r.ItemID))
	}
	c.mu.Unlock()
}

// partsClass is the first key of the transaction locks that serialise
// the parts of one work item (leaseClass's are session locks).
const partsClass = leaseClass + 1

// storePart records one part of a result in cluster_result_parts (a
// repeat is a no-op: the key is item, attempt and part) and, when every
// part of this attempt is there, stores the assembled result as the
// item's result (the first complete attempt wins, as for whole results)
// and drops the item's parts. Parts of an attempt that never completes
// (its worker died between parts) are never used; they are pruned. It
// reports whether it stored the item's result.
func (c *Coordinator) storePart(ctx context.Context, r Result, body []byte) (bool, error) {
	tx, err := c.o.DB.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)
	// One item's parts one at a time (two coordinators overlapping after
	// a failover must not both miss the last part).
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(partsClass), r.ItemID); err != nil {
		return false, err
	}
	var done bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cluster_results WHERE item_id = $1)`, r.ItemID).Scan(&done); err != nil {
		return false, err
	}
	if done { // a late part of an item already complete
		return false, tx.Commit(ctx)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cluster_result_parts (item_id, attempt, part, parts, body)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, r.ItemID, r.Attempt, r.Part, r.Parts, body); err != nil {
		return false, err
	}
	var have int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM cluster_result_parts WHERE item_id = $1 AND attempt = $2 AND parts = $3`,
		r.ItemID, r.Attempt, r.Parts).Scan(&have); err != nil {
		return false, err
	}
	if have < r.Parts { // read the bodies only once, when all are there
		return false, tx.Commit(ctx)
	}
	rows, err := tx.Query(ctx, `SELECT body FROM cluster_result_parts WHERE item_id = $1 AND attempt = $2 AND parts = $3 ORDER BY part`,
		r.ItemID, r.Attempt, r.Parts)
	if err != nil {
		return false, err
	}
	var parts []Result
	budget := maxAssembled / 4 // all the parts' JSON together
	tooLarge := false
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return false, err
		}
		var p Result
		if err := decodeBudget(b, &p, &budget); errors.Is(err, errOverBudget) {
			tooLarge = true
			break
		} else if err != nil {
			rows.Close()
			return false, err
		}
		parts = append(parts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if tooLarge {
		return false, c.refuseParts(ctx, tx, r)
	}
	if len(parts) < r.Parts {
		return false, tx.Commit(ctx)
	}
	whole, err := assemble(parts)
	if err != nil { // cannot happen for parts numbered 0..n-1 once each; not retried
		c.o.Logger.Error("result parts do not assemble", "item", r.ItemID, "attempt", r.Attempt, "err", err)
		return false, tx.Commit(ctx)
	}
	data, err := encodeCapped(whole, maxAssembled) // stored reads it back within maxAssembled
	if errors.Is(err, errOverBudget) {
		return false, c.refuseParts(ctx, tx, r)
	} else if err != nil {
		return false, err
	}
	tag, err := tx.Exec(ctx, `INSERT INTO cluster_results (item_id, run_id, site, attempt, worker, parked, error, body)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (item_id) DO NOTHING`,
		whole.ItemID, whole.RunID, whole.Site, whole.Attempt, whole.Worker, whole.Parked, whole.Error, data)
	if err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cluster_result_parts WHERE item_id = $1`, r.ItemID); err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, tx.Commit(ctx)
}

// refuseParts drops the parts of r's attempt, which assemble to a result
// larger than maxAssembled (one no worker's chunk makes: its parts are
// forged or broken). The item is not completed by it: a later attempt,
// or the item published again (RunChunk), brings its result. Not retried.
func (c *Coordinator) refuseParts(ctx context.Context, tx pgx.Tx, r Result) error {
	c.o.Logger.Error("result parts assemble to more than the bound: dropped", "item", r.ItemID,
		"attempt", r.Attempt, "parts", r.Parts, "bound_bytes", maxAssembled)
	if _, err := tx.Exec(ctx, `DELETE FROM cluster_result_parts WHERE item_id = $1 AND attempt = $2 AND parts = $3`,
		r.ItemID, r.Attempt, r.Parts); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ResultRetention is how long stored results are kept (a sweep resumed
// later than this re-runs its chunks).
const ResultRetention = 7 * 24 * time.Hour

// prune deletes results older than ResultRetention, hourly, while ctx
// lasts (the active coordinator's).
func (c *Coordinator) prune(ctx context.Context) {
	for ctx.Err() == nil {
		if _, err := c.o.DB.Exec(ctx, `DELETE FROM cluster_results WHERE received_at < now() - make_interval(secs => $1)`,
			ResultRetention.Seconds()); err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("prune results", "err", err)
		}
		// Parts of attempts that never completed.
		if _, err := c.o.DB.Exec(ctx, `DELETE FROM cluster_result_parts WHERE received_at < now() - make_interval(secs => $1)
			OR item_id IN (SELECT item_id FROM cluster_results)`, ResultRetention.Seconds()); err != nil && ctx.Err() == nil {
			c.o.Logger.Warn("prune result parts", "err", err)
		}
		sleep(ctx, time.Hour)
	}
}
