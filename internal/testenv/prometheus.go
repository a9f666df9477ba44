package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// PrometheusOptions configure StartPrometheus.
type PrometheusOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// User and Password, if set, guard the web UI and API with basic auth.
	User, Password string
}

// Prometheus is a real Prometheus server (Debian package) started for a
// test, with a config that carries credentials (promConfig).
type Prometheus struct {
	Addr netip.Addr
	Port int
}

func (s *Prometheus) url(path string) string {
	return fmt.Sprintf("http://%s:%d%s", s.Addr, s.Port, path)
}

// promConfig scrapes only loopback addresses where nothing listens, once a
// year at a random offset (so the head block stays empty and stable for a
// test's life), and carries credentials of each kind Prometheus shows or
// redacts.
func promConfig(a netip.Addr) string {
	return fmt.Sprintf(`global:
  scrape_interval: 1y
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

// StartPrometheus runs prometheus with a temp config and storage; it is
// stopped when the test ends. Its scrape targets are ports on its own
// address where nothing listens.
func StartPrometheus(t testing.TB, o PrometheusOptions) *Prometheus {
	t.Helper()
	bin := Binary(t, "prometheus")
	dir := t.TempDir()
	s := &Prometheus{}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
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
	if o.User != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(o.Password), 4)
		if err != nil {
			t.Fatal(err)
		}
		wc := filepath.Join(dir, "web.yml")
		if err := os.WriteFile(wc, []byte(fmt.Sprintf("basic_auth_users:\n  %s: %s\n", o.User, hash)), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--web.config.file="+wc)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	StartAndWait(t, "prometheus", cmd, s.Addr, s.Port, 30*time.Second)
	// The port accepts before the TSDB is open: until then the API
	// answers 503 (a digest read in that window failed under load).
	if err := waitPrometheusReady(s.url("/-/ready"), o.User, o.Password, 30*time.Second); err != nil {
		t.Fatalf("prometheus: %v", err)
	}
	return s
}

// waitPrometheusReady polls /-/ready until it answers 200.
func waitPrometheusReady(url, user, password string, timeout time.Duration) error {
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for time.Now().Before(deadline) {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %s: %s", timeout, last)
}

// GetJSON reads an API path with the test's own client and decodes the
// "data" of the answer into v.
func (s *Prometheus) GetJSON(t testing.TB, path string, v any) {
	t.Helper()
	resp, err := http.Get(s.url(path))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Status != "success" {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		t.Fatalf("%s: %v: %s", path, err, b)
	}
}

// PrometheusTargets is the number of scrape targets of the config.
const PrometheusTargets = 3

// PrometheusSecrets are credentials of the config no leakwatch output may
// contain.
var PrometheusSecrets = []string{"S3cr3tScrapePass!", "tok_live_9f8e7d6c5b4a3f2e1d0c", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY3JhcGVyIn0.sig", "rw-pass-123"}

// WaitTargets waits until Prometheus has discovered n active targets.
func (s *Prometheus) WaitTargets(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var data struct {
			Active []json.RawMessage `json:"activeTargets"`
		}
		s.GetJSON(t, "/api/v1/targets", &data)
		if len(data.Active) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d active targets, want %d", len(data.Active), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Digest hashes what the server holds: the config and command-line flags,
// the rules, every target's URL and labels, the TSDB statistics (head
// stats and every per-name and per-label count), every series with all its
// labels, and every sample of every series (an instant query of
// {__name__=~".+"}[10y]). It also returns the number of series in the head
// block.
func (s *Prometheus) Digest(t testing.TB) (string, int64) {
	t.Helper()
	h := sha256.New()
	var cfg struct {
		YAML string `json:"yaml"`
	}
	s.GetJSON(t, "/api/v1/status/config", &cfg)
	fmt.Fprintf(h, "config %q\n", cfg.YAML)
	var tg struct {
		Active []struct {
			ScrapeURL string            `json:"scrapeUrl"`
			Labels    map[string]string `json:"labels"`
			Pool      string            `json:"scrapePool"`
		} `json:"activeTargets"`
		Dropped []json.RawMessage `json:"droppedTargets"`
	}
	s.GetJSON(t, "/api/v1/targets", &tg)
	var targets []string
	for _, a := range tg.Active {
		j, _ := json.Marshal(a.Labels)
		targets = append(targets, a.Pool+" "+a.ScrapeURL+" "+string(j))
	}
	sort.Strings(targets)
	fmt.Fprintf(h, "targets %q dropped %d\n", targets, len(tg.Dropped))
	var ts struct {
		HeadStats struct {
			NumSeries     int64 `json:"numSeries"`
			NumLabelPairs int64 `json:"numLabelPairs"`
			ChunkCount    int64 `json:"chunkCount"`
			MinTime       int64 `json:"minTime"`
			MaxTime       int64 `json:"maxTime"`
		} `json:"headStats"`
	}
	var raw map[string]json.RawMessage
	s.GetJSON(t, "/api/v1/status/tsdb", &raw)
	tsdb, _ := json.Marshal(raw) // map keys sorted
	if err := json.Unmarshal(tsdb, &ts); err != nil {
		t.Fatalf("tsdb status: %v", err)
	}
	fmt.Fprintf(h, "tsdb %s\n", tsdb)
	for _, path := range []string{"/api/v1/status/flags", "/api/v1/rules", "/api/v1/labels"} {
		var v any
		s.GetJSON(t, path, &v)
		j, _ := json.Marshal(v)
		fmt.Fprintf(h, "%s %s\n", path, j)
	}
	all := url.Values{"match[]": {`{__name__=~".+"}`}}.Encode()
	var series []map[string]string
	s.GetJSON(t, "/api/v1/series?"+all, &series)
	var ss []string
	for _, m := range series {
		j, _ := json.Marshal(m)
		ss = append(ss, string(j))
	}
	sort.Strings(ss)
	fmt.Fprintf(h, "series %q\n", ss)
	var samples struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	s.GetJSON(t, "/api/v1/query?"+url.Values{"query": {`{__name__=~".+"}[10y]`}}.Encode(), &samples)
	var sv []string
	for _, r := range samples.Result {
		j, _ := json.Marshal(r)
		sv = append(sv, string(j))
	}
	sort.Strings(sv)
	fmt.Fprintf(h, "samples %q\n", sv)
	if int64(len(series)) != ts.HeadStats.NumSeries {
		t.Logf("prometheus digest: %d series listed, head stats say %d", len(series), ts.HeadStats.NumSeries)
	}
	return hex.EncodeToString(h.Sum(nil)), ts.HeadStats.NumSeries
}
