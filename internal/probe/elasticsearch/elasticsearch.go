// Package elasticsearch probes Elasticsearch and OpenSearch nodes over their
// REST API: identity from GET /, auth status, indices with document counts
// and sizes, mappings, a bounded sample of documents per index, the search
// counters, and ransom-note indices left by wiper bots. Only read-only
// requests are sent (GET, and POST _search/_count which do not change data).
package elasticsearch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the Elasticsearch/OpenSearch prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "elasticsearch" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{9200, 9201} }

// defaultCredentials are factory logins of the products: X-Pack's old
// elastic/changeme and the OpenSearch security demo's admin/admin.
var defaultCredentials = [][2]string{{"elastic", "changeme"}, {"admin", "admin"}}

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/")
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("elasticsearch: GET /: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()

	res := &probe.Result{TLS: h.Scheme() == "https"}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		if !p.challengeIsOurs(env, resp) {
			return nil, probe.NotThisService("auth challenge without search-engine markers on port %d", env.Target.Port)
		}
		if env.DefaultCredentials {
			if cred, ri, ok := p.tryDefaults(ctx, h); ok {
				res.Auth = finding.AuthDefaultCredentials
				res.AddEvidence("default_credential_user", cred)
				return p.probeOpen(ctx, env, h, ri, res)
			}
		}
		return p.protected(res, resp), nil
	default:
		return nil, probe.NotThisService("GET / answered %d", resp.StatusCode)
	}
	ri, err := parseRoot(resp.Body)
	if err != nil {
		return nil, probe.NotThisService("%v", err)
	}
	res.Auth = finding.AuthNone
	return p.probeOpen(ctx, env, h, ri, res)
}

// challengeIsOurs decides whether a 401/403 comes from a search node (or
// the proxy guarding one): the node's own security_exception or product
// header anywhere, or a plain auth challenge on a port search nodes use.
func (p *Prober) challengeIsOurs(env *probe.Env, resp *probe.HTTPResponse) bool {
	ei := parseError(resp.Body)
	if ei.Type == "security_exception" || strings.Contains(ei.Reason, "security") {
		return true
	}
	if resp.Header.Get("X-Elastic-Product") != "" || resp.Header.Get("X-Opensearch-Product") != "" {
		return true
	}
	challenge := strings.ToLower(resp.Header.Get("WWW-Authenticate"))
	if strings.Contains(challenge, `realm="security"`) || strings.Contains(challenge, "opensearch") || strings.Contains(challenge, "elastic") {
		return true
	}
	return challenge != "" && slices.Contains(p.DefaultPorts(), env.Target.Port)
}

func (p *Prober) protected(res *probe.Result, resp *probe.HTTPResponse) *probe.Result {
	res.Status = finding.StatusProtected
	res.Auth = finding.AuthRequired
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		res.AddEvidence("auth_challenge", c)
	}
	if ei := parseError(resp.Body); ei.Type != "" {
		res.AddEvidence("auth_error", ei.Type)
	}
	res.AddEvidence("http_status", resp.StatusCode)
	return res
}

func (p *Prober) tryDefaults(ctx context.Context, h *probe.HTTP) (string, *rootInfo, bool) {
	for _, c := range defaultCredentials {
		h.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(c[0]+":"+c[1]))}}
		resp, err := h.Get(ctx, "/")
		if err == nil && resp.StatusCode == http.StatusOK {
			if ri, perr := parseRoot(resp.Body); perr == nil {
				return c[0], ri, true
			}
		}
	}
	h.Header = nil
	return "", nil, false
}

// probeOpen reads identity, indices, mappings, samples and counters from a
// node that answered GET / with data.
func (p *Prober) probeOpen(ctx context.Context, env *probe.Env, h *probe.HTTP, ri *rootInfo, res *probe.Result) (*probe.Result, error) {
	res.Product = ri.product()
	res.Version = ri.Version.Number
	res.AddEvidence("cluster_name", ri.ClusterName)
	res.AddEvidence("cluster_uuid", ri.ClusterUUID)
	res.AddEvidence("node_name", ri.Name)
	if ri.Version.BuildFlavor != "" {
		res.AddEvidence("build_flavor", ri.Version.BuildFlavor)
	}

	// Second signal: the index list itself must be readable.
	cat, err := h.Get(ctx, "/_cat/indices?format=json&bytes=b&expand_wildcards=all&h=health,status,index,uuid,docs.count,store.size")
	if err != nil {
		res.Status = finding.StatusUnknown
		res.AddErrorf("list indices: %v", err)
		return res, nil
	}
	switch cat.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		// GET / is open to anonymous users on some setups; data is not.
		return p.protected(res, cat), nil
	default:
		res.Status = finding.StatusUnknown
		res.AddErrorf("list indices: HTTP %d", cat.StatusCode)
		return res, nil
	}
	indices, cut, err := parseCatIndices(cat.Body)
	if err != nil {
		res.Status = finding.StatusUnknown
		res.AddError(err)
		return res, nil
	}
	// The index list was readable without credentials: exposed, however
	// much of it fitted in the response cap.
	res.Status = finding.StatusExposed
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if cat.Truncated || cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
		res.AddEvidence("indices_truncated", true)
		res.AddEvidence("indices_read", len(indices))
	}

	var ransom []string
	own := ownSearches{}
	first := len(res.Datasets)
	for _, ii := range indices {
		if len(res.Datasets) >= env.Budget.MaxListed {
			res.AddEvidence("indices_listed_limit", env.Budget.MaxListed)
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		ds := probe.Dataset{Dataset: finding.Dataset{
			Name: ii.Name, Kind: "index", Records: ii.Records, Bytes: ii.Bytes, Hidden: ii.Hidden,
		}}
		if isRansomNote(ii.Name) {
			ransom = append(ransom, ii.Name)
			ds.Flags = append(ds.Flags, "ransom-note")
		}
		res.Datasets = append(res.Datasets, ds)
	}
	// In listing order; hidden and closed indices take no turn.
	_ = probe.SampleInOrder(ctx, res, env.Budget, res.Datasets[first:], nil, func(ctx context.Context, i int, ds *probe.Dataset) error {
		if indices[i].Hidden || indices[i].Closed {
			return probe.ErrNotSampled
		}
		return p.describe(ctx, env, h, ds, own)
	})
	if len(ransom) > 0 {
		res.AddFlag("ransom-note")
		res.AddEvidence("ransom_indices", ransom)
	}
	if stats, err := p.searchStats(ctx, h); err == nil {
		res.AddEvidence("search_stats", stats)
	}
	res.SetAccess(readAccess(ctx, env, h, own))
	return res, nil
}

// describe reads an index's exact count, mapping and a bounded sample.
func (p *Prober) describe(ctx context.Context, env *probe.Env, h *probe.HTTP, ds *probe.Dataset, own ownSearches) error {
	idx := url.PathEscape(ds.Name)
	resp, err := h.Do(ctx, http.MethodGet, "/"+idx+"/_count", nil, "", 64<<10)
	if err == nil && resp.StatusCode == http.StatusOK {
		own[ds.Name]++ // a count is a search (query phase on every shard)
	}
	if err == nil && resp.StatusCode == http.StatusOK {
		var c struct {
			Count *int64 `json:"count"`
		}
		if json.Unmarshal(resp.Body, &c) == nil && c.Count != nil {
			ds.Records = c.Count
		}
	}
	resp, err = h.Get(ctx, "/"+idx+"/_mapping")
	if err != nil {
		return fmt.Errorf("mapping %s: %w", ds.Name, err)
	}
	if resp.StatusCode == http.StatusOK {
		fields, err := parseMapping(resp.Body, ds.Name)
		if err != nil {
			return fmt.Errorf("mapping %s: %w", ds.Name, err)
		}
		ds.Fields = fields
	}
	if env.Budget.SampleRecords == 0 {
		return nil
	}
	body := fmt.Sprintf(`{"size":%d,"query":{"match_all":{}},"track_total_hits":false}`, env.Budget.SampleRecords)
	resp, err = h.Do(ctx, http.MethodPost, "/"+idx+"/_search?filter_path=hits.hits._source", []byte(body), "application/json", env.Budget.SampleBytes)
	if err != nil {
		return fmt.Errorf("sample %s: %w", ds.Name, err)
	}
	if resp.StatusCode == http.StatusOK {
		own[ds.Name]++
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sample %s: HTTP %d", ds.Name, resp.StatusCode)
	}
	recs, err := parseHits(resp.Body)
	if resp.Truncated {
		// Documents past the byte budget were not read; a first document
		// larger than the whole budget leaves no record at all.
		ds.AddFlag(probe.FlagSampleTruncated)
		if len(recs) == 0 {
			ds.AddFlag(probe.FlagRecordTooLarge)
		}
	}
	if err != nil {
		// An empty index answers {} under filter_path.
		if len(resp.Body) <= 2 || resp.Truncated {
			return nil
		}
		return fmt.Errorf("sample %s: %w", ds.Name, err)
	}
	ds.Sample = recs
	ds.Sampled = len(recs)
	return nil
}

func (p *Prober) searchStats(ctx context.Context, h *probe.HTTP) (map[string]searchStats, error) {
	resp, err := h.Get(ctx, "/_stats/search?filter_path=_all.total.search.query_total,_all.total.search.fetch_total,indices.*.total.search.query_total,indices.*.total.search.fetch_total")
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK || resp.Truncated {
		return nil, fmt.Errorf("_stats/search: HTTP %d", resp.StatusCode)
	}
	return parseSearchStats(resp.Body)
}
