package prometheus

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// envelope is the shape of every /api/v1 answer.
type envelope struct {
	Status string          `json:"status"`
	Data   json.RawMessage `json:"data"`
	Error  string          `json:"error"`
}

// decode checks the envelope and decodes its data into v.
func decode(b []byte, v any) error {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	if e.Status != "success" {
		return fmt.Errorf("api status %q: %s", e.Status, e.Error)
	}
	if len(e.Data) == 0 {
		return errors.New("api answer without data")
	}
	return json.Unmarshal(e.Data, v)
}

// buildInfo is /api/v1/status/buildinfo.
type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	GoVersion string `json:"goVersion"`
}

func parseBuildInfo(b []byte) (buildInfo, error) {
	var bi buildInfo
	if err := decode(b, &bi); err != nil {
		return bi, err
	}
	if bi.Version == "" {
		return bi, errors.New("buildinfo without version")
	}
	return bi, nil
}

// target is one active scrape target.
type target struct {
	ScrapePool string            `json:"scrapePool"`
	ScrapeURL  string            `json:"scrapeUrl"`
	Health     string            `json:"health"`
	Labels     map[string]string `json:"labels"`
}

// parseTargets decodes /api/v1/targets and returns the number of active
// targets and up to max of them.
func parseTargets(b []byte, max int) (ts []target, n int, cut bool, err error) {
	var status struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if json.Unmarshal(b, &status) == nil && status.Status != "success" {
		return nil, 0, false, fmt.Errorf("api status %q: %s", status.Status, status.Error)
	}
	cut, err = probe.EachJSON(b, func(t target) bool {
		if n < max {
			ts = append(ts, t)
		}
		n++
		return true
	}, "data", "activeTargets")
	if err != nil {
		return nil, 0, false, err
	}
	return ts, n, cut, nil
}

// targetRecord flattens a target into a record.
func targetRecord(t target) classify.Record {
	r := classify.Record{}
	add := func(p, v string) {
		if v != "" {
			r.Values = append(r.Values, classify.Value{Path: p, Text: v})
		}
	}
	add("scrape_pool", t.ScrapePool)
	add("scrape_url", t.ScrapeURL)
	keys := make([]string, 0, len(t.Labels))
	for k := range t.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		add("labels."+k, t.Labels[k])
	}
	return r
}

// tsdbStatus is /api/v1/status/tsdb.
type tsdbStatus struct {
	HeadStats struct {
		NumSeries     int64 `json:"numSeries"`
		NumLabelPairs int64 `json:"numLabelPairs"`
		ChunkCount    int64 `json:"chunkCount"`
	} `json:"headStats"`
	SeriesCountByMetricName    []nameValue `json:"seriesCountByMetricName"`
	LabelValueCountByLabelName []nameValue `json:"labelValueCountByLabelName"`
	SeriesCountByLabelValue    []nameValue `json:"seriesCountByLabelValuePair"`
}

type nameValue struct {
	Name  string `json:"name"`
	Value int64  `json:"value"`
}

func parseTSDB(b []byte) (tsdbStatus, error) {
	var s tsdbStatus
	err := decode(b, &s)
	return s, err
}

// parseFlags decodes /api/v1/status/flags.
func parseFlags(b []byte) (map[string]string, error) {
	var f map[string]string
	err := decode(b, &f)
	return f, err
}

// redacted is how Prometheus shows a Secret field; URLs get "xxxxx" as
// their password.
const (
	redacted    = "<secret>"
	redactedURL = "xxxxx"
)

// configFacts is what the running configuration shows about credentials.
type configFacts struct {
	// Records are credential-bearing config blocks (a scrape job, a remote
	// write endpoint), with their visible credential-related values.
	Records []classify.Record
	// Visible counts credential values shown in clear; Redacted those
	// Prometheus hid.
	Visible, Redacted int
	// Jobs counts scrape jobs.
	Jobs int
}

// credKeys are keys whose value is a secret.
var credKeys = map[string]bool{
	"password": true, "credentials": true, "bearer_token": true, "client_secret": true,
	"token": true, "api_key": true, "secret_key": true, "access_key": true, "secret": true,
	"auth_token": true, "private_key": true, "key": true, "sigv4_secret_key": true,
}

// identityKeys name an account; kept with the secrets they go with.
var identityKeys = map[string]bool{
	"username": true, "client_id": true, "user": true, "access_key_id": true, "tenant_id": true,
}

// parseConfig decodes /api/v1/status/config and walks its YAML for
// credentials. maxRecords bounds the records kept.
func parseConfig(b []byte, maxRecords int) (*configFacts, error) {
	var data struct {
		YAML string `json:"yaml"`
	}
	if err := decode(b, &data); err != nil {
		return nil, err
	}
	var root map[string]any
	if err := yaml.Unmarshal([]byte(data.YAML), &root); err != nil {
		return nil, fmt.Errorf("config yaml: %w", err)
	}
	f := &configFacts{}
	keys := make([]string, 0, len(root))
	for k := range root {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, section := range keys {
		items, ok := root[section].([]any)
		if !ok {
			items = []any{root[section]}
		}
		if section == "scrape_configs" {
			f.Jobs = len(items)
		}
		for _, it := range items {
			var rec classify.Record
			f.walk(&rec, section, it, "", 0)
			if len(rec.Values) > 0 && len(f.Records) < maxRecords {
				if m, ok := it.(map[string]any); ok {
					if name, ok := m["job_name"].(string); ok {
						rec.Values = append([]classify.Value{{Path: section + ".job_name", Text: name}}, rec.Values...)
					}
				}
				f.Records = append(f.Records, rec)
			}
		}
	}
	return f, nil
}

// maxConfigDepth bounds recursion into hostile YAML.
const maxConfigDepth = 24

// walk collects credential-related leaves under v into rec. inParams is
// set under "params" (URL parameters often carry tokens).
func (f *configFacts) walk(rec *classify.Record, path string, v any, key string, depth int) {
	if depth > maxConfigDepth || len(rec.Values) >= 256 {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			f.walk(rec, path+"."+k, x[k], k, depth+1)
		}
	case []any:
		for _, e := range x {
			f.walk(rec, path, e, key, depth+1)
		}
	case string:
		f.leaf(rec, path, key, x)
	}
}

func (f *configFacts) leaf(rec *classify.Record, path, key, val string) {
	lk := strings.ToLower(key)
	switch {
	case credKeys[lk]:
		if val == redacted || val == "" {
			f.Redacted++
			return
		}
		f.Visible++
	case identityKeys[lk], strings.HasSuffix(lk, "_file"):
	case strings.Contains(path, ".params."):
		f.Visible++
	case strings.Contains(val, "://"):
		u, err := url.Parse(val)
		if err != nil || u.User == nil {
			return
		}
		if pw, ok := u.User.Password(); ok {
			if pw == redactedURL {
				f.Redacted++
			} else {
				f.Visible++
			}
		}
	default:
		return
	}
	rec.Values = append(rec.Values, classify.Value{Path: path, Text: val})
}
