package influxdb

import (
	"net/http"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartInflux(t, testenv.InfluxOptions{}) // a non-standard port
	s.Seed(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Product != "influxdb" || res.Version != "1.6.7~rc0" {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	want := testenv.InfluxSeedPoints
	for name, n := range want {
		d := probetest.Dataset(t, res, name)
		if d.Kind != "measurement" || d.Records == nil || *d.Records != n || d.Sampled != int(n) {
			t.Errorf("%s: kind %q records %v sampled %d, want measurement/%d", name, d.Kind, d.Records, d.Sampled, n)
		}
	}
	if len(res.Datasets) != len(want) {
		t.Errorf("%d datasets, want %d", len(res.Datasets), len(want))
	}
	logins := probetest.Dataset(t, res, "telemetry.logins")
	probetest.WantPaths(t, "logins", probetest.SamplePaths(logins), "time", "email", "name", "login_token", "wifi_ssid", "device_model")
	types := map[string]string{}
	for _, f := range logins.Fields {
		types[f.Name] = f.Type
	}
	if types["email"] != "string" || types["device_model"] != "tag" {
		t.Errorf("logins fields %v", logins.Fields)
	}
}

func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartInflux(t, testenv.InfluxOptions{Port: 8086, Auth: true})

	// Authentication on, no user yet: protected, but anyone could make
	// himself admin.
	res, err := probetest.Check(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || len(res.Flags) != 1 || res.Flags[0] != "no-admin-user" {
		t.Errorf("no admin: status %s flags %v", res.Status, res.Flags)
	}

	s.CreateAdmin(t, "admin", "Xq7-not-a-default-pw")
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	res = probetest.Protected(t, New(), s.Addr, s.Port)
	if res.Version != "1.6.7~rc0" || len(res.Datasets) != 0 || len(res.Flags) != 0 {
		t.Errorf("version %q datasets %d flags %v", res.Version, len(res.Datasets), res.Flags)
	}
	if res.Evidence["auth_error"] != "unable to parse authentication credentials" {
		t.Errorf("auth_error %v", res.Evidence["auth_error"])
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent) // a /ping answer, but no InfluxDB header
		})},
		{Name: "redis", Banner: probetest.RedisError},
	}})
}
