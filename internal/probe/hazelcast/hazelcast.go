// Package hazelcast probes Hazelcast members (4.x and 5.x) over the Open
// Binary Client Protocol on the member port: it authenticates as a client
// with Hazelcast's default cluster name "dev" and no credentials, lists
// the distributed objects, counts each map (Map.Size) and reads a bounded
// sample of the largest maps with Map.FetchEntries, one partition at a
// time and at most a batch of the sample size — no query, no listener, no
// near cache, no write. A member that rejects the authentication (another
// cluster name, or Enterprise security) is protected.
package hazelcast

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the Hazelcast prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "hazelcast" }

// DefaultPorts implements probe.Prober: the member port and the next two
// a member takes when auto-increment finds 5701 in use.
func (*Prober) DefaultPorts() []int { return []int{5701, 5702, 5703} }

// defaultCluster is the cluster name of a member nobody configured; an
// open-source member's only gate is this name (security is Enterprise).
const defaultCluster = "dev"

const mapService = "hz:impl:mapService"

// Limits of the prober's own.
const (
	// maxPartitions bounds the partitions one map's sample visits.
	maxPartitions = 4096
	// window is how many FetchEntries requests are in flight at once.
	window = 16
	// authBytes bounds the authentication answer (a member list and
	// partition table of a large cluster fit).
	authBytes = 1 << 20
)

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	nc, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	c := &conn{c: nc, br: newReader(nc), max: int(min(env.Budget.MaxResponseBytes, 64<<20))}
	var id [16]byte
	_, _ = rand.Read(id[:]) // a fresh client UUID per probe
	hello := append([]byte("CP2"), authRequest(c.next(), id, defaultCluster, "GOO", "5.0.0", "leakwatch")...)
	if _, err := nc.Write(hello); err != nil {
		return nil, probe.NotThisService("hazelcast: write hello: %v", err)
	}
	m, err := readMessage(c.br, authBytes)
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("hazelcast: authentication: %w", err)
		}
		return nil, probe.NotThisService("hazelcast: no client protocol answer: %v", err)
	}
	if m.correlation() != c.corr {
		return nil, probe.NotThisService("hazelcast: answer to another request (%d)", m.correlation())
	}
	res := &probe.Result{Product: "hazelcast", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.AddEvidence("cluster_name_tried", defaultCluster)
	if m.msgType() == msgError {
		// A framed error answering our request: a member that failed the
		// authentication itself.
		res.AddErrorf("hazelcast: authentication: server error %s", parseError(m))
		return res, nil
	}
	a, err := parseAuth(m)
	if err != nil {
		return nil, probe.NotThisService("%v", err)
	}
	res.Version = a.Version
	if a.ClusterID != "" {
		res.AddEvidence("cluster_id", a.ClusterID)
	}
	if a.PartitionCount > 0 {
		res.AddEvidence("partition_count", a.PartitionCount)
	}
	switch a.Status {
	case authOK:
	case authCredentialsFailed, authNotAllowed:
		// Another cluster name, or credentials (Enterprise security): the
		// member answered in its own protocol and refused the client.
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("auth_status", authStatusName(a.Status))
		return res, nil
	default:
		res.AddEvidence("auth_status", authStatusName(a.Status))
		res.AddErrorf("hazelcast: authentication status %d", a.Status)
		return res, nil
	}
	// Second signal: the object list answers in the member's protocol.
	objs, cut, err := c.objects(ctx, env.Budget.MaxListed*4)
	if err != nil {
		res.AddErrorf("hazelcast: list objects: %v", err)
		return res, nil
	}
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	p.measure(ctx, env, c, res, objs, cut, a.PartitionCount)
	return res, nil
}

func authStatusName(s byte) string {
	switch s {
	case authOK:
		return "authenticated"
	case authCredentialsFailed:
		return "credentials-failed"
	case authSerializationError:
		return "serialization-version-mismatch"
	case authNotAllowed:
		return "not-allowed-in-cluster"
	}
	return fmt.Sprintf("status-%d", s)
}

// measure lists the maps with their sizes and samples the largest.
func (p *Prober) measure(ctx context.Context, env *probe.Env, c *conn, res *probe.Result, objs []distObject, cut bool, partitions int32) {
	others := map[string]int{}
	var maps []string
	for _, o := range objs {
		if o.Service == mapService {
			maps = append(maps, o.Name)
		} else {
			others[o.Service]++
		}
	}
	if len(others) > 0 {
		res.AddEvidence("other_objects", others)
	}
	res.AddEvidence("maps", len(maps))
	if cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	for _, name := range maps {
		if len(res.Datasets) >= env.Budget.MaxListed {
			res.AddFlag(probe.FlagDatasetsTruncated)
			res.AddEvidence("maps_listed_limit", env.Budget.MaxListed)
			break
		}
		ds := probe.Dataset{Dataset: finding.Dataset{Name: name, Kind: "map"}}
		n, err := c.mapSize(ctx, name)
		if err != nil {
			res.AddErrorf("hazelcast: size of %s: %v", name, err)
			if isConnErr(err) {
				return
			}
		} else if n >= 0 {
			v := int64(n)
			ds.Records = &v
		}
		res.Datasets = append(res.Datasets, ds)
	}
	if partitions <= 0 {
		partitions = 271 // Hazelcast's default partition count
	}
	_ = probe.SampleLargest(ctx, res, env.Budget, res.Datasets, func(ctx context.Context, _ int, ds *probe.Dataset) error {
		if ds.Records != nil && *ds.Records == 0 {
			return probe.ErrNotSampled
		}
		// A failed sample may leave answers of its window unread: the
		// connection is not used again.
		return probe.StopSampling(c.sample(ctx, env, ds, min(partitions, maxPartitions)))
	})
}

// isConnErr tells an error that leaves the connection unusable.
func isConnErr(err error) bool {
	var ne net.Error
	return err != nil && (errors.As(err, &ne) || errors.Is(err, errMalformed) || errors.Is(err, probe.ErrBudget) || errors.Is(err, context.DeadlineExceeded))
}

// conn is one client connection; requests carry increasing correlation ids.
type conn struct {
	c    net.Conn
	br   *bufio.Reader
	corr int64
	max  int
}

func (c *conn) next() int64 {
	c.corr++
	return c.corr
}

// call sends one request and reads its answer (skipping event messages,
// which the prober never asks for, and stale answers).
func (c *conn) call(req []byte, corr int64, max int) (*message, error) {
	if _, err := c.c.Write(req); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	for range 16 {
		m, err := readMessage(c.br, max)
		if err != nil {
			return nil, err
		}
		if m.correlation() != corr {
			continue
		}
		if m.msgType() == msgError {
			return nil, fmt.Errorf("server error %s", parseError(m))
		}
		return m, nil
	}
	return nil, fmt.Errorf("%w: no answer to request %d", errMalformed, corr)
}

func (c *conn) objects(_ context.Context, max int) ([]distObject, bool, error) {
	corr := c.next()
	m, err := c.call(distributedObjectsRequest(corr), corr, c.max)
	if err != nil {
		return nil, false, err
	}
	return parseDistributedObjects(m, max)
}

func (c *conn) mapSize(_ context.Context, name string) (int32, error) {
	corr := c.next()
	m, err := c.call(mapSizeRequest(corr, name), corr, 64<<10)
	if err != nil {
		return 0, err
	}
	return parseMapSize(m)
}

// sample reads up to SampleRecords entries of map ds.Name, partition by
// partition (window requests in flight), each record within SampleBytes.
// It stops when the sample is full, when it has seen the map's size, or
// after partitions partitions.
func (c *conn) sample(ctx context.Context, env *probe.Env, ds *probe.Dataset, partitions int32) error {
	want := env.Budget.SampleRecords
	if want <= 0 {
		return nil
	}
	var size int64
	seen := int64(0)
	var recs []classify.Record
	unreadable := 0
	limit := int(min(env.Budget.SampleBytes*2+(64<<10), int64(c.max)))
	for p := int32(0); p < partitions && len(recs) < want && size <= env.Budget.SampleBytes; p += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		if ds.Records != nil && seen >= *ds.Records {
			break
		}
		batch := int32(want - len(recs))
		first := c.corr + 1
		var out []byte
		n := min(window, partitions-p)
		for i := range n {
			out = append(out, fetchEntriesRequest(c.next(), p+i, ds.Name, batch)...)
		}
		if _, err := c.c.Write(out); err != nil {
			return fmt.Errorf("hazelcast: sample %s: write: %w", ds.Name, err)
		}
		for range n {
			m, err := readMessage(c.br, limit)
			if err != nil {
				if errors.Is(err, errMalformed) && len(recs) == 0 && size == 0 {
					ds.AddFlag(probe.FlagRecordTooLarge)
					ds.AddFlag(probe.FlagSampleTruncated)
				}
				return fmt.Errorf("hazelcast: sample %s: %w", ds.Name, err)
			}
			if m.correlation() < first || m.correlation() > c.corr {
				return fmt.Errorf("hazelcast: sample %s: %w: unexpected answer %d", ds.Name, errMalformed, m.correlation())
			}
			if m.msgType() == msgError {
				return fmt.Errorf("hazelcast: sample %s: server error %s", ds.Name, parseError(m))
			}
			entries, err := parseFetchEntries(m)
			if err != nil {
				return fmt.Errorf("hazelcast: sample %s: %w", ds.Name, err)
			}
			seen += int64(len(entries))
			for _, e := range entries {
				if len(recs) >= want || size > env.Budget.SampleBytes {
					break
				}
				r, ok := record(e)
				if !ok {
					unreadable++
					continue
				}
				recs = ds.AppendWithin(recs, []classify.Record{r}, &size, env.Budget.SampleBytes)
			}
		}
	}
	if unreadable > 0 {
		ds.AddFlag("values-not-decoded")
	}
	ds.Sample = recs
	ds.Sampled = len(recs)
	return nil
}

// record makes a classifier record of one entry: the value (a JSON value
// flattened, other text as one value under "value") and the raw key under
// "_key". ok is false when neither key nor value could be decoded.
func record(e entry) (classify.Record, bool) {
	key, _, kok := decodeData(e.Key)
	val, _, vok := decodeData(e.Value)
	switch {
	case vok && kok:
		return probe.KeyRecord("_key", key, "value", val), true
	case vok:
		return probe.ValueRecord("value", val), true
	case kok:
		return classify.FromText("_key", key), true
	}
	return classify.Record{}, false
}
