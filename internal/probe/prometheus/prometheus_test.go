package prometheus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

type server struct {
	Addr netip.Addr
	Port int
}

func (s server) url(path string) string { return fmt.Sprintf("http://%s:%d%s", s.Addr, s.Port, path) }

// promConfig scrapes only loopback addresses where nothing listens (so the
// head block stays empty and stable) and carries credentials of each kind
// Prometheus shows or redacts.
func promConfig(a netip.Addr) string {
	return fmt.Sprintf(`global:
  scrape_interval: 1h
  external_labels:
    team: payments
scrape_configs:
  - job_name: node
    basic_auth:
      username: scraper
      password: S3cr3tScrapePass!
    static_configs:
      - targets: ['%[1]s:9', '%[1]s:7']
  - job_name: billing-api
    params:
      token: ['tok_live_9f8e7d6c5b4a3f2e1d0c']
    authorization:
      credentials: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY3JhcGVyIn0.sig
    static_configs:
      - targets: ['%[1]s:13']
remote_write:
  - url: http://rwuser:rw-pass-123@%[1]s:19/write
`, a)
}

func startPrometheus(t *testing.T, webConfig string) server {
	t.Helper()
	bin := testenv.Binary(t, "prometheus")
	dir := t.TempDir()
	s := server{Addr: testenv.Addr(t)}
	s.Port = testenv.FreePort(t, s.Addr)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(promConfig(s.Addr)), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--config.file=" + cfg,
		fmt.Sprintf("--web.listen-address=%s:%d", s.Addr, s.Port),
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--scrape.discovery-reload-interval=1s",
		"--web.console.templates=" + dir, "--web.console.libraries=" + dir,
		"--log.level=warn",
	}
	if webConfig != "" {
		wc := filepath.Join(dir, "web.yml")
		if err := os.WriteFile(wc, []byte(webConfig), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--web.config.file="+wc)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	testenv.StartAndWait(t, "prometheus", cmd, s.Addr, s.Port, 30*time.Second)
	return s
}

// getJSON reads an API path with the test's own client.
func getJSON(t *testing.T, s server, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := decode(b, v); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
}

// waitTargets waits until Prometheus has discovered n active targets.
func waitTargets(t *testing.T, s server, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var data struct {
			Active []json.RawMessage `json:"activeTargets"`
		}
		getJSON(t, s, "/api/v1/targets", &data)
		if len(data.Active) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d active targets, want %d", len(data.Active), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stateDigest hashes what the server holds: config, target URLs, series.
func stateDigest(t *testing.T, s server) (string, int64) {
	t.Helper()
	var cfg struct {
		YAML string `json:"yaml"`
	}
	getJSON(t, s, "/api/v1/status/config", &cfg)
	var tg struct {
		Active []struct {
			ScrapeURL string `json:"scrapeUrl"`
		} `json:"activeTargets"`
	}
	getJSON(t, s, "/api/v1/targets", &tg)
	var ts tsdbStatus
	getJSON(t, s, "/api/v1/status/tsdb", &ts)
	var urls []string
	for _, a := range tg.Active {
		urls = append(urls, a.ScrapeURL)
	}
	sort.Strings(urls)
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%v|%d|%d", cfg.YAML, urls, ts.HeadStats.NumSeries, ts.HeadStats.NumLabelPairs)))
	return hex.EncodeToString(h[:]), ts.HeadStats.NumSeries
}

func TestPrometheus(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("grafana-reader-pw"), 4)
	if err != nil {
		t.Fatal(err)
	}
	open := startPrometheus(t, "")
	locked := startPrometheus(t, fmt.Sprintf("basic_auth_users:\n  grafana: %s\n", hash))
	p := New()

	t.Run("open", func(t *testing.T) {
		waitTargets(t, open, 3)
		before, series := stateDigest(t, open)
		res, err := probetest.Run(t, p, open.Addr, open.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
			t.Fatalf("status %s/%s (%s), want exposed/none", res.Status, res.Auth, res.Error)
		}
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
		if after, _ := stateDigest(t, open); after != before {
			t.Error("server state changed during the probe")
		}
	})

	t.Run("basic-auth", func(t *testing.T) {
		res, err := probetest.Run(t, p, locked.Addr, locked.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s, want protected/required", res.Status, res.Auth)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets on a protected server: %v", res.Datasets)
		}
	})
}

func TestNotPrometheus(t *testing.T) {
	for name, banner := range map[string]string{
		"404":        "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found",
		"json":       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{\"status\": \"healthy\"}",
		"nginx-auth": "HTTP/1.1 401 Unauthorized\r\nServer: nginx\r\nWWW-Authenticate: Basic realm=\"staff\"\r\nContent-Length: 6\r\nConnection: close\r\n\r\ndenied",
		"redis":      "-ERR wrong number of arguments\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			s := probetest.Banner(t, banner)
			_, err := probetest.Run(t, New(), s.Addr, s.Port)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err %v, want not-this-service", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}
