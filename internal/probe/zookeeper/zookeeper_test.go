package zookeeper

import (
	"errors"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartZooKeeper(t, testenv.ZooKeeperOptions{Port: 2181})
	s.Seed(t, "")
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
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
	if after := s.Digest(t); after != before {
		t.Fatalf("tree changed by probe:\n%s\n---\n%s", before, after)
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
			before := s.Digest(t, auth)
			res, err := probetest.Run(t, New(), s.Addr, s.Port)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
				t.Fatalf("status %s auth %s (%s)", res.Status, res.Auth, res.Error)
			}
			for _, d := range res.Datasets {
				if d.Sampled != 0 || d.Records != nil {
					t.Errorf("%s read: %+v", d.Name, d.Dataset)
				}
			}
			if tc.flag != "" && !contains(res.Flags, tc.flag) {
				t.Errorf("flags %v", res.Flags)
			}
			if after := s.Digest(t, auth); after != before {
				t.Fatalf("tree changed by probe:\n%s\n---\n%s", before, after)
			}
		})
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		b := probetest.Banner(t, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		if _, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("memcached", func(t *testing.T) {
		m := testenv.StartMemcached(t, testenv.MemcachedOptions{})
		start := time.Now()
		if _, err := probetest.Run(t, New(), m.Addr, m.Port); !errors.Is(err, probe.ErrNotThisService) {
			t.Fatalf("err = %v", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %s", d)
		}
	})
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
