// Package mongodb probes MongoDB and MongoDB-wire servers (FerretDB,
// DocumentDB-likes) over the wire protocol.
//
// The wire protocol is spoken by hand (framing in wire.go, BSON through the
// official driver's bson package) rather than through the driver's client:
// one connection through the engine's bounded dialer, no background
// monitoring goroutines or connection pools, a size cap checked on every
// message header before its body is read, and servers older than the
// driver's minimum (pre-4.0, which are the ones typically left open) are
// still identified, listed and sampled through OP_QUERY.
//
// Identification: an OP_QUERY isMaster answered with a BSON document that
// carries maxWireVersion or ismaster. Auth: exposed only when listDatabases
// returns a non-empty list AND a read on a collection (collStats or count)
// succeeds; an Unauthorized (13) answer means protected. Records come from
// collStats (count, size), falling back to count; the sample is one
// single-batch find (limit n, batchSize n, maxTimeMS) whose answer may not
// exceed the dataset's sample byte budget.
package mongodb

import (
	"bytes"
	"context"
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes MongoDB wire servers.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a MongoDB prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "mongodb" }

// Hint implements probe.Hinter: mongod answers an HTTP request on its
// driver port with a plain-text note saying so; other wire-protocol servers
// (FerretDB) read "HEAD" as a message length and wait, or hang up.
func (*Prober) Hint(reply []byte) bool {
	return len(reply) == 0 || bytes.Contains(reply, []byte("MongoDB over HTTP"))
}

// DefaultPorts implements probe.Prober: mongod, shard and config servers.
func (*Prober) DefaultPorts() []int { return []int{27017, 27018, 27019} }

// handshakeLimit bounds the isMaster answer (real ones are < 2 KiB).
const handshakeLimit = 256 << 10

// sampleOverhead is what a find answer may carry beyond the documents.
const sampleOverhead = 64 << 10

// collection is one listed collection.
type collection struct {
	db, name string
}

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	s := &session{env: env}
	defer s.close()
	hello, err := s.handshake(ctx, min(handshakeLimit, env.Budget.MaxResponseBytes))
	if err != nil {
		var ce *CommandError
		switch {
		case errors.As(err, &ce) && hello != nil && isMongoHello(hello):
			// A MongoDB answer refusing isMaster: identified, nothing more.
		case probe.IsTimeout(err) || ctx.Err() != nil || errors.Is(err, probe.ErrOutOfScope):
			return nil, err
		default:
			return nil, probe.NotThisService("mongodb: no isMaster answer: %v", err)
		}
	}
	if !isMongoHello(hello) {
		return nil, probe.NotThisService("mongodb: isMaster answer without wire version")
	}
	res := &probe.Result{Product: "mongodb", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	env.Provisional(res) // identified: reported even if a limit stops the rest
	maxWire := describeHello(res, hello)
	s.opMsg = maxWire >= 6
	p.buildInfo(ctx, s, res)
	p.measure(ctx, s, res)
	if res.Status == finding.StatusExposed {
		readAccess(ctx, s, res)
	}
	return res, nil
}

// isMongoHello tells whether doc is an isMaster/hello answer.
func isMongoHello(doc bson.Raw) bool {
	if doc == nil {
		return false
	}
	if _, ok := int64Of(doc, "maxWireVersion"); ok {
		return true
	}
	if _, ok := boolOf(doc, "ismaster"); ok {
		return true
	}
	_, ok := boolOf(doc, "isWritablePrimary")
	return ok
}

// describeHello records the handshake facts and returns maxWireVersion.
func describeHello(res *probe.Result, hello bson.Raw) int64 {
	maxWire, _ := int64Of(hello, "maxWireVersion")
	minWire, _ := int64Of(hello, "minWireVersion")
	res.AddEvidence("max_wire_version", maxWire)
	res.AddEvidence("min_wire_version", minWire)
	if b, ok := boolOf(hello, "ismaster"); ok {
		res.AddEvidence("is_primary", b)
	}
	if b, ok := boolOf(hello, "readOnly"); ok {
		res.AddEvidence("read_only", b)
	}
	if v := stringOf(hello, "setName"); v != "" {
		res.AddEvidence("replica_set", v)
	}
	if stringOf(hello, "msg") == "isdbgrid" {
		res.AddEvidence("role", "mongos")
	}
	return maxWire
}

// buildInfo fills product and version; servers answer it without auth.
func (p *Prober) buildInfo(ctx context.Context, s *session, res *probe.Result) {
	doc, err := s.command(ctx, "admin", bson.D{{Key: "buildInfo", Value: 1}}, min(handshakeLimit, s.env.Budget.MaxResponseBytes))
	if err != nil {
		res.AddEvidence("build_info_error", err.Error())
		return
	}
	res.Version = stringOf(doc, "version")
	if fv := stringOf(doc, "ferretdbVersion"); fv != "" {
		// FerretDB reports the MongoDB version it is compatible with.
		res.Product = "ferretdb"
		res.AddEvidence("mongodb_compatible_version", res.Version)
		res.Version = strings.TrimPrefix(fv, "v")
	}
	if gv := stringOf(doc, "gitVersion"); gv != "" && gv != "unknown" {
		res.AddEvidence("git_version", gv)
	}
}

// measure lists databases and collections, decides the status and samples.
func (p *Prober) measure(ctx context.Context, s *session, res *probe.Result) {
	b := s.env.Budget
	dbs, dbsCut, err := listDatabases(ctx, s, b.MaxResponseBytes)
	if err != nil {
		if isAuthError(err) {
			protect(res, err)
			return
		}
		res.AddErrorf("mongodb: listDatabases: %v", err)
		return
	}
	res.AddEvidence("databases_listed", len(dbs))
	if len(dbs) == 0 {
		// An empty list is what some servers under auth answer.
		if _, err := s.command(ctx, "admin", bson.D{{Key: "count", Value: "system.version"}}, handshakeLimit); isAuthError(err) {
			protect(res, err)
		}
		return
	}
	colls, collsCut, listErr := listCollections(ctx, s, dbs, b.MaxListed, b.MaxResponseBytes)
	if dbsCut || collsCut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	var authErr error
	if isAuthError(listErr) {
		authErr = listErr
	} else if listErr != nil {
		res.AddEvidence("list_collections_error", listErr.Error())
	}
	var datasets []probe.Dataset
	for _, c := range colls {
		if ctx.Err() != nil {
			break
		}
		d, err := stats(ctx, s, c, b)
		if err != nil {
			if isAuthError(err) {
				authErr = err
			}
			continue
		}
		datasets = append(datasets, d)
	}
	switch {
	case len(datasets) > 0:
		// Two signals: a non-empty database list and a collection read.
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		res.Datasets = datasets
		p.sampleAll(ctx, s, res)
	case authErr != nil:
		protect(res, authErr)
		res.AddFlag("database-names-listable")
	default:
		res.AddEvidence("collections_read", 0)
	}
}

// protect marks res as protected by authentication.
func protect(res *probe.Result, err error) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	res.Datasets = nil
	var ce *CommandError
	if errors.As(err, &ce) {
		res.AddEvidence("auth_error_code", ce.Code)
		if ce.CodeName != "" {
			res.AddEvidence("auth_error", ce.CodeName)
		}
	}
}

type database struct {
	name string
	size int64
}

// listDatabases returns the databases with their size on disk.
// An answer past limit keeps the databases read before the cut (cut).
func listDatabases(ctx context.Context, s *session, limit int64) (out []database, cut bool, err error) {
	doc, cut, err := s.commandCut(ctx, "admin", bson.D{{Key: "listDatabases", Value: 1}}, limit)
	if err != nil {
		return nil, false, err
	}
	var docs []bson.Raw
	if cut {
		docs = cutList(doc, "databases")
	} else {
		arr, ok := bson.Raw(doc).Lookup("databases").ArrayOK()
		if !ok {
			return nil, false, errors.New("no databases array")
		}
		vals, err := arr.Values()
		if err != nil {
			return nil, false, err
		}
		for _, v := range vals {
			if d, ok := v.DocumentOK(); ok {
				docs = append(docs, d)
			}
		}
	}
	for _, d := range docs {
		name := stringOf(d, "name")
		if name == "" {
			continue
		}
		size, _ := int64Of(d, "sizeOnDisk")
		out = append(out, database{name: name, size: size})
	}
	return out, cut, nil
}

// skipDatabase tells which databases hold only server internals.
func skipDatabase(name string) bool { return name == "local" || name == "config" }

// skipCollection skips system collections except the user list (password
// hashes are what an attacker wants first).
func skipCollection(name string) bool {
	return strings.HasPrefix(name, "system.") && name != "system.users"
}

// listCollections lists at most max collections (no views) over dbs. It
// reads only the first batch of each cursor; the first error it meets is
// returned along with what was listed.
func listCollections(ctx context.Context, s *session, dbs []database, max int, limit int64) (out []collection, cut bool, firstErr error) {
	for _, db := range dbs {
		if skipDatabase(db.name) {
			continue
		}
		if len(out) >= max || ctx.Err() != nil {
			// A database left unlisted: its collections are missing.
			cut = true
			continue
		}
		doc, dbCut, err := s.commandCut(ctx, db.name, bson.D{
			{Key: "listCollections", Value: 1},
			{Key: "nameOnly", Value: true},
			{Key: "authorizedCollections", Value: true},
			{Key: "cursor", Value: bson.D{{Key: "batchSize", Value: max - len(out)}}},
		}, limit)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		batch := firstBatch(doc)
		if cur, ok := bson.Raw(doc).Lookup("cursor").DocumentOK(); ok && !dbCut {
			if id, ok := int64Of(cur, "id"); ok && id != 0 {
				// More collections than the first batch: the rest unread.
				cut = true
			}
		}
		if dbCut {
			// One database's list past the cap: its first entries.
			batch, cut = cutList(doc, "cursor", "firstBatch"), true
		}
		for _, c := range batch {
			name := stringOf(c, "name")
			if name == "" || skipCollection(name) || stringOf(c, "type") == "view" {
				continue
			}
			if len(out) >= max {
				cut = true
				continue
			}
			out = append(out, collection{db: db.name, name: name})
		}
	}
	return out, cut, firstErr
}

// firstBatch returns cursor.firstBatch of a cursor-returning command.
func firstBatch(doc bson.Raw) []bson.Raw {
	arr, ok := doc.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return nil
	}
	vals, err := arr.Values()
	if err != nil {
		return nil
	}
	out := make([]bson.Raw, 0, len(vals))
	for _, v := range vals {
		if d, ok := v.DocumentOK(); ok {
			out = append(out, d)
		}
	}
	return out
}

// stats reads a collection's document count and data size: collStats,
// or count where collStats is missing (it is deprecated since 6.2).
func stats(ctx context.Context, s *session, c collection, b probe.Budget) (probe.Dataset, error) {
	d := probe.Dataset{}
	d.Name, d.Kind = c.db+"."+c.name, "collection"
	doc, err := s.command(ctx, c.db, bson.D{{Key: "collStats", Value: c.name}}, handshakeLimit)
	if err == nil {
		if n, ok := int64Of(doc, "count"); ok {
			d.Records = &n
		}
		if sz, ok := int64Of(doc, "size"); ok {
			d.Bytes = &sz
		}
		if d.Records != nil {
			return d, nil
		}
	} else if isAuthError(err) {
		return d, err
	}
	doc, err = s.command(ctx, c.db, bson.D{
		{Key: "count", Value: c.name},
		{Key: "maxTimeMS", Value: b.IOTimeout.Milliseconds()},
	}, handshakeLimit)
	if err != nil {
		return d, err
	}
	if n, ok := int64Of(doc, "n"); ok {
		d.Records = &n
	}
	return d, nil
}

// sampleAll samples the largest datasets first, up to MaxDatasets. An empty
// collection, or one whose sample failed, takes no turn; a failed sample is
// evidence (sample_error), not the result's error.
func (p *Prober) sampleAll(ctx context.Context, s *session, res *probe.Result) {
	b := s.env.Budget
	if b.SampleRecords <= 0 {
		return
	}
	_ = probe.SampleLargest(ctx, res, b, res.Datasets, func(ctx context.Context, _ int, d *probe.Dataset) error {
		if d.Records != nil && *d.Records == 0 {
			return probe.ErrNotSampled
		}
		db, coll, _ := strings.Cut(d.Name, ".")
		docs, fewer, err := sample(ctx, s, db, coll, b)
		if fewer && err == nil {
			// Asked again for fewer documents because the answer was
			// past the byte budget: the ones left out were not read.
			d.AddFlag(probe.FlagSampleTruncated)
		}
		if errors.Is(err, errRecordTooLarge) {
			// Even one document is past the budget: say so, do not drop it silently.
			d.AddFlag(probe.FlagRecordTooLarge)
			d.AddFlag(probe.FlagSampleTruncated)
			return probe.ErrNotSampled
		}
		if err != nil {
			res.AddEvidence("sample_error", err.Error())
			return probe.ErrNotSampled
		}
		var used int64
		d.Sample = d.AppendWithin(d.Sample, toRecords(docs), &used, b.SampleBytes)
		d.Sampled = len(d.Sample)
		return nil
	})
}

// sample reads up to SampleRecords documents in one answer of at most
// SampleBytes (plus framing); when the answer would be larger it retries
// with fewer documents (fewer says so).
func sample(ctx context.Context, s *session, db, coll string, b probe.Budget) (docs []bson.Raw, fewer bool, err error) {
	limit := b.SampleBytes + sampleOverhead
	for n := b.SampleRecords; n > 0; n /= 8 {
		var docs []bson.Raw
		var err error
		if s.opMsg {
			var doc bson.Raw
			doc, err = s.command(ctx, db, bson.D{
				{Key: "find", Value: coll},
				{Key: "filter", Value: bson.D{}},
				{Key: "limit", Value: n},
				{Key: "batchSize", Value: n},
				{Key: "singleBatch", Value: true},
				{Key: "maxTimeMS", Value: b.IOTimeout.Milliseconds()},
			}, limit)
			if err == nil {
				docs = firstBatch(doc)
			}
		} else {
			docs, err = s.legacyFind(ctx, db, coll, n, limit)
		}
		if errors.Is(err, errMessageTooLarge) {
			continue
		}
		return docs, n < b.SampleRecords, err
	}
	return nil, true, errRecordTooLarge
}

// errRecordTooLarge means even a single document is past the sample budget.
var errRecordTooLarge = errors.New("sample: documents larger than the sample byte budget")
