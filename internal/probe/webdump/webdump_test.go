package webdump

import (
	"bytes"
	"compress/gzip"
	"errors"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func datasetByName(res *probe.Result) map[string]probe.Dataset {
	m := map[string]probe.Dataset{}
	for _, d := range res.Datasets {
		m[d.Name] = d
	}
	return m
}

// nginxFleet is one real nginx with three sites: an open one with dumps
// and autoindex, a catch-all that answers index.html for every path, and
// one behind basic auth.
type nginxFleet struct {
	Open, CatchAll, Auth testenv.NginxSite
	OpenRoot             string
	Version              string
}

func startNginx(t *testing.T) *nginxFleet {
	t.Helper()
	dir := t.TempDir()
	f := &nginxFleet{OpenRoot: filepath.Join(dir, "open"), Version: testenv.NginxVersion(t)}
	f.Open = testenv.DumpSite(t, f.OpenRoot, netip.Addr{}, 0, false)
	f.CatchAll = testenv.CatchAllSite(t, filepath.Join(dir, "catchall"), netip.Addr{}, 0)
	f.Auth = testenv.DumpSite(t, filepath.Join(dir, "auth"), netip.Addr{}, 0, true)
	testenv.Nginx(t, dir, f.Open, f.CatchAll, f.Auth)
	return f
}

func TestNginx(t *testing.T) {
	f := startNginx(t)
	p := New()

	t.Run("open", func(t *testing.T) {
		unchanged := probetest.TreeUnchanged(t, f.OpenRoot)
		res := probetest.Open(t, p, f.Open.Addr, f.Open.Port)
		if res.Product != "nginx" || res.Version != f.Version {
			t.Errorf("product %q %q, want nginx %q", res.Product, res.Version, f.Version)
		}
		if n := res.Evidence["requests"].(int); n > MaxRequests {
			t.Errorf("%d requests, max %d", n, MaxRequests)
		}
		ds := datasetByName(res)
		wantRecords := testenv.DumpSiteRecords
		for name, want := range wantRecords {
			d, ok := ds[name]
			if !ok {
				t.Errorf("dataset %s missing (have %v)", name, keys(ds))
				continue
			}
			if d.Records == nil || *d.Records != want {
				t.Errorf("%s: records %v, want %d", name, d.Records, want)
			}
			if d.Kind != "path" {
				t.Errorf("%s: kind %q", name, d.Kind)
			}
		}
		for _, name := range []string{"/.git/HEAD", "/.git/config", "/dump.rdb"} {
			if _, ok := ds[name]; !ok {
				t.Errorf("dataset %s missing", name)
			}
		}
		for _, name := range []string{"/backup.sql", "/dump.sql"} {
			if _, ok := ds[name]; ok {
				t.Errorf("dataset %s reported but not served", name)
			}
		}
		if d := ds["/backup.sql.gz"]; d.Bytes == nil || *d.Bytes <= 0 {
			t.Errorf("backup.sql.gz bytes %v", d.Bytes)
		}
		wantPaths := map[string][]string{
			"/.env":             {"DB_PASSWORD", "ADMIN_EMAIL", "AWS_SECRET_ACCESS_KEY"},
			"/.aws/credentials": {"aws_access_key_id", "aws_secret_access_key"},
			"/.git/config":      {"remote.origin.url"},
			"/db.sql":           {"customers.email", "customers.phone"},
			"/backup.sql.gz":    {"users.email", "users.full_name", "users.password_hash"},
			"/":                 {"file_name"},
		}
		for name, paths := range wantPaths {
			got := probetest.SamplePaths(ds[name])
			for _, p := range paths {
				if !got[p] {
					t.Errorf("%s: sample lacks %s (has %v)", name, p, got)
				}
			}
		}
		if d := ds["/backup.sql.gz"]; len(d.Fields) != 4 || d.Sampled != 3 {
			t.Errorf("backup.sql.gz fields %v sampled %d", d.Fields, d.Sampled)
		} else if v := d.Sample[1].Values[1].Text; v != "bob.o'neil@example.org" {
			t.Errorf("escaped value %q", v)
		}
		if res.Evidence["git_head"] != "refs/heads/main" {
			t.Errorf("git_head evidence %v", res.Evidence["git_head"])
		}
		unchanged()
	})

	t.Run("catch-all", func(t *testing.T) {
		res, err := probetest.Run(t, p, f.CatchAll.Addr, f.CatchAll.Port)
		if err == nil {
			t.Fatalf("catch-all index page reported: %s %+v", res.Status, res.Datasets)
		}
		if !isNotThis(err) {
			t.Fatalf("err %v, want not-this-service", err)
		}
	})

	t.Run("protected", func(t *testing.T) {
		res := probetest.Protected(t, p, f.Auth.Addr, f.Auth.Port)
		if res.Product != "nginx" {
			t.Errorf("product %q", res.Product)
		}
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "smtp", Banner: "220 mail.example.com ESMTP Exim 4.96\r\n"},
	}})
}

func TestGzipBomb(t *testing.T) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 4 { // 4 MiB of zeros, ~4 KiB compressed
		_, _ = zw.Write(zero)
	}
	_ = zw.Close()
	out, complete, ok := gunzipPrefix(gz.Bytes(), 1<<20)
	if !ok || complete || len(out) != 1<<20 {
		t.Fatalf("bomb: ok %v complete %v len %d", ok, complete, len(out))
	}
	// A cut stream yields what came before the cut.
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	_, _ = zw.Write([]byte(strings.Repeat(testenv.DumpMySQL, 50)))
	_ = zw.Close()
	out, complete, ok = gunzipPrefix(small.Bytes()[:small.Len()/2], 1<<20)
	if !ok || complete || len(out) == 0 {
		t.Fatalf("cut: ok %v complete %v len %d", ok, complete, len(out))
	}
}

func isNotThis(err error) bool {
	return errors.Is(err, probe.ErrNotThisService)
}

func keys(m map[string]probe.Dataset) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
