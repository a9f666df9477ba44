package rsync

import (
	"fmt"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestRsyncd(t *testing.T) {
	open := testenv.StartRsyncd(t, testenv.RsyncOptions{Open: true})
	locked := testenv.StartRsyncd(t, testenv.RsyncOptions{})
	p := New()

	t.Run("open", func(t *testing.T) {
		unchanged := probetest.TreeUnchanged(t, open.Dir, "rsyncd.")
		res := probetest.Open(t, p, open.Addr, open.Port)
		if res.Product != "rsync" || res.Evidence["protocol"] == "" {
			t.Errorf("product %q evidence %v", res.Product, res.Evidence)
		}
		if res.Evidence["modules"] != 2 || fmt.Sprint(res.Evidence["modules_auth_required"]) != "[payroll]" {
			t.Errorf("module evidence %v", res.Evidence)
		}
		ds := map[string]probe.Dataset{}
		for _, d := range res.Datasets {
			ds[d.Name] = d
		}
		want := map[string]int64{"files": 3, "files/backups": 2, "files/pub": 1}
		if len(ds) != len(want) {
			t.Errorf("datasets %v", res.Datasets)
		}
		for name, n := range want {
			d, ok := ds[name]
			if !ok || d.Records == nil || *d.Records != n {
				t.Errorf("%s: %+v, want %d records", name, d.Dataset, n)
			}
		}
		if d := ds["files"]; d.Kind != "module" || d.Bytes == nil || *d.Bytes < 120000 {
			t.Errorf("module dataset %+v", d.Dataset)
		}
		paths := probetest.PathCounts
		if root := paths(ds["files"]); root["email"] != 2 || root["full_name"] != 2 || root["contact"] != 1 {
			t.Errorf("root sample %v (%v)", root, res.Evidence)
		}
		if bk := paths(ds["files/backups"]); bk["password_hash"] != 1 || bk["DB_PASSWORD"] != 1 {
			t.Errorf("backups sample %v (%v)", bk, res.Evidence)
		}
		unchanged()
	})

	t.Run("auth-users", func(t *testing.T) {
		res := probetest.Protected(t, p, locked.Addr, locked.Port)
		if fmt.Sprint(res.Evidence["modules_auth_required"]) != "[payroll exports]" {
			t.Errorf("evidence %v", res.Evidence)
		}
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: probetest.Banners(t, "ftp", "http", "ssh")})
}
