package redis

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartRedis(t, testenv.RedisOptions{Port: 6379, Config: []string{"protected-mode no"}})
	s.Seed(t)
	cmdsBefore := s.Commands(t)

	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if want := testenv.RedisVersion(t); res.Product != "redis" || res.Version != want {
		t.Errorf("product %q version %q, want redis %q", res.Product, res.Version, want)
	}
	if res.Evidence["redis_mode"] != "standalone" {
		t.Errorf("evidence %v", res.Evidence)
	}
	want := testenv.RedisSeedKeys
	if len(res.Datasets) != len(want) {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	if res.Datasets[0].Name != "db0" {
		t.Errorf("largest dataset first, got %s", res.Datasets[0].Name)
	}
	for _, d := range res.Datasets {
		if d.Kind != "keyspace" || d.Records == nil || *d.Records != want[d.Name] {
			t.Errorf("dataset %s kind %s records %v, want %d", d.Name, d.Kind, d.Records, want[d.Name])
		}
		if int64(d.Sampled) != want[d.Name] || len(d.Sample) != d.Sampled {
			t.Errorf("dataset %s sampled %d (%d records)", d.Name, d.Sampled, len(d.Sample))
		}
	}
	probetest.WantPaths(t, "redis", probetest.SamplePaths(res.Datasets...),
		"email", "name", "phone", "token", "login_token", "user", "apikey:prod", "mac", "ssid", "model", "emails:newsletter", "ip", "_key")
	readOnly := map[string]bool{"ping": true, "info": true, "select": true, "scan": true, "type": true,
		"strlen": true, "hlen": true, "scard": true, "get": true, "getrange": true, "hgetall": true,
		"hscan": true, "lrange": true, "smembers": true, "sscan": true, "zrange": true, "xrevrange": true,
		"debug": true, "client|list": true}
	for c := range s.Commands(t) {
		if !cmdsBefore[c] && !readOnly[c] {
			t.Errorf("probe ran non-read-only command %q", c)
		}
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		conf      []string
		challenge string
		flag      string
	}{
		{"requirepass", []string{"protected-mode no", "requirepass s3cret-pass"}, "NOAUTH", ""},
		// The default user may PING and see INFO, but not read keys.
		{"acl-noperm", []string{"protected-mode no", "user default on nopass ~* &* -@all +ping +info +select",
			"user admin on >admin-pass ~* &* +@all"}, "NOPERM", "keyspace-visible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.StartRedis(t, testenv.RedisOptions{Config: tt.conf})
			s.User, s.Pass = "admin", "admin-pass"
			if tt.challenge == "NOAUTH" {
				s.User, s.Pass = "", "s3cret-pass"
			}
			s.Seed(t)
			res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest), probetest.ListedUnread())
			if res.Evidence["auth_challenge"] != tt.challenge {
				t.Errorf("evidence %v", res.Evidence)
			}
			if tt.flag != "" && !slices.Contains(res.Flags, tt.flag) {
				t.Errorf("flags %v lack %s", res.Flags, tt.flag)
			}
		})
	}
}

// Protected mode refuses non-loopback clients only (Redis counts all of
// 127.0.0.0/8 as local), so a test server cannot show it here; the reply
// it sends is checked as the server words it.
func TestProtectedModeReply(t *testing.T) {
	msg := "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface."
	res := &probe.Result{}
	done, err := classifyPing(res, value{kind: kindError, str: msg})
	if !done || err != nil || res.Status != finding.StatusProtected || !slices.Contains(res.Flags, "protected-mode") {
		t.Fatalf("done %v err %v result %+v", done, err, res)
	}
}

func TestSentinel(t *testing.T) {
	t.Parallel()
	s := testenv.StartRedis(t, testenv.RedisOptions{Sentinel: true, Config: []string{"protected-mode no"}})
	res, err := probetest.Check(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Evidence["redis_mode"] != "sentinel" || !slices.Contains(res.Flags, "sentinel") {
		t.Fatalf("evidence %v flags %v", res.Evidence, res.Flags)
	}
	if res.Status == finding.StatusProtected || len(res.Datasets) != 0 {
		t.Fatalf("sentinel: status %s datasets %v", res.Status, res.Datasets)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequest},
		{Name: "memcached", Start: func(tb testing.TB) (netip.Addr, int) {
			m := testenv.StartMemcached(tb, testenv.MemcachedOptions{})
			return m.Addr, m.Port
		}},
	}})
}
