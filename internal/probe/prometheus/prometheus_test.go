package prometheus

import (
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestPrometheus(t *testing.T) {
	open := testenv.StartPrometheus(t, testenv.PrometheusOptions{})
	locked := testenv.StartPrometheus(t, testenv.PrometheusOptions{User: "grafana", Password: "grafana-reader-pw"})
	p := New()

	t.Run("open", func(t *testing.T) {
		open.WaitTargets(t, testenv.PrometheusTargets)
		before, series := open.Digest(t)
		res := probetest.Open(t, p, open.Addr, open.Port)
		if res.Product != "prometheus" || !strings.HasPrefix(res.Version, "2.") {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := map[string]int64{"config": 3, "targets": 3, "tsdb": series}
		for name, n := range want {
			if d, ok := ds[name]; !ok || d.Records == nil || *d.Records != n {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		if res.Evidence["config_secrets_visible"] != 1 || res.Evidence["config_secrets_redacted"] != 3 || res.Evidence["scrape_jobs"] != 2 {
			t.Errorf("evidence %v", res.Evidence)
		}
		paths := map[string]string{}
		for _, r := range ds["config"].Sample {
			for _, v := range r.Values {
				paths[v.Path] = v.Text
			}
		}
		for _, pth := range []string{"scrape_configs.job_name", "scrape_configs.basic_auth.username",
			"scrape_configs.params.token", "remote_write.url"} {
			if _, ok := paths[pth]; !ok {
				t.Errorf("config sample lacks %s (has %v)", pth, paths)
			}
		}
		if paths["scrape_configs.params.token"] != "tok_live_9f8e7d6c5b4a3f2e1d0c" {
			t.Errorf("params token %q", paths["scrape_configs.params.token"])
		}
		for _, v := range paths {
			if strings.Contains(v, "S3cr3tScrapePass") || strings.Contains(v, "rw-pass-123") || v == redacted {
				t.Errorf("sample has a value Prometheus does not show: %q", v)
			}
		}
		tp := map[string]int{}
		for _, r := range ds["targets"].Sample {
			for _, v := range r.Values {
				tp[v.Path]++
			}
		}
		if tp["scrape_url"] != 3 || tp["labels.job"] != 3 || tp["labels.instance"] != 3 {
			t.Errorf("targets sample paths %v", tp)
		}
		if after, _ := open.Digest(t); after != before {
			t.Error("server state changed during the probe")
		}
	})

	t.Run("basic-auth", func(t *testing.T) {
		probetest.Protected(t, p, locked.Addr, locked.Port)
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "404", Banner: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"},
		{Name: "json", Banner: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"status\": \"healthy\"}"},
		{Name: "nginx-auth", Banner: "HTTP/1.1 401 Unauthorized\r\nServer: nginx\r\nWWW-Authenticate: Basic realm=\"staff\"\r\nContent-Length: 6\r\nConnection: close\r\n\r\ndenied"},
		{Name: "redis", Banner: "-ERR wrong number of arguments\r\n"},
	}})
}
