// Package chroma probes Chroma vector databases over their HTTP API (v2:
// Chroma 0.6 and 1.x). It identifies the server by two answers — the
// heartbeat ({"nanosecond heartbeat": n}) and a version string — never by
// the port; a server that only speaks the retired v1 API (0.5 and older)
// is identified the same way on /api/v1 and reported without reading
// further. It decides open or protected by GET /api/v2/auth/identity and
// the database list (Chroma's token or basic authentication answers 401 or
// 403), lists the tenant's databases and their collections, counts each
// collection's records (GET …/count) and samples the largest with a
// bounded POST …/get that asks for documents and metadata only: the
// embeddings are counted, never read. Chroma's get and count are reads; no
// request changes anything.
package chroma

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the Chroma prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a Chroma prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "chroma" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober (8000 is Chroma's default).
func (*Prober) DefaultPorts() []int { return []int{8000} }

// defaultTenant is where a caller whose identity names no single tenant
// (the "*" of an admin token) is looked for: tenants cannot be listed.
const defaultTenant = "default_tenant"

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, hb, err := probe.DetectHTTP(ctx, env, "/api/v2/heartbeat")
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("chroma: heartbeat: %w", err)
		}
		return nil, probe.NotThisService("chroma: heartbeat: %v", err)
	}
	defer h.Close()
	c := &client{h: h, env: env, api: "/api/v2"}
	if hb.StatusCode != http.StatusOK {
		// 0.5 and older: v1 only.
		if hb, err = c.get(ctx, "/api/v1/heartbeat"); err != nil {
			return nil, probe.NotThisService("chroma: v1 heartbeat: %v", err)
		}
		c.api = "/api/v1"
	}
	if hb.StatusCode != http.StatusOK || !parseHeartbeat(hb.Body) {
		return nil, probe.NotThisService("chroma: no heartbeat (status %d)", hb.StatusCode)
	}
	vr, err := c.get(ctx, c.api+"/version")
	if err != nil {
		return nil, probe.NotThisService("chroma: version: %v", err)
	}
	version, ok := parseVersion(vr.Body)
	if vr.StatusCode != http.StatusOK || !ok {
		return nil, probe.NotThisService("chroma: no version (status %d)", vr.StatusCode)
	}
	res := &probe.Result{Product: "chroma", Version: version, Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.TLS = h.Scheme() == "https"
	res.AddEvidence("api", c.api)
	if c.api == "/api/v1" {
		res.AddErrorf("chroma: a v1-only server (0.5 or older): not read")
		return res, nil
	}
	dbs, ok := c.access(ctx, res)
	if !ok {
		return res, nil
	}
	env.Provisional(res) // identified and exposed: reported even if a limit stops the rest
	c.collections(ctx, res, dbs)
	return res, nil
}

// client reads one identified server's API.
type client struct {
	h      *probe.HTTP
	env    *probe.Env
	api    string
	tenant string
	colls  []listed
}

// listed is one listed collection of a database.
type listed struct {
	db   string
	coll collection
}

func (c *client) get(ctx context.Context, path string) (*probe.HTTPResponse, error) {
	return c.h.Do(ctx, http.MethodGet, path, nil, "", c.env.Budget.MaxResponseBytes)
}

// refused is an authentication or authorization refusal.
func refused(code int) bool { return code == http.StatusUnauthorized || code == http.StatusForbidden }

// protect makes res protected with the refusal's error as evidence.
func protect(res *probe.Result, resp *probe.HTTPResponse) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	if e, ok := parseError(resp.Body); ok {
		res.AddEvidence("auth_error", e.Error+": "+e.Message)
	}
	res.AddEvidence("http_status", resp.StatusCode)
}

// access decides open or protected: the identity (refused: protected)
// names the tenant, and its database list answering is the second signal
// that makes the server exposed.
func (c *client) access(ctx context.Context, res *probe.Result) ([]string, bool) {
	c.tenant = defaultTenant
	resp, err := c.get(ctx, c.api+"/auth/identity")
	if err != nil {
		res.AddErrorf("chroma: identity: %v", err)
		return nil, false
	}
	if refused(resp.StatusCode) {
		protect(res, resp)
		return nil, false
	}
	if id, ok := parseIdentity(resp.Body); ok && resp.StatusCode == http.StatusOK && id.Tenant != "*" && len(id.Tenant) <= 64 {
		c.tenant = id.Tenant
	}
	res.AddEvidence("tenant", c.tenant)
	max := c.env.Budget.MaxListed
	resp, err = c.get(ctx, c.api+"/tenants/"+url.PathEscape(c.tenant)+"/databases?limit="+strconv.Itoa(max+1))
	if err != nil {
		res.AddErrorf("chroma: databases: %v", err)
		return nil, false
	}
	if refused(resp.StatusCode) {
		protect(res, resp)
		return nil, false
	}
	if resp.StatusCode != http.StatusOK {
		res.AddErrorf("chroma: databases: status %d", resp.StatusCode)
		return nil, false
	}
	dbs, cut, err := parseDatabases(resp.Body, max)
	if err != nil {
		res.AddErrorf("chroma: databases: %v", err)
		return nil, false
	}
	if cut || resp.Truncated {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	res.AddEvidence("databases", len(dbs))
	return dbs, true
}

// dbPath is the path of a database's collections.
func (c *client) dbPath(db string) string {
	return c.api + "/tenants/" + url.PathEscape(c.tenant) + "/databases/" + url.PathEscape(db) + "/collections"
}

// collections lists every database's collections (MaxListed in all),
// counts their records and samples the largest.
func (c *client) collections(ctx context.Context, res *probe.Result, dbs []string) {
	for _, db := range dbs {
		left := c.env.Budget.MaxListed - len(c.colls)
		if left <= 0 {
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		if ctx.Err() != nil {
			res.AddErrorf("chroma: collections: %v", ctx.Err())
			break
		}
		resp, err := c.get(ctx, c.dbPath(db)+"?limit="+strconv.Itoa(left+1))
		if err != nil {
			res.AddErrorf("chroma: collections of %s: %v", db, err)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			res.AddErrorf("chroma: collections of %s: status %d", db, resp.StatusCode)
			continue
		}
		cs, cut, err := parseCollections(resp.Body, left)
		if err != nil {
			res.AddErrorf("chroma: collections of %s: %v", db, err)
			continue
		}
		if cut || resp.Truncated {
			res.AddFlag(probe.FlagDatasetsTruncated)
		}
		for _, coll := range cs {
			c.colls = append(c.colls, listed{db: db, coll: coll})
		}
	}
	for _, l := range c.colls {
		ds := probe.Dataset{Dataset: finding.Dataset{Name: l.db + "/" + l.coll.Name, Kind: "collection"}}
		if ctx.Err() == nil {
			n, err := c.count(ctx, l)
			if err != nil {
				res.AddErrorf("chroma: count %s: %v", ds.Name, err)
			} else {
				ds.Records = &n
			}
		}
		ds.Fields = fields(l.coll, nil)
		res.Datasets = append(res.Datasets, ds)
	}
	var dims []int64
	for _, l := range c.colls {
		if l.coll.Dimension != nil {
			dims = append(dims, *l.coll.Dimension)
		}
	}
	if len(dims) > 0 {
		res.AddEvidence("embedding_dimensions", dims[:min(len(dims), 20)])
	}
	if c.env.Budget.SampleRecords <= 0 {
		return
	}
	_ = probe.SampleLargest(ctx, res, c.env.Budget, res.Datasets, func(ctx context.Context, i int, ds *probe.Dataset) error {
		if ds.Records != nil && *ds.Records == 0 {
			return probe.ErrNotSampled
		}
		return c.sample(ctx, c.colls[i], ds)
	})
}

// count reads a collection's record count (one embedding each).
func (c *client) count(ctx context.Context, l listed) (int64, error) {
	resp, err := c.get(ctx, c.dbPath(l.db)+"/"+url.PathEscape(l.coll.ID)+"/count")
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %d", resp.StatusCode)
	}
	n, ok := parseCount(resp.Body)
	if !ok {
		return 0, fmt.Errorf("not a count")
	}
	return n, nil
}

// maxHalvings bounds the retries of a get whose answer did not fit the
// sample budget: each asks for half as many records.
const maxHalvings = 8

// sample gets up to SampleRecords records (documents and metadata, never
// embeddings) within SampleBytes. The get's answer is parallel arrays that
// a cut would break apart, so an answer past the budget is asked for again
// with half as many records (flagged sample-truncated; a single record
// past it is record-too-large).
func (c *client) sample(ctx context.Context, l listed, ds *probe.Dataset) error {
	b := c.env.Budget
	limit := b.SampleRecords
	for range maxHalvings + 1 {
		body, _ := json.Marshal(map[string]any{"limit": limit, "offset": 0, "include": []string{"documents", "metadatas"}})
		resp, err := c.h.Do(ctx, http.MethodPost, c.dbPath(l.db)+"/"+url.PathEscape(l.coll.ID)+"/get", body, "application/json", b.SampleBytes)
		if err != nil {
			return fmt.Errorf("chroma: sample %s: %w", ds.Name, err)
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("chroma: sample %s: status %d", ds.Name, resp.StatusCode)
		}
		if resp.Truncated {
			ds.AddFlag(probe.FlagSampleTruncated)
			if limit == 1 {
				ds.AddFlag(probe.FlagRecordTooLarge)
				return nil
			}
			limit = max(1, limit/2)
			continue
		}
		recs, err := parseGet(resp.Body, limit)
		if err != nil {
			return fmt.Errorf("chroma: sample %s: %w", ds.Name, err)
		}
		ds.Sample, ds.Sampled = recs, len(recs)
		ds.Fields = fields(l.coll, recs)
		return nil
	}
	return nil
}
