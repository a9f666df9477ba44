// Package couchdb probes servers of the CouchDB HTTP API: Apache CouchDB,
// its vendors' builds and pouchdb-server. It identifies the server by the
// welcome of GET / (a {"couchdb":"Welcome"} or {"express-pouchdb":…}
// member, and a version or vendor) — or, where / itself demands a login,
// by a "CouchDB/x" Server header on a CouchDB-shaped refusal — never by
// the port. It asks GET /_session which roles an anonymous client has
// ("_admin": the admin party, anyone administers the server), lists
// GET /_all_dbs, reads each database's info (doc_count, sizes) and samples
// the largest with GET /{db}/_all_docs?limit=n&include_docs=true; _users
// (password hashes) and _replicator (credentials of replication
// endpoints) are sampled first and flagged when readable. Every request is
// a GET; nothing is written, no session is created.
package couchdb

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the CouchDB-API prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a CouchDB prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "couchdb" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober (6984: CouchDB over TLS).
func (*Prober) DefaultPorts() []int { return []int{5984, 6984} }

// Flags this prober sets on a result.
const (
	// FlagAdminParty: the anonymous client is a server admin (no admin
	// configured): anyone can read, write and reconfigure everything.
	FlagAdminParty = "admin-party"
	// FlagUsersReadable: the _users database's documents (password hashes
	// and salts) are readable without credentials.
	FlagUsersReadable = "users-db-readable"
	// FlagReplicatorReadable: the _replicator database's documents (remote
	// endpoints with their credentials) are readable without credentials.
	FlagReplicatorReadable = "replicator-db-readable"
)

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, root, err := probe.DetectHTTP(ctx, env, "/")
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("couchdb: GET /: %w", err)
		}
		return nil, probe.NotThisService("couchdb: GET /: %v", err)
	}
	defer h.Close()
	res, err := identify(root)
	if err != nil {
		return nil, err
	}
	res.TLS = h.Scheme() == "https"
	if res.Status == finding.StatusProtected {
		env.Provisional(res)
		return res, nil
	}
	c := &client{h: h, env: env}
	c.session(ctx, res)
	names, ok := c.listDBs(ctx, res)
	if !ok {
		return res, nil
	}
	c.readInfos(ctx, res, names)
	if res.Status != finding.StatusExposed {
		return res, nil
	}
	env.Provisional(res) // identified and exposed: reported even if a limit stops the rest
	c.sample(ctx, res)
	return res, nil
}

// identify reads GET /'s answer: a welcome (status unknown until a read
// proves more), or a CouchDB refusal (protected: the whole API demands a
// login), or another service.
func identify(root *probe.HTTPResponse) (*probe.Result, error) {
	if root.StatusCode == http.StatusUnauthorized || root.StatusCode == http.StatusForbidden {
		v := serverVersion(root.Header.Get("Server"))
		e, ok := parseError(root.Body)
		if v == "" || !ok {
			return nil, probe.NotThisService("couchdb: GET / answered %d without CouchDB's Server header and error", root.StatusCode)
		}
		res := &probe.Result{Product: "couchdb", Version: v, Status: finding.StatusProtected, Auth: finding.AuthRequired}
		res.AddEvidence("auth_error", e.Error+": "+e.Reason)
		return res, nil
	}
	if root.StatusCode != http.StatusOK {
		return nil, probe.NotThisService("couchdb: GET / answered %d", root.StatusCode)
	}
	w, ok := parseWelcome(root.Body)
	if !ok {
		return nil, probe.NotThisService("couchdb: GET / is no CouchDB welcome")
	}
	res := &probe.Result{Product: w.product, Version: w.version, Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	if w.vendor != "" {
		res.AddEvidence("vendor", w.vendor)
	}
	if w.vendorVersion != "" && w.vendorVersion != w.version {
		res.AddEvidence("vendor_version", w.vendorVersion)
	}
	if w.uuid != "" {
		res.AddEvidence("server_uuid", w.uuid)
	}
	if s := root.Header.Get("Server"); serverVersion(s) != "" {
		res.AddEvidence("server_header", s)
	}
	return res, nil
}

// client reads the API of one identified server.
type client struct {
	h   *probe.HTTP
	env *probe.Env
	dbs []*database
}

// database is one listed database.
type database struct {
	name     string
	readable bool
	info     dbInfo
}

func (d *database) system() bool { return strings.HasPrefix(d.name, "_") }

// get reads path with the metadata response cap.
func (c *client) get(ctx context.Context, path string) (*probe.HTTPResponse, error) {
	return c.h.Do(ctx, http.MethodGet, path, nil, "", c.env.Budget.MaxResponseBytes)
}

// refused tells whether code is CouchDB's "log in first" or "not for you".
func refused(code int) bool {
	return code == http.StatusUnauthorized || code == http.StatusForbidden
}

// session asks which roles an anonymous client has; "_admin" is the admin
// party: the server is exposed whatever its databases say.
func (c *client) session(ctx context.Context, res *probe.Result) {
	resp, err := c.get(ctx, "/_session")
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	roles, ok := parseSession(resp.Body)
	if !ok {
		return
	}
	if len(roles) > 20 {
		roles = roles[:20]
	}
	res.AddEvidence("anonymous_roles", roles)
	if slices.Contains(roles, "_admin") {
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		res.AddFlag(FlagAdminParty)
	}
}

// listDBs reads GET /_all_dbs. A refusal makes res protected (unless the
// admin party already proved it open); false means nothing to read.
func (c *client) listDBs(ctx context.Context, res *probe.Result) ([]string, bool) {
	max := c.env.Budget.MaxListed
	resp, err := c.get(ctx, "/_all_dbs?limit="+strconv.Itoa(max+1))
	if err != nil {
		res.AddErrorf("couchdb: _all_dbs: %v", err)
		return nil, false
	}
	if refused(resp.StatusCode) {
		if e, ok := parseError(resp.Body); ok {
			res.AddEvidence("auth_error", e.Error+": "+e.Reason)
		}
		if res.Status != finding.StatusExposed {
			res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		}
		return nil, false
	}
	if resp.StatusCode != http.StatusOK {
		res.AddErrorf("couchdb: _all_dbs: status %d", resp.StatusCode)
		return nil, false
	}
	names, invalid, cut, err := parseAllDBs(resp.Body, max)
	if err != nil {
		res.AddErrorf("couchdb: _all_dbs: %v", err)
		return nil, false
	}
	if cut || resp.Truncated {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	if invalid > 0 {
		res.AddEvidence("databases_invalid_names", invalid)
	}
	res.AddEvidence("databases", len(names))
	return names, true
}

// dbPath is the URL path of database name (a "/" in it escaped).
func dbPath(name string) string { return "/" + url.PathEscape(name) }

// readInfos reads each database's info. A user database answering makes
// res exposed (its contents are anyone's: the second signal after the
// welcome); refusals of all of them make it protected. System databases
// decide nothing: some servers show their info to anyone.
func (c *client) readInfos(ctx context.Context, res *probe.Result, names []string) {
	refusedN := 0
	for _, name := range names {
		if ctx.Err() != nil {
			res.AddErrorf("couchdb: database infos: %v", ctx.Err())
			break
		}
		d := &database{name: name}
		resp, err := c.get(ctx, dbPath(name))
		switch {
		case err != nil:
			res.AddErrorf("couchdb: database %s: %v", name, err)
		case refused(resp.StatusCode):
			refusedN++
		case resp.StatusCode == http.StatusOK:
			if info, ok := parseDBInfo(resp.Body); ok {
				d.readable, d.info = true, info
				if !d.system() {
					res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
				}
			}
		}
		c.dbs = append(c.dbs, d)
	}
	if refusedN > 0 {
		res.AddEvidence("databases_refused", refusedN)
	}
	if res.Status != finding.StatusExposed && refusedN > 0 {
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	}
}

// sample lists the readable databases (largest first) and samples them:
// _users and _replicator first, then the largest.
func (c *client) sample(ctx context.Context, res *probe.Result) {
	var read []*database
	for _, d := range c.dbs {
		if !d.readable {
			continue
		}
		read = append(read, d)
		res.Datasets = append(res.Datasets, probe.Dataset{Dataset: finding.Dataset{
			Name: d.name, Kind: "database", Records: d.info.records, Bytes: d.info.bytes}})
	}
	if c.env.Budget.SampleRecords <= 0 {
		return
	}
	order := probe.LargestFirst(res.Datasets)
	slices.SortStableFunc(order, func(a, b int) int {
		return boolRank(read[b].system()) - boolRank(read[a].system())
	})
	_ = probe.SampleInOrder(ctx, res, c.env.Budget, res.Datasets, order, func(ctx context.Context, i int, ds *probe.Dataset) error {
		return c.sampleDB(ctx, res, read[i], ds)
	})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// sampleDB reads at most SampleRecords documents of d within SampleBytes.
func (c *client) sampleDB(ctx context.Context, res *probe.Result, d *database, ds *probe.Dataset) error {
	b := c.env.Budget
	path := dbPath(d.name) + "/_all_docs?include_docs=true&limit=" + strconv.Itoa(b.SampleRecords)
	resp, err := c.h.Do(ctx, http.MethodGet, path, nil, "", b.SampleBytes)
	if err != nil {
		return fmt.Errorf("couchdb: sample %s: %w", d.name, err)
	}
	if resp.StatusCode != http.StatusOK {
		if d.system() {
			return probe.ErrNotSampled // e.g. pouchdb-server refuses these once an admin exists
		}
		return fmt.Errorf("couchdb: sample %s: status %d", d.name, resp.StatusCode)
	}
	recs, cut, err := parseRows(resp.Body, b.SampleRecords)
	if err != nil {
		return fmt.Errorf("couchdb: sample %s: %w", d.name, err)
	}
	switch d.name {
	case "_users":
		res.AddFlag(FlagUsersReadable)
	case "_replicator":
		res.AddFlag(FlagReplicatorReadable)
	}
	if cut || resp.Truncated {
		ds.AddFlag(probe.FlagSampleTruncated)
		if len(recs) == 0 {
			ds.AddFlag(probe.FlagRecordTooLarge)
		}
	}
	ds.Sample, ds.Sampled = recs, len(recs)
	return nil
}
