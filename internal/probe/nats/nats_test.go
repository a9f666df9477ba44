package nats

import (
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartNATS(t, testenv.NATSOptions{Port: 4222})
	s.Seed(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if want := testenv.NATSVersion(t); res.Product != "nats-server" || res.Version != want {
		t.Errorf("product %q version %q, want %q", res.Product, res.Version, want)
	}
	if res.Evidence["jetstream"] != true || !slices.Contains(res.Flags, "monitoring-open") {
		t.Errorf("evidence %v flags %v", res.Evidence, res.Flags)
	}
	want := testenv.NATSSeedStreams
	if len(res.Datasets) != 2 || res.Datasets[0].Name != "USERS" {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		if d.Kind != "stream" || d.Records == nil || *d.Records != want[d.Name] || d.Sampled != int(want[d.Name]) || d.Bytes == nil {
			t.Errorf("dataset %+v", d.Dataset)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	for _, p := range []string{"email", "name", "phone", "login_token", "ip", "_subject"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
}

func TestTokenAuth(t *testing.T) {
	t.Parallel()
	s := testenv.StartNATS(t, testenv.NATSOptions{Token: "s3cret-token-123"})
	s.Seed(t)
	res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Evidence["auth_required"] != true || res.Version != testenv.NATSVersion(t) {
		t.Errorf("evidence %v version %q", res.Evidence, res.Version)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequest},
		{Name: "smtp", Banner: probetest.SMTPBanner},
		{Name: "fake", Banner: "INFO {\"version\":\"1\"}\r\n"},
		{Name: "redis", Banner: probetest.RedisError},
	}})
}
