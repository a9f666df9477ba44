// Package prometheus probes the Prometheus HTTP API. Prometheus has no
// authentication by default; an open one shows its running configuration
// (scrape credentials that are not redacted, URL parameters, user names,
// internal host names), its scrape targets (an inventory of the network)
// and the size of its time-series database.
package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes Prometheus.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns the Prometheus prober.
func New() *Prober { return &Prober{} }

// Name is the service name in findings.
func (*Prober) Name() string { return "prometheus" }

// DefaultPorts are Prometheus' usual ports (9090 server, 9091 pushgateway
// is a different API and is not claimed).
// HTTPBased implements probe.HTTPBased: the service answers HTTP.
func (*Prober) HTTPBased() {}

func (*Prober) DefaultPorts() []int { return []int{9090} }

const pathBuildInfo = "/api/v1/status/buildinfo"

// Probe identifies Prometheus by its build info and reads its metadata.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	h, resp, err := probe.DetectHTTP(ctx, env, pathBuildInfo)
	if err != nil {
		if probe.IsTimeout(err) || errors.Is(err, probe.ErrBudget) || ctx.Err() != nil {
			return nil, fmt.Errorf("prometheus: GET buildinfo: %w", err)
		}
		return nil, probe.NotThisService("no HTTP answer: %v", err)
	}
	defer h.Close()
	res := &probe.Result{TLS: h.Scheme() == "https", Product: "prometheus"}
	if resp.StatusCode == http.StatusUnauthorized {
		if !exporterToolkitChallenge(resp) {
			return nil, probe.NotThisService("401 without Prometheus' basic-auth challenge")
		}
		// Prometheus' web config (exporter-toolkit) answers a bare
		// "WWW-Authenticate: Basic" and Go's plain-text error body.
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddEvidence("auth_challenge", resp.Header.Get("WWW-Authenticate"))
		return res, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, probe.NotThisService("GET buildinfo: status %d", resp.StatusCode)
	}
	bi, err := parseBuildInfo(resp.Body)
	if err != nil {
		return nil, probe.NotThisService("GET buildinfo: %v", err)
	}
	res.Version = bi.Version
	if bi.Revision != "" {
		res.AddEvidence("revision", bi.Revision)
	}
	res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
	env.Provisional(res) // identified: reported even if a limit stops the rest
	pr := &prom{env: env, h: h, res: res}
	pr.run(ctx)
	return res, nil
}

// exporterToolkitChallenge tells whether a 401 looks like Prometheus'
// own basic-auth layer rather than a proxy's.
func exporterToolkitChallenge(r *probe.HTTPResponse) bool {
	return strings.TrimSpace(r.Header.Get("WWW-Authenticate")) == "Basic" &&
		strings.TrimSpace(string(r.Body)) == "Unauthorized"
}

// prom is the state of one probe of an identified, answering Prometheus.
type prom struct {
	env *probe.Env
	h   *probe.HTTP
	res *probe.Result
}

func (p *prom) run(ctx context.Context) {
	readable := 0
	steps := []func(context.Context) error{p.config, p.targets, p.tsdb, p.flags}
	for _, step := range steps {
		if ctx.Err() != nil {
			break
		}
		if err := step(ctx); err != nil {
			p.res.AddError(err)
			continue
		}
		readable++
		if len(p.res.Datasets) > 0 {
			// Decided as soon as proven, for the provisional result.
			p.res.Status, p.res.Auth = finding.StatusExposed, finding.AuthNone
		}
	}
	// Two signals: build info answered without credentials, and at least
	// one data endpoint (config, targets, tsdb) answered too.
	if readable > 0 && len(p.res.Datasets) > 0 {
		p.res.Status, p.res.Auth = finding.StatusExposed, finding.AuthNone
	} else {
		p.res.Status, p.res.Auth = finding.StatusUnknown, finding.AuthUnknown
	}
}

// get reads an API path and fails on any non-200 answer or one cut at
// the response cap.
func (p *prom) get(ctx context.Context, path string) ([]byte, error) {
	b, truncated, err := p.getCapped(ctx, path)
	if err == nil && truncated {
		return nil, fmt.Errorf("prometheus: GET %s: answer over %d bytes", path, p.env.Budget.MaxResponseBytes)
	}
	return b, err
}

// getCapped reads an API path that may be cut at the response cap (a
// listing read element by element), and fails on any non-200 answer.
func (p *prom) getCapped(ctx context.Context, path string) ([]byte, bool, error) {
	resp, err := p.h.Get(ctx, path)
	if err != nil {
		return nil, false, fmt.Errorf("prometheus: GET %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, false, fmt.Errorf("prometheus: GET %s: status %d", path, resp.StatusCode)
	}
	return resp.Body, resp.Truncated, nil
}

// config reads the running configuration and turns its credential-bearing
// blocks into records.
func (p *prom) config(ctx context.Context) error {
	b, err := p.get(ctx, "/api/v1/status/config")
	if err != nil {
		return err
	}
	f, err := parseConfig(b, p.env.Budget.SampleRecords)
	if err != nil {
		return fmt.Errorf("prometheus: config: %w", err)
	}
	p.res.AddEvidence("scrape_jobs", f.Jobs)
	p.res.AddEvidence("config_secrets_visible", f.Visible)
	p.res.AddEvidence("config_secrets_redacted", f.Redacted)
	ds := probe.Dataset{Dataset: finding.Dataset{Name: "config", Kind: "config", Records: finding.Int64(int64(len(f.Records)))}}
	p.add(ds, f.Records)
	return nil
}

// targets reads the active scrape targets: host names and addresses of the
// monitored network.
func (p *prom) targets(ctx context.Context) error {
	b, _, err := p.getCapped(ctx, "/api/v1/targets?state=active")
	if err != nil {
		return err
	}
	// A large fleet's target list can pass the response cap: the targets
	// read before the cut are kept and the count is then a lower bound.
	ts, n, cut, err := parseTargets(b, p.env.Budget.SampleRecords)
	if err != nil {
		return fmt.Errorf("prometheus: targets: %w", err)
	}
	if cut {
		p.res.AddFlag(probe.FlagDatasetsTruncated)
		p.res.AddEvidence("targets_lower_bound", true)
	}
	recs := make([]classify.Record, 0, len(ts))
	for _, t := range ts {
		recs = append(recs, targetRecord(t))
	}
	p.add(probe.Dataset{Dataset: finding.Dataset{Name: "targets", Kind: "targets", Records: finding.Int64(int64(n))}}, recs)
	return nil
}

// tsdb reads the head block's series count and the label names.
func (p *prom) tsdb(ctx context.Context) error {
	b, err := p.get(ctx, "/api/v1/status/tsdb")
	if err != nil {
		return err
	}
	s, err := parseTSDB(b)
	if err != nil {
		return fmt.Errorf("prometheus: tsdb: %w", err)
	}
	ds := probe.Dataset{Dataset: finding.Dataset{Name: "tsdb", Kind: "timeseries", Records: finding.Int64(s.HeadStats.NumSeries)}}
	for _, l := range s.LabelValueCountByLabelName {
		ds.Fields = append(ds.Fields, finding.Field{Name: l.Name, Type: "label"})
	}
	var recs []classify.Record
	for _, pair := range s.SeriesCountByLabelValue {
		if name, val, ok := strings.Cut(pair.Name, "="); ok {
			recs = append(recs, classify.FromText(name, val))
		}
	}
	p.add(ds, recs)
	return nil
}

// flags notes whether the admin (delete series) and lifecycle (shutdown,
// reload) APIs are on.
func (p *prom) flags(ctx context.Context) error {
	b, err := p.get(ctx, "/api/v1/status/flags")
	if err != nil {
		return err
	}
	f, err := parseFlags(b)
	if err != nil {
		return fmt.Errorf("prometheus: flags: %w", err)
	}
	if f["web.enable-admin-api"] == "true" {
		p.res.AddFlag("admin-api")
	}
	if f["web.enable-lifecycle"] == "true" {
		p.res.AddFlag("lifecycle-api")
	}
	return nil
}

// add attaches a bounded sample and appends the dataset.
func (p *prom) add(ds probe.Dataset, recs []classify.Record) {
	b := p.env.Budget
	var size int64
	for _, r := range recs {
		if len(ds.Sample) >= b.SampleRecords {
			break
		}
		size += int64(r.Size())
		if size > b.SampleBytes {
			ds.AddFlag(probe.FlagSampleTruncated)
			if len(ds.Sample) == 0 {
				ds.AddFlag(probe.FlagRecordTooLarge)
			}
			break
		}
		ds.Sample = append(ds.Sample, r)
	}
	ds.Sampled = len(ds.Sample)
	p.res.Datasets = append(p.res.Datasets, ds)
}
