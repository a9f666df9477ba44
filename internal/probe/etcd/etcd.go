// Package etcd probes etcd through its v3 gRPC gateway (JSON over HTTP):
// GET /version identifies it, a count-only range over the whole keyspace
// tells whether reads need credentials, a bounded walk of the key prefixes
// (one keys-only range of one key per prefix, plus a count per prefix)
// gives the datasets, and a limited range samples each.
//
// Only read-only calls are made: /version, /v3/maintenance/status and
// /v3/kv/range.
package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes etcd.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns an etcd prober.
func New() *Prober { return &Prober{} }

// Name is the service name.
func (p *Prober) Name() string { return "etcd" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts is etcd's client port.
func (p *Prober) DefaultPorts() []int { return []int{2379} }

// errAuth means the server wants credentials.
var errAuth = errors.New("authentication required")

// client talks to one etcd gateway.
type client struct {
	h   *probe.HTTP
	env *probe.Env
	// api is "/v3" (3.4+), "/v3beta" (3.3) or "/v3alpha" (3.2).
	api string
}

// Probe identifies and measures the etcd server at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, "/version")
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("etcd: GET /version: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()
	v, ok := parseVersion(resp.Body)
	if resp.StatusCode != http.StatusOK || !ok {
		return nil, probe.NotThisService("etcd: /version answered %d without etcdserver", resp.StatusCode)
	}
	res := &probe.Result{Product: "etcd", Version: v.Server, TLS: h.Scheme() == "https"}
	res.AddEvidence("cluster_version", v.Cluster)
	c := &client{h: h, env: env, api: "/v3"}

	total, err := c.countAll(ctx, res)
	switch {
	case errors.Is(err, errAuth):
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		return res, nil
	case err != nil:
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddError(err)
		return res, nil
	}
	// Two signals: the range was answered, with no auth refusal.
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	res.AddEvidence("keys", total)
	c.status(ctx, res)
	sets, err := c.datasets(ctx, total)
	if err != nil {
		res.AddErrorf("etcd: list prefixes: %v", err)
	}
	c.sampleAll(ctx, res, sets)
	return res, nil
}

// countAll counts every key, finding the gateway's API prefix on the way.
func (c *client) countAll(ctx context.Context, res *probe.Result) (int64, error) {
	var last error
	for _, api := range []string{"/v3", "/v3beta", "/v3alpha"} {
		c.api = api
		r, err := c.rangeCall(ctx, rangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true}, c.env.Budget.MaxResponseBytes)
		if errors.Is(err, errNotFound) {
			last = err
			continue
		}
		if err != nil {
			if errors.Is(err, errAuth) {
				res.AddEvidence("auth_challenge", strings.TrimPrefix(err.Error(), "etcd: range: "))
			}
			return 0, err
		}
		res.AddEvidence("cluster_id", r.Header.ClusterID)
		res.AddEvidence("revision", int64(r.Header.Revision))
		return int64(r.Count), nil
	}
	return 0, fmt.Errorf("etcd: no v3 gateway: %w", last)
}

var errNotFound = errors.New("not found")

// rangeCall posts one range and decodes the answer. truncated answers (over
// limit) are reported with errTruncated.
func (c *client) rangeCall(ctx context.Context, req rangeRequest, limit int64) (rangeResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return rangeResponse{}, fmt.Errorf("etcd: encode range: %w", err)
	}
	resp, err := c.h.Do(ctx, http.MethodPost, c.api+"/kv/range", body, "application/json", limit)
	if err != nil {
		return rangeResponse{}, fmt.Errorf("etcd: range: %w", err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return rangeResponse{}, fmt.Errorf("etcd: %s/kv/range: %w", c.api, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		if e, ok := parseError(resp.Body); ok {
			if authRefusal(e.Message) || resp.StatusCode == http.StatusUnauthorized {
				return rangeResponse{}, fmt.Errorf("etcd: range: %s: %w", trim(e.Message), errAuth)
			}
			return rangeResponse{}, fmt.Errorf("etcd: range: %s (code %d)", trim(e.Message), e.Code)
		}
		if resp.StatusCode == http.StatusUnauthorized {
			return rangeResponse{}, fmt.Errorf("etcd: range: HTTP 401: %w", errAuth)
		}
		return rangeResponse{}, fmt.Errorf("etcd: range: HTTP %d", resp.StatusCode)
	}
	if resp.Truncated {
		return rangeResponse{}, errTruncated
	}
	return parseRange(resp.Body)
}

var errTruncated = errors.New("etcd: range answer over the byte limit")

// status adds server facts from the maintenance status call (read-only).
func (c *client) status(ctx context.Context, res *probe.Result) {
	resp, err := c.h.Do(ctx, http.MethodPost, c.api+"/maintenance/status", []byte("{}"), "application/json", c.env.Budget.MaxResponseBytes)
	if err != nil || resp.StatusCode != http.StatusOK {
		return
	}
	var st statusInfo
	if json.Unmarshal(resp.Body, &st) == nil {
		res.AddEvidence("db_size", int64(st.DBSize))
		res.AddEvidence("leader", st.Leader)
	}
}

// toRecord flattens one key-value pair: JSON values give their fields,
// other values sit under the key's pattern. The raw key is kept under
// "_key" so the classifier also sees data carried in key names.
func toRecord(kv keyValue) classify.Record {
	key := strings.ToValidUTF8(string(kv.Key), "")
	return probe.KeyRecord("_key", key, keyPattern(key), strings.ToValidUTF8(string(kv.Value), ""))
}

// keyPattern replaces the variable parts of a key (segments holding digits
// or long ids) with "*": "/users/1001/profile" → "/users/*/profile".
func keyPattern(key string) string {
	return probe.KeyPattern{Seps: "/:", DropEmpty: true, Rooted: true}.Of(key)
}

// sortSets orders datasets largest first.
func sortSets(sets []*keySet) {
	sort.SliceStable(sets, func(i, j int) bool { return sets[i].count > sets[j].count })
}
