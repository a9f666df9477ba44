package mongodb

import (
	"net/http"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{Port: 27017})
	s.Seed(t)
	res := probetest.Open(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Product != "ferretdb" || res.Version != "1.24.2" {
		t.Errorf("product %q version %q, want ferretdb 1.24.2", res.Product, res.Version)
	}
	if res.Evidence["mongodb_compatible_version"] == "" || res.Evidence["max_wire_version"] == nil {
		t.Errorf("evidence lacks wire facts: %v", res.Evidence)
	}
	want := testenv.FerretSeedDocs
	got := map[string]probe.Dataset{}
	for _, d := range res.Datasets {
		got[d.Name] = d
	}
	for name, n := range want {
		d, ok := got[name]
		if !ok {
			t.Errorf("dataset %s missing (have %v)", name, res.Datasets)
			continue
		}
		if d.Kind != "collection" || d.Records == nil || *d.Records != n {
			t.Errorf("%s: kind %q records %v, want collection %d", name, d.Kind, d.Records, n)
		}
		if d.Sampled != int(n) || len(d.Sample) != int(n) {
			t.Errorf("%s: sampled %d (%d records), want %d", name, d.Sampled, len(d.Sample), n)
		}
	}
	if len(res.Datasets) != len(want) {
		t.Errorf("got %d datasets, want %d", len(res.Datasets), len(want))
	}
	paths := probetest.SamplePaths(got["crm.customers"])
	probetest.WantPaths(t, "sample", paths, "name", "email", "login_token", "address.city", "devices.mac", "created", "_id")
}

func TestSampleBudget(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{})
	s.Seed(t)
	res := probetest.Probed(t, New(), s.Addr, s.Port, func(b *probe.Budget) {
		b.SampleRecords = 4
		b.MaxDatasets = 1
	})
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 0 {
			sampled++
			if d.Name != "crm.customers" || d.Sampled != 4 {
				t.Errorf("sampled %s with %d records, want crm.customers with 4", d.Name, d.Sampled)
			}
		}
	}
	if sampled != 1 {
		t.Errorf("%d datasets sampled, want 1 (the largest)", sampled)
	}
}

func TestProtectedServer(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{Auth: true})
	s.Seed(t)
	res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Evidence["auth_error_code"] != int32(codeUnauthorized) {
		t.Errorf("evidence %v, want auth error 13", res.Evidence)
	}
	t.Logf("protected: product %s version %q evidence %v", res.Product, res.Version, res.Evidence)
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("hello"))
		})},
		{Name: "banner", Banner: probetest.RedisError},
	}})
}
