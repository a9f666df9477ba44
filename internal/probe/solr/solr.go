// Package solr probes Apache Solr nodes over their HTTP API: identity and
// version from /solr/admin/info/system, open or protected (the
// BasicAuthPlugin's 401 with realm "solr", confirmed by the PKI key
// endpoint Solr leaves open), the cores with their document counts and
// index sizes from /solr/admin/cores?action=STATUS (the only core admin
// action it sends), each sampled core's fields in use with their schema types (Luke, numTerms=0) and a bounded
// select?q=*:*&rows=n. Only GET requests are sent; nothing is written, no
// cursor is opened.
package solr

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the Solr prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "solr" }

// HTTPBased implements probe.HTTPBased: Solr answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{8983} }

const (
	systemPath = "/solr/admin/info/system?wt=json"
	statusPath = "/solr/admin/cores?action=STATUS&wt=json"
	keyPath    = "/solr/admin/info/key?wt=json"
)

// FlagAuthNotEnforced (result): the node has an authentication plugin,
// but anonymous requests read its cores.
const FlagAuthNotEnforced = "auth-not-enforced"

// defaultCredentials is the login of the security.json example in Solr's
// reference guide (user solr, password SolrRocks), copied into many
// deployments as it is.
var defaultCredentials = [2]string{"solr", "SolrRocks"}

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, systemPath)
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("solr: GET info/system: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()
	res := &probe.Result{Product: "solr", TLS: h.Scheme() == "https"}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		key, ours := p.challengeIsOurs(ctx, env, h, resp)
		if !ours {
			return nil, probe.NotThisService("auth challenge without Solr markers on port %d", env.Target.Port)
		}
		if key {
			res.AddEvidence("pki_key_endpoint", true)
		}
		if env.DefaultCredentials {
			h.Header = http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(defaultCredentials[0]+":"+defaultCredentials[1]))}}
			if r2, err := h.Get(ctx, systemPath); err == nil && r2.StatusCode == http.StatusOK {
				if si, err := parseSystem(r2.Body); err == nil {
					res.Auth = finding.AuthDefaultCredentials
					res.AddEvidence("default_credential_user", defaultCredentials[0])
					return p.probeOpen(ctx, env, h, si, res), nil
				}
			}
			h.Header = nil
		}
		return protected(res, resp), nil
	default:
		return nil, probe.NotThisService("info/system answered %d", resp.StatusCode)
	}
	si, err := parseSystem(resp.Body)
	if err != nil {
		return nil, probe.NotThisService("%v", err)
	}
	res.Auth = finding.AuthNone
	return p.probeOpen(ctx, env, h, si, res), nil
}

// challengeIsOurs decides whether a 401/403 comes from Solr: the
// BasicAuthPlugin's challenge names realm "solr", and the PKI public key
// endpoint (/admin/info/key) answers without credentials under every
// Solr authentication plugin. Either is enough; key says whether the key
// endpoint answered.
func (p *Prober) challengeIsOurs(ctx context.Context, env *probe.Env, h *probe.HTTP, resp *probe.HTTPResponse) (key, ours bool) {
	challenge := strings.ToLower(resp.Header.Get("WWW-Authenticate"))
	realm := strings.Contains(challenge, `realm="solr"`)
	if r, err := h.Do(ctx, http.MethodGet, keyPath, nil, "", 64<<10); err == nil && r.StatusCode == http.StatusOK && isKeyAnswer(r.Body) {
		key = true
	}
	if realm || key {
		return key, true
	}
	// A plain challenge (a proxy in front) on Solr's own port.
	return false, challenge != "" && slices.Contains(p.DefaultPorts(), env.Target.Port)
}

func protected(res *probe.Result, resp *probe.HTTPResponse) *probe.Result {
	res.Status = finding.StatusProtected
	res.Auth = finding.AuthRequired
	if c := resp.Header.Get("WWW-Authenticate"); c != "" {
		res.AddEvidence("auth_challenge", c)
	}
	res.AddEvidence("http_status", resp.StatusCode)
	return res
}

// probeOpen lists the cores of a node whose info/system answered (first
// signal); a readable core list is the second.
func (p *Prober) probeOpen(ctx context.Context, env *probe.Env, h *probe.HTTP, si *systemInfo, res *probe.Result) *probe.Result {
	res.Version = si.Lucene.SolrSpec
	if si.Mode != "" {
		res.AddEvidence("mode", si.Mode)
	}
	if si.Lucene.LuceneSpec != "" {
		res.AddEvidence("lucene_version", si.Lucene.LuceneSpec)
	}
	st, err := h.Get(ctx, statusPath)
	if err != nil {
		res.Status = finding.StatusUnknown
		res.AddErrorf("solr: cores STATUS: %v", err)
		return res
	}
	switch st.StatusCode {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		// info/system may be open (an authorization rule) while cores are not.
		return protected(res, st)
	default:
		res.Status = finding.StatusUnknown
		res.AddErrorf("solr: cores STATUS: HTTP %d", st.StatusCode)
		return res
	}
	cores, failures, cut, err := parseCoreStatus(st.Body)
	if err != nil {
		res.Status = finding.StatusUnknown
		res.AddError(fmt.Errorf("solr: %w", err))
		return res
	}
	res.Status = finding.StatusExposed
	if a := si.Security.Authentication; a != "" && res.Auth == finding.AuthNone {
		// An authentication plugin is configured, yet anonymous requests
		// read the cores: blockUnknown off and no permission covering
		// reads (a common half-done setup).
		res.AddEvidence("auth_plugin", a)
		res.AddFlag(FlagAuthNotEnforced)
	}
	env.Provisional(res) // identified: reported even if a limit stops the rest
	res.AddEvidence("cores", len(cores))
	if failures > 0 {
		res.AddEvidence("core_init_failures", failures)
	}
	if st.Truncated || cut {
		res.AddFlag(probe.FlagDatasetsTruncated)
		res.AddEvidence("cores_truncated", true)
	}
	first := len(res.Datasets)
	for _, c := range cores {
		if len(res.Datasets)-first >= env.Budget.MaxListed {
			res.AddEvidence("cores_listed_limit", env.Budget.MaxListed)
			res.AddFlag(probe.FlagDatasetsTruncated)
			break
		}
		res.Datasets = append(res.Datasets, probe.Dataset{Dataset: finding.Dataset{
			Name: c.Name, Kind: "core", Records: c.Records, Bytes: c.Bytes,
		}})
	}
	// Largest first (the listing is sorted so); empty cores take no turn.
	_ = probe.SampleInOrder(ctx, res, env.Budget, res.Datasets[first:], nil, func(ctx context.Context, _ int, ds *probe.Dataset) error {
		if ds.Records != nil && *ds.Records == 0 {
			return probe.ErrNotSampled
		}
		return p.describe(ctx, env, h, ds)
	})
	return res
}

// describe reads the fields a core's documents use (with their schema
// types) and a bounded sample of its
// documents.
func (p *Prober) describe(ctx context.Context, env *probe.Env, h *probe.HTTP, ds *probe.Dataset) error {
	core := "/solr/" + url.PathEscape(ds.Name)
	resp, err := h.Do(ctx, http.MethodGet, core+"/admin/luke?wt=json&numTerms=0", nil, "", env.Budget.MaxResponseBytes)
	if err != nil {
		return fmt.Errorf("solr: fields of %s: %w", ds.Name, err)
	}
	if resp.StatusCode == http.StatusOK {
		if fields, err := parseLukeFields(resp.Body); err == nil {
			ds.Fields = fields
		}
	}
	if env.Budget.SampleRecords == 0 {
		return nil
	}
	q := url.Values{"q": {"*:*"}, "rows": {strconv.Itoa(env.Budget.SampleRecords)}, "wt": {"json"}, "omitHeader": {"true"}}
	resp, err = h.Do(ctx, http.MethodGet, core+"/select?"+q.Encode(), nil, "", env.Budget.SampleBytes)
	if err != nil {
		return fmt.Errorf("solr: sample %s: %w", ds.Name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("solr: sample %s: HTTP %d", ds.Name, resp.StatusCode)
	}
	recs, cut, err := parseDocs(resp.Body)
	if resp.Truncated || cut {
		// Documents past the byte budget were not read; a first document
		// larger than the whole budget leaves no record at all.
		ds.AddFlag(probe.FlagSampleTruncated)
		if len(recs) == 0 {
			ds.AddFlag(probe.FlagRecordTooLarge)
		}
	}
	if err != nil && !resp.Truncated {
		return fmt.Errorf("solr: sample %s: %w", ds.Name, err)
	}
	ds.Sample = recs
	ds.Sampled = len(recs)
	return nil
}
