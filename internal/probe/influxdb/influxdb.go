// Package influxdb probes InfluxDB 1.x HTTP APIs (and recognises 2.x by
// its /ping answer). It identifies the server by the X-Influxdb-Version
// header of /ping, decides open or protected by `SHOW DATABASES` without
// credentials (401 "unable to parse authentication credentials" /
// "authorization failed" mean protected), and on an open server lists each
// database's measurements, counts their points with a bounded
// `SELECT count(*)`, reads field and tag keys, and samples the largest
// measurements with `SELECT * … LIMIT n`. Every query is a GET, which
// InfluxDB 1.x only allows for read queries.
package influxdb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the InfluxDB prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns an InfluxDB prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "influxdb" }

// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{8086} }

// noAdminMarker is InfluxDB 1.x's answer when authentication is on but no
// admin user exists yet: anyone may create the first admin.
const noAdminMarker = "create admin user first"

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, ping, err := probe.DetectHTTP(ctx, env, "/ping")
	if err != nil {
		if probe.IsTimeout(err) {
			return nil, fmt.Errorf("influxdb: ping: %w", err)
		}
		return nil, probe.NotThisService("influxdb: ping: %v", err)
	}
	defer h.Close()
	version := ping.Header.Get("X-Influxdb-Version")
	if version == "" {
		return nil, probe.NotThisService("influxdb: /ping answered %d without X-Influxdb-Version", ping.StatusCode)
	}
	res := &probe.Result{Product: "influxdb", Version: version, Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	res.TLS = h.Scheme() == "https"
	if b := ping.Header.Get("X-Influxdb-Build"); b != "" {
		res.AddEvidence("build", b)
	}
	c := &client{h: h, env: env}
	resp, err := c.get(ctx, "", "SHOW DATABASES", env.Budget.MaxResponseBytes)
	if err != nil {
		res.AddErrorf("influxdb: SHOW DATABASES: %v", err)
		return res, nil
	}
	dbs, err := decide(res, resp)
	if err != nil {
		res.AddError(err)
		return res, nil
	}
	if dbs == nil {
		return res, nil
	}
	env.Provisional(res) // identified: reported even if a limit stops the rest
	c.measure(ctx, res, dbs)
	return res, nil
}

// decide reads the answer to SHOW DATABASES: an auth error makes res
// protected (nil databases); a result makes it exposed, the version header
// being the first signal and the answered query the second.
func decide(res *probe.Result, resp *probe.HTTPResponse) ([]string, error) {
	msg := errorMessage(resp)
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("auth_error", msg)
		if strings.Contains(msg, noAdminMarker) {
			// Authentication is on but no user exists: anyone can create the
			// first admin user, and then read everything.
			res.AddFlag("no-admin-user")
		}
		return nil, nil
	case resp.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("influxdb: SHOW DATABASES: status %d: %s", resp.StatusCode, msg)
	}
	if resp.Truncated {
		// More databases than the response cap holds: keep the names read
		// before the cut; the answered query still proves access.
		dbs := []string{}
		_, err := probe.EachJSON(resp.Body, func(row []any) bool {
			if len(row) > 0 {
				if name, ok := row[0].(string); ok {
					dbs = append(dbs, name)
				}
			}
			return true
		}, "results", probe.FirstElement, "series", probe.FirstElement, "values")
		if err != nil {
			return nil, fmt.Errorf("influxdb: SHOW DATABASES: %w", err)
		}
		res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
		res.AddFlag(probe.FlagDatasetsTruncated)
		res.AddEvidence("databases", len(dbs))
		return dbs, nil
	}
	qr, err := decodeResponse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("influxdb: SHOW DATABASES: %w", err)
	}
	if len(qr.Results) == 0 || qr.Results[0].Error != "" {
		return nil, fmt.Errorf("influxdb: SHOW DATABASES: no result")
	}
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	dbs := []string{}
	for _, s := range qr.Results[0].Series {
		for _, row := range s.Values {
			if len(row) > 0 {
				if name, ok := row[0].(string); ok {
					dbs = append(dbs, name)
				}
			}
		}
	}
	res.AddEvidence("databases", len(dbs))
	return dbs, nil
}

// errorMessage is the "error" of a JSON error body, or the X-Influxdb-Error
// header, capped.
func errorMessage(resp *probe.HTTPResponse) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"` // 2.x
	}
	msg := resp.Header.Get("X-Influxdb-Error")
	if json.Unmarshal(resp.Body, &e) == nil {
		if e.Error != "" {
			msg = e.Error
		} else if e.Message != "" {
			msg = e.Message
		}
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// client runs InfluxQL read queries with GET /query.
type client struct {
	h   *probe.HTTP
	env *probe.Env
}

// get runs q against db ("" for none) and reads at most limit bytes.
func (c *client) get(ctx context.Context, db, q string, limit int64) (*probe.HTTPResponse, error) {
	v := url.Values{"q": {q}}
	if db != "" {
		v.Set("db", db)
	}
	return c.h.Do(ctx, http.MethodGet, "/query?"+v.Encode(), nil, "", limit)
}

// query runs q and decodes the JSON answer.
func (c *client) query(ctx context.Context, db, q string, limit int64) (*queryResponse, error) {
	resp, err := c.get(ctx, db, q, limit)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d: %s", resp.StatusCode, errorMessage(resp))
	}
	if resp.Truncated {
		return nil, fmt.Errorf("answer larger than %d bytes", limit)
	}
	return decodeResponse(resp.Body)
}
