package influxdb

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func dataset(t *testing.T, res *probe.Result, name string) probe.Dataset {
	t.Helper()
	var names []string
	for _, d := range res.Datasets {
		if d.Name == name {
			return d
		}
		names = append(names, d.Name)
	}
	t.Fatalf("dataset %q not found in %v", name, names)
	return probe.Dataset{}
}

func samplePaths(d probe.Dataset) map[string]bool {
	paths := map[string]bool{}
	for _, r := range d.Sample {
		for _, v := range r.Values {
			paths[v.Path] = true
		}
	}
	return paths
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartInflux(t, testenv.InfluxOptions{}) // a non-standard port
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status %s auth %s, want exposed/none (error %q)", res.Status, res.Auth, res.Error)
	}
	if res.Error != "" {
		t.Errorf("error: %s", res.Error)
	}
	if res.Product != "influxdb" || res.Version != "1.6.7~rc0" {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	want := testenv.InfluxSeedPoints
	for name, n := range want {
		d := dataset(t, res, name)
		if d.Kind != "measurement" || d.Records == nil || *d.Records != n || d.Sampled != int(n) {
			t.Errorf("%s: kind %q records %v sampled %d, want measurement/%d", name, d.Kind, d.Records, d.Sampled, n)
		}
	}
	if len(res.Datasets) != len(want) {
		t.Errorf("%d datasets, want %d", len(res.Datasets), len(want))
	}
	logins := dataset(t, res, "telemetry.logins")
	paths := samplePaths(logins)
	for _, p := range []string{"time", "email", "name", "login_token", "wifi_ssid", "device_model"} {
		if !paths[p] {
			t.Errorf("logins sample lacks %q (has %v)", p, paths)
		}
	}
	types := map[string]string{}
	for _, f := range logins.Fields {
		types[f.Name] = f.Type
	}
	if types["email"] != "string" || types["device_model"] != "tag" {
		t.Errorf("logins fields %v", logins.Fields)
	}
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartInflux(t, testenv.InfluxOptions{Port: 8086, Auth: true})

	// Authentication on, no user yet: protected, but anyone could make
	// himself admin.
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || len(res.Flags) != 1 || res.Flags[0] != "no-admin-user" {
		t.Errorf("no admin: status %s flags %v", res.Status, res.Flags)
	}

	s.CreateAdmin(t, "admin", "Xq7-not-a-default-pw")
	s.Seed(t)
	before := s.Digest(t)
	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s auth %s, want protected/required (error %q)", res.Status, res.Auth, res.Error)
	}
	if res.Version != "1.6.7~rc0" || len(res.Datasets) != 0 || len(res.Flags) != 0 {
		t.Errorf("version %q datasets %d flags %v", res.Version, len(res.Datasets), res.Flags)
	}
	if res.Evidence["auth_error"] != "unable to parse authentication credentials" {
		t.Errorf("auth_error %v", res.Evidence["auth_error"])
	}
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent) // a /ping answer, but no InfluxDB header
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	if _, err := probetest.Run(t, New(), addr, l.Addr().(*net.TCPAddr).Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("http server: err %v, want not-this-service", err)
	}
	b := probetest.Banner(t, "-ERR unknown command\r\n")
	if _, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("redis banner: err %v, want not-this-service", err)
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}
