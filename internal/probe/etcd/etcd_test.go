package etcd

import (
	"fmt"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		port  int
		seed  [][2]string
		want  map[string]int64
		paths []string
	}{
		{"flat", 2379, testenv.EtcdFlat,
			map[string]int64{"/users/": 3, "/sessions/": 1, "/config/": 1, "(root)": 2},
			[]string{"email", "name", "phone", "login_token", "ip", "/config/db_password", "apikey", "_key"}},
		{"one-prefix", 0, testenv.EtcdK8s,
			map[string]int64{"/registry/pods/": 2, "/registry/secrets/": 1, "/registry/": 1},
			[]string{"kind", "data.password", "metadata.name", "/registry/health", "_key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.StartEtcd(t, testenv.EtcdOptions{Port: tc.port})
			s.Seed(t, tc.seed)
			res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
			if want := testenv.EtcdVersion(t); res.Product != "etcd" || res.Version != want {
				t.Errorf("product %q version %q want %q", res.Product, res.Version, want)
			}
			got := map[string]int64{}
			paths := map[string]bool{}
			for _, d := range res.Datasets {
				got[d.Name] = *d.Records
				if d.Sampled != int(*d.Records) {
					t.Errorf("%s: sampled %d of %d", d.Name, d.Sampled, *d.Records)
				}
				for _, r := range d.Sample {
					for _, v := range r.Values {
						paths[v.Path] = true
					}
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("datasets %v, want %v", got, tc.want)
			}
			if d := res.Datasets[0]; *d.Records != 3 && *d.Records != 2 {
				t.Errorf("largest first: %s", d.Name)
			}
			for _, p := range tc.paths {
				if !paths[p] {
					t.Errorf("sample lacks %q (have %v)", p, paths)
				}
			}
		})
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	s := testenv.StartEtcd(t, testenv.EtcdOptions{})
	s.Seed(t, testenv.EtcdFlat)
	s.EnableAuth(t, "root-pass-123")
	res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if len(res.Datasets) != 0 || res.Version != testenv.EtcdVersion(t) {
		t.Fatalf("datasets %v version %q", res.Datasets, res.Version)
	}
	if !strings.Contains(fmt.Sprint(res.Evidence["auth_challenge"]), "user name is empty") {
		t.Errorf("evidence %v", res.Evidence)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http-404", Banner: "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNot Found"},
		{Name: "http-json", Banner: "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 20\r\nConnection: close\r\n\r\n{\"version\":\"1.2.3\"}\n"},
		{Name: "redis", Banner: probetest.RedisError},
	}})
}
