// Package cluster scales leakwatch out: scan workers at several vantage
// points (sites) pull work from NATS JetStream, and coordinators record
// their results in the PostgreSQL history.
//
//	coordinator (serve + cluster:)          workers (leakwatch worker --site S)
//	  monitor plans a sweep in chunks  ──►  <P>_WORK  (work queue, file storage,
//	  (monitor.Remote = *Coordinator)        one durable consumer per site)
//	                                         │ scan.Run over the chunk, InProgress
//	                                         ▼ while it probes, then publish + ack
//	  Ingest: results → cluster_results ◄── <P>_RESULTS (work queue, file storage)
//	  (one row per work item, first wins)
//	  RunChunk merges the sites' rows → monitor records observations
//	  (store.RecordObservation: lifecycle + alert outbox, one transaction)
//
// Delivery is at least once; results are idempotent twice over: the first
// result of a work item (one chunk at one site) is frozen in the
// cluster_results row keyed by the item (later attempts' results are
// ignored), and observations are keyed by (scan run, finding) in the
// store, so replaying a chunk after any crash records nothing twice —
// no observation, lifecycle event or alert. A result larger than the
// server's max_payload travels in parts (parts.go); the coordinator keeps
// them by (item, attempt, part) and stores the item's result when one
// attempt's parts are all there.
//
// A work item delivered more than MaxDeliver times (its workers died on
// it, or it failed each time) is parked: its error goes to <P>_PARKED and,
// as a parked result, to the coordinator, which then treats the chunk as
// not seen from that site. One coordinator is active at a time: it holds
// a PostgreSQL advisory lock (Lease); the others wait for it.
package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/scope"
)

// Names are the JetStream names derived from the stream prefix
// (config.Cluster.Stream).
type Names struct{ Prefix string }

// WorkStream holds work items, subject <P>.work.<site>.
func (n Names) WorkStream() string { return n.Prefix + "_WORK" }

// ResultStream holds results, subject <P>.result.<site>.
func (n Names) ResultStream() string { return n.Prefix + "_RESULTS" }

// ParkedStream keeps parked work items with their error.
func (n Names) ParkedStream() string { return n.Prefix + "_PARKED" }

// WorkersBucket is the KV bucket of worker heartbeats.
func (n Names) WorkersBucket() string { return n.Prefix + "_WORKERS" }

// WorkSubject is the subject of a site's work items.
func (n Names) WorkSubject(site string) string { return n.Prefix + ".work." + site }

// ResultSubject is the subject of a site's results.
func (n Names) ResultSubject(site string) string { return n.Prefix + ".result." + site }

// ParkedSubject is the subject of a site's parked items.
func (n Names) ParkedSubject(site string) string { return n.Prefix + ".parked." + site }

// SiteConsumer is the durable consumer shared by a site's workers.
func (n Names) SiteConsumer(site string) string { return "site-" + strings.ReplaceAll(site, ".", "_") }

// ResultConsumer is the durable consumer of the active coordinator.
const ResultConsumer = "coordinator"

// heartbeatTTL is how long a worker stays listed after its last heartbeat.
const heartbeatTTL = 15 * time.Second

// Setup creates (or updates) the streams and the workers bucket. Every
// coordinator and worker calls it at start; it is idempotent.
func Setup(ctx context.Context, js jetstream.JetStream, n Names) error {
	streams := []jetstream.StreamConfig{
		{Name: n.WorkStream(), Subjects: []string{n.Prefix + ".work.>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute, Discard: jetstream.DiscardOld},
		{Name: n.ResultStream(), Subjects: []string{n.Prefix + ".result.>"}, Retention: jetstream.WorkQueuePolicy,
			Storage: jetstream.FileStorage, Duplicates: 2 * time.Minute},
		{Name: n.ParkedStream(), Subjects: []string{n.Prefix + ".parked.>"}, Retention: jetstream.LimitsPolicy,
			Storage: jetstream.FileStorage, MaxAge: 7 * 24 * time.Hour, MaxMsgs: 10000},
	}
	for _, sc := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("cluster: stream %s: %w", sc.Name, err)
		}
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: n.WorkersBucket(), TTL: heartbeatTTL, Storage: jetstream.MemoryStorage, History: 1,
	}); err != nil {
		return fmt.Errorf("cluster: bucket %s: %w", n.WorkersBucket(), err)
	}
	return nil
}

// SiteConsumer creates (or updates) the durable consumer of a site's work
// items: explicit acks, ackWait before a silent worker's item is
// redelivered, no JetStream delivery cap (parking is done by the workers,
// which see the delivery count, so that an item that kills its workers is
// parked too).
func SiteConsumer(ctx context.Context, js jetstream.JetStream, n Names, site string, ackWait time.Duration) (jetstream.Consumer, error) {
	c, err := js.CreateOrUpdateConsumer(ctx, n.WorkStream(), jetstream.ConsumerConfig{
		Durable: n.SiteConsumer(site), FilterSubject: n.WorkSubject(site),
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: -1,
		MaxAckPending: 4096, DeliverPolicy: jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: consumer for site %s: %w", site, err)
	}
	return c, nil
}

// Item is one work item: a chunk of a scope's endpoints for one site.
type Item struct {
	// ID is RunID/Start/Site; it names the result too.
	ID    string `json:"id"`
	RunID string `json:"run_id"`
	Scope string `json:"scope"`
	Site  string `json:"site"`
	// Start is the chunk's first endpoint's index in scope order.
	Start     int64             `json:"start"`
	Spec      monitor.ScopeSpec `json:"spec"`
	Endpoints []scope.Endpoint  `json:"endpoints"`
	// MaxDeliver: deliveries before the item is parked.
	MaxDeliver int       `json:"max_deliver"`
	Published  time.Time `json:"published"`
}

// ItemID is the id of a chunk's work item for a site.
func ItemID(runID string, start int64, site string) string {
	return fmt.Sprintf("%s/%d/%s", runID, start, site)
}

// Result is what a worker reports for a work item.
type Result struct {
	ItemID string `json:"item_id"`
	RunID  string `json:"run_id"`
	Site   string `json:"site"`
	Worker string `json:"worker"`
	// Attempt is the delivery that produced the result (1: first).
	Attempt int `json:"attempt"`
	// Checks: one per open endpoint (from this site).
	Checks []monitor.Check `json:"checks"`
	// Swept endpoints, and how long the chunk took.
	Swept int           `json:"swept"`
	Took  time.Duration `json:"took"`
	// Parked: the item failed too often; Error says why.
	Parked bool   `json:"parked,omitempty"`
	Error  string `json:"error,omitempty"`
	// Part (from 0) of Parts: a result too large for one message is sent
	// in parts (split), each with this header and a share of the checks.
	// Parts 0: the whole result in one message.
	Part  int `json:"part,omitempty"`
	Parts int `json:"parts,omitempty"`
}

// maxMessage is the largest message published when the server's
// max_payload is not known (below nats-server's default of 1 MiB).
const maxMessage = 1000 * 1024

// ErrTooLarge: a message does not fit into one message even compressed.
var ErrTooLarge = errors.New("cluster: too large for one message")

// encode is gzip'd JSON (findings compress well), at most maxMessage.
func encode(v any) ([]byte, error) { return encodeLimit(v, maxMessage) }

// encodeLimit is gzip'd JSON of at most limit bytes.
func encodeLimit(v any, limit int) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if b.Len() > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, b.Len())
	}
	return b.Bytes(), nil
}

// maxDecoded bounds what a message may expand to.
const maxDecoded = 64 << 20

func decode(data []byte, v any) error { return decodeLimit(data, v, maxDecoded) }

// maxAssembled bounds a stored result assembled from parts, as JSON:
// the coordinator reads it back with this limit, so it never stores an
// assembled result larger (storePart refuses such a part set), and the
// parts of one set are decoded within a quarter of it in all (parts are
// written by anyone who may publish results: without a shared bound,
// maxParts parts each expanding to maxDecoded would be held at once).
// A variable for tests.
var maxAssembled int64 = 1 << 30

// errOverBudget: decoding or encoding needed more than its budget.
var errOverBudget = errors.New("cluster: assembled result over its size bound")

// decodeBudget decodes data into v reading at most *budget bytes of JSON
// and takes what it read from *budget (errOverBudget if more was needed).
func decodeBudget(data []byte, v any, budget *int64) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cluster: decode: %w", err)
	}
	lr := &io.LimitedReader{R: zr, N: *budget + 1}
	err = json.NewDecoder(lr).Decode(v)
	used := *budget + 1 - lr.N
	if used > *budget {
		return errOverBudget
	}
	*budget -= used
	if err != nil {
		return fmt.Errorf("cluster: decode: %w", err)
	}
	return nil
}

// encodeCapped is gzip'd JSON of v whose JSON is at most limit bytes
// (errOverBudget if larger).
func encodeCapped(v any, limit int64) ([]byte, error) {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if err := json.NewEncoder(&capWriter{w: zw, n: limit}).Encode(v); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// capWriter passes at most n bytes to w.
type capWriter struct {
	w io.Writer
	n int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > c.n {
		return 0, errOverBudget
	}
	c.n -= int64(len(p))
	return c.w.Write(p)
}

func decodeLimit(data []byte, v any, limit int64) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("cluster: decode: %w", err)
	}
	if err := json.NewDecoder(io.LimitReader(zr, limit)).Decode(v); err != nil {
		return fmt.Errorf("cluster: decode: %w", err)
	}
	return nil
}
