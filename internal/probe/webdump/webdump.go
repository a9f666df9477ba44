// Package webdump finds dump and secret files that a web server hands out
// to anyone: an exposed .git directory, .env and AWS credential files, SQL
// and Redis dumps, and directory listings.
//
// It checks a fixed, short list of paths (HEAD, then a bounded GET), never
// follows redirects, and validates every body's content: a status code
// alone never makes a finding, so catch-all servers that answer 200 with
// their index page for every path stay quiet.
package webdump

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober looks for web-exposed dumps.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the web-dump prober.
func New() *Prober { return &Prober{} }

// Name is the service name in findings.
func (*Prober) Name() string { return "http-dump" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts are the usual HTTP(S) ports.
func (*Prober) DefaultPorts() []int { return []int{80, 443, 8080, 8000, 8888} }

// kind says how a path's body is validated and sampled.
type kind int

const (
	kindGitHEAD kind = iota
	kindGitConfig
	kindEnv
	kindSQL
	kindSQLGzip
	kindRDB
	kindAWS
)

// check is one path to look at and how much of it to read.
type check struct {
	path  string
	kind  kind
	limit int64
}

// checks is the fixed list of paths. Keep it short: every entry costs up
// to two requests on every HTTP port of a scan.
var checks = []check{
	{"/.git/HEAD", kindGitHEAD, 256},
	{"/.git/config", kindGitConfig, 16 << 10},
	{"/.env", kindEnv, 64 << 10},
	{"/.aws/credentials", kindAWS, 16 << 10},
	{"/backup.sql", kindSQL, 1 << 20},
	{"/dump.sql", kindSQL, 1 << 20},
	{"/db.sql", kindSQL, 1 << 20},
	{"/backup.sql.gz", kindSQLGzip, 256 << 10},
	{"/dump.rdb", kindRDB, 64},
}

// MaxRequests bounds the HTTP requests sent to one target: the root page
// (twice when HTTPS has to be tried) plus a HEAD and a GET per path.
var MaxRequests = 2 + 2*len(checks)

// gunzipLimit bounds the decompressed bytes read from a gzip dump prefix.
const gunzipLimit = 1 << 20

// run is the state of one probe.
type run struct {
	env      *probe.Env
	h        *probe.HTTP
	res      *probe.Result
	root     *probe.HTTPResponse
	requests int
	authSeen int
	unvalid  int
}

// Probe checks the fixed list of paths on env's target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, root, err := probe.DetectHTTP(ctx, env, "/")
	if err != nil {
		if probe.IsTimeout(err) || errors.Is(err, probe.ErrBudget) || ctx.Err() != nil {
			return nil, fmt.Errorf("http-dump: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()
	r := &run{env: env, h: h, root: root, requests: 1, res: &probe.Result{TLS: h.Scheme() == "https"}}
	if r.res.TLS {
		r.requests = 2 // DetectHTTP tried plain HTTP first
	}
	r.res.Product, r.res.Version = serverProduct(root.Header.Get("Server"))
	if challenged(root) {
		r.authSeen++
	}
	r.checkAutoindex()
	for _, c := range checks {
		if ctx.Err() != nil || r.requests+2 > MaxRequests {
			break
		}
		if err := r.checkPath(ctx, c); err != nil {
			r.res.AddError(err)
			if probe.IsTimeout(err) || errors.Is(err, probe.ErrBudget) {
				break
			}
		}
	}
	return r.finish()
}

// finish decides the status.
func (r *run) finish() (*probe.Result, error) {
	res := r.res
	res.AddEvidence("requests", r.requests)
	if r.unvalid > 0 {
		res.AddEvidence("unvalidated_2xx_paths", r.unvalid)
	}
	switch {
	case len(res.Datasets) > 0:
		// Two signals: a 2xx answer and a body that validates as the file.
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	case r.authSeen > 0:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	default:
		return nil, probe.NotThisService("no exposed dump paths on this HTTP server")
	}
	res.ClearErrors() // per-path failures are not reported (as before: most guessed paths fail on any web server)
	return res, nil
}

// challenged tells whether a response demands credentials.
func challenged(resp *probe.HTTPResponse) bool {
	return resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") != ""
}

// serverProduct splits "nginx/1.22.1 (Debian)" into product and version.
func serverProduct(s string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	tok := strings.Fields(s)[0]
	prod, ver, _ := strings.Cut(tok, "/")
	return strings.ToLower(prod), ver
}

// checkAutoindex looks at the already fetched root page.
func (r *run) checkAutoindex() {
	if r.root.StatusCode != http.StatusOK {
		return
	}
	names, n, ok := parseAutoindex(r.root.Body, r.env.Budget.MaxListed)
	if !ok {
		return
	}
	if r.root.Truncated {
		n = len(names)
	}
	ds := probe.Dataset{Dataset: finding.Dataset{Name: "/", Kind: "path", Flags: []string{"directory-listing"}}}
	if !r.root.Truncated {
		ds.Records = finding.Int64(int64(n))
	}
	var recs []classify.Record
	for _, name := range names {
		recs = append(recs, classify.FromText("file_name", name))
	}
	r.addDataset(ds, recs)
	r.res.AddEvidence("listing_entries", n)
}

// checkPath sends HEAD then, if the path seems to exist, a bounded GET, and
// validates the body.
func (r *run) checkPath(ctx context.Context, c check) error {
	head, err := r.h.Do(ctx, http.MethodHead, c.path, nil, "", 0)
	r.requests++
	if err != nil {
		return fmt.Errorf("http-dump: HEAD %s: %w", c.path, err)
	}
	if challenged(head) {
		r.authSeen++
		return nil
	}
	switch {
	case head.StatusCode == http.StatusMethodNotAllowed || head.StatusCode == http.StatusNotImplemented:
	case head.StatusCode < 200 || head.StatusCode > 299:
		return nil
	}
	get, err := r.h.Do(ctx, http.MethodGet, c.path, nil, "", min(c.limit, r.env.Budget.MaxResponseBytes))
	r.requests++
	if err != nil {
		return fmt.Errorf("http-dump: GET %s: %w", c.path, err)
	}
	if get.StatusCode != http.StatusOK && get.StatusCode != http.StatusPartialContent {
		return nil
	}
	if r.root.StatusCode == http.StatusOK && len(get.Body) > 0 && bytes.HasPrefix(r.root.Body, get.Body) {
		r.unvalid++ // the same page as "/": a catch-all
		return nil
	}
	ds := probe.Dataset{Dataset: finding.Dataset{Name: c.path, Kind: "path", Bytes: contentLength(head, get)}}
	if !r.validate(c, get, ds) {
		r.unvalid++
	}
	return nil
}

// contentLength is the file size the server announced, if any.
func contentLength(head, get *probe.HTTPResponse) *int64 {
	for _, resp := range []*probe.HTTPResponse{head, get} {
		if n, err := strconv.ParseInt(resp.Header.Get("Content-Length"), 10, 64); err == nil && n >= 0 {
			return finding.Int64(n)
		}
	}
	return nil
}

// validate checks a body against its kind and adds the dataset.
func (r *run) validate(c check, resp *probe.HTTPResponse, ds probe.Dataset) bool {
	maxRec := r.env.Budget.SampleRecords
	body := resp.Body
	switch c.kind {
	case kindGitHEAD:
		ref, ok := parseGitHEAD(body)
		if !ok {
			return false
		}
		ds.Flags = []string{"git-repository"}
		r.res.AddEvidence("git_head", ref)
		r.addDataset(ds, nil)
	case kindGitConfig:
		es, ok := parseGitConfig(body, max(maxRec, 1)*16)
		if !ok {
			return false
		}
		ds.Flags = []string{"git-repository"}
		r.addDataset(ds, iniRecords(es, true))
	case kindAWS:
		es, ok := parseAWSCredentials(body, max(maxRec, 1)*16)
		if !ok {
			return false
		}
		ds.Flags = []string{"secrets-file"}
		recs := iniRecords(es, false)
		if !resp.Truncated {
			ds.Records = finding.Int64(int64(len(recs)))
		}
		r.addDataset(ds, recs)
	case kindEnv:
		es, n, ok := parseEnv(body, maxRec)
		if !ok {
			return false
		}
		ds.Flags = []string{"secrets-file"}
		if !resp.Truncated {
			ds.Records = finding.Int64(int64(n))
		}
		recs := make([]classify.Record, 0, len(es))
		for _, e := range es {
			recs = append(recs, classify.FromText(e.Key, e.Value))
		}
		r.addDataset(ds, recs)
	case kindSQL:
		return r.addSQL(ds, body, resp.Truncated)
	case kindSQLGzip:
		plain, complete, ok := gunzipPrefix(body, min(gunzipLimit, r.env.Budget.SampleBytes))
		if !ok {
			return false
		}
		return r.addSQL(ds, plain, resp.Truncated || !complete)
	case kindRDB:
		ver, ok := parseRDB(body)
		if !ok {
			return false
		}
		ds.Flags = []string{"redis-dump"}
		r.res.AddEvidence("rdb_version", ver)
		r.addDataset(ds, nil)
	default:
		return false
	}
	return true
}

// addSQL parses a (prefix of a) SQL dump into rows.
func (r *run) addSQL(ds probe.Dataset, text []byte, truncated bool) bool {
	d := parseSQLDump(text, r.env.Budget.SampleRecords)
	if !d.Valid() {
		return false
	}
	ds.Flags = []string{"database-dump"}
	if !truncated {
		ds.Records = finding.Int64(int64(d.RowCount))
	}
	for _, t := range d.TableOrder {
		for _, f := range d.Tables[t] {
			ds.Fields = append(ds.Fields, finding.Field{Name: t + "." + f.Name, Type: f.Type})
		}
	}
	recs := make([]classify.Record, 0, len(d.Rows))
	for _, row := range d.Rows {
		recs = append(recs, classify.FromRow(row.Fields(""), row.Values))
	}
	r.res.AddEvidence("sql_tables:"+ds.Name, len(d.TableOrder))
	r.addDataset(ds, recs)
	return true
}

// addDataset attaches a bounded sample and appends the dataset.
func (r *run) addDataset(ds probe.Dataset, recs []classify.Record) {
	b := r.env.Budget
	if len(r.res.Datasets) < b.MaxListed {
		sampled := 0
		for _, n := range r.res.Datasets {
			if n.Sampled > 0 {
				sampled++
			}
		}
		if sampled < b.MaxDatasets {
			ds.Sample = boundSample(recs, b.SampleRecords, b.SampleBytes)
			ds.Sampled = len(ds.Sample)
		}
		r.res.Datasets = append(r.res.Datasets, ds)
		if r.res.Status != finding.StatusExposed {
			// The first validated dump decides (finish decides the same).
			r.res.Status, r.res.Auth = finding.StatusExposed, finding.AuthNone
			r.env.Provisional(r.res) // identified: reported even if a limit stops the rest
		}
	}
}

// boundSample keeps records while both budgets allow.
func boundSample(recs []classify.Record, maxRecords int, maxBytes int64) []classify.Record {
	var (
		out  []classify.Record
		size int64
	)
	for _, rec := range recs {
		if len(out) >= maxRecords || len(rec.Values) == 0 {
			continue
		}
		size += int64(rec.Size())
		if size > maxBytes {
			break
		}
		out = append(out, rec)
	}
	return out
}

// gunzipPrefix decompresses a gzip prefix, reading at most limit output
// bytes (a compression bomb costs no more than limit). complete is true
// when the whole stream was decompressed within the limit.
func gunzipPrefix(b []byte, limit int64) ([]byte, bool, bool) {
	if len(b) < 10 || b[0] != 0x1f || b[1] != 0x8b {
		return nil, false, false
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, false, false
	}
	zr.Multistream(false)
	out, truncated, err := probe.ReadLimited(zr, limit)
	complete := err == nil && !truncated
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && len(out) == 0 {
		return nil, false, false
	}
	return out, complete, true
}
