package zookeeper

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartZooKeeper(t, testenv.ZooKeeperOptions{Port: 2181})
	s.Seed(t, "")
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(func(tb testing.TB) string { return s.Digest(tb) }))
	if res.Product != "zookeeper" || res.Version != "3.8.0" || res.Evidence["mode"] != "standalone" {
		t.Errorf("product %q version %q evidence %v", res.Product, res.Version, res.Evidence)
	}
	want := map[string][2]int64{"/app": {6, 3}, "/services": {2, 1}}
	if len(res.Datasets) != len(want) || res.Datasets[0].Name != "/app" {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		w := want[d.Name]
		if d.Kind != "path" || d.Records == nil || *d.Records != w[0] || int64(d.Sampled) != w[1] {
			t.Errorf("%s: kind %s records %v sampled %d, want %v", d.Name, d.Kind, d.Records, d.Sampled, w)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	for _, p := range []string{"email", "name", "token", "/app/config/db_password", "ip", "api_key", "_key"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	const auth = "addauth digest admin:admin-pass-123"
	for _, tc := range []struct {
		name string
		acl  []string
		flag string
	}{
		{"subtrees", []string{"setAcl -R /app auth:admin:cdrwa", "setAcl -R /services auth:admin:cdrwa"}, "tree-visible"},
		{"root", []string{"setAcl -R / auth:admin:cdrwa"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.StartZooKeeper(t, testenv.ZooKeeperOptions{})
			s.Seed(t, auth, tc.acl...)
			unchanged := probetest.Unchanged(t, func(tb testing.TB) string { return s.Digest(tb, auth) })
			res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ListedUnread())
			for _, d := range res.Datasets {
				if d.Sampled != 0 || d.Records != nil {
					t.Errorf("%s read: %+v", d.Name, d.Dataset)
				}
			}
			if tc.flag != "" && !slices.Contains(res.Flags, tc.flag) {
				t.Errorf("flags %v", res.Flags)
			}
			unchanged()
		})
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequest},
		{Name: "memcached", Within: time.Second, Start: func(tb testing.TB) (netip.Addr, int) {
			m := testenv.StartMemcached(tb, testenv.MemcachedOptions{})
			return m.Addr, m.Port
		}},
	}})
}
