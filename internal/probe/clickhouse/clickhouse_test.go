package clickhouse

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
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{}) // non-standard ports
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)

	t.Run("http", func(t *testing.T) {
		res := probetest.OpenClean(t, New(), s.Addr, s.HTTPPort)
		if res.Product != "clickhouse" || res.Version != "18.16.1" {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		counts := testenv.ClickHouseSeedRows
		for name, n := range counts {
			d := probetest.Dataset(t, res, name)
			if d.Kind != "table" || d.Records == nil || *d.Records != n || d.Bytes == nil || *d.Bytes <= 0 {
				t.Errorf("%s: kind %q records %v bytes %v, want table/%d", name, d.Kind, d.Records, d.Bytes, n)
			}
			if d.Sampled != int(n) {
				t.Errorf("%s: sampled %d, want %d", name, d.Sampled, n)
			}
		}
		contacts := probetest.Dataset(t, res, "crm.contacts")
		if contacts.Records != nil || contacts.Sampled != 7 || !probetest.SamplePaths(contacts)["phone"] {
			t.Errorf("crm.contacts (TinyLog): records %v sampled %d", contacts.Records, contacts.Sampled)
		}
		if v := probetest.Dataset(t, res, "crm.contact_emails"); v.Sampled != 0 || v.Records != nil {
			t.Errorf("view sampled %d records %v", v.Sampled, v.Records)
		}
		users := probetest.Dataset(t, res, "shop.users")
		paths := probetest.SamplePaths(users)
		for _, p := range []string{"id", "email", "name", "password_hash"} {
			if !paths[p] {
				t.Errorf("users sample lacks %q (has %v)", p, paths)
			}
		}
		if len(users.Fields) != 4 || users.Fields[1] != (finding.Field{Name: "email", Type: "String"}) {
			t.Errorf("users fields %v", users.Fields)
		}
	})
	t.Run("native", func(t *testing.T) {
		res, err := probetest.Check(t, New(), s.Addr, s.NativePort)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Version != "18.16.1" {
			t.Fatalf("status %s auth %s version %q (error %q)", res.Status, res.Auth, res.Version, res.Error)
		}
		if res.Evidence["interface"] != "native" || len(res.Datasets) != 0 {
			t.Errorf("evidence %v datasets %d", res.Evidence, len(res.Datasets))
		}
	})
	unchanged()
}

func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{HTTPPort: 8123, Password: "Xq7-not-a-default-pw"})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	for name, port := range map[string]int{"http": s.HTTPPort, "native": s.NativePort} {
		t.Run(name, func(t *testing.T) {
			res := probetest.Protected(t, New(), s.Addr, port)
			if res.Product != "clickhouse" || len(res.Datasets) != 0 {
				t.Errorf("product %q datasets %d", res.Product, len(res.Datasets))
			}
			if code, _ := res.Evidence["exception_code"].(int); code != 194 { // REQUIRED_PASSWORD
				t.Errorf("exception_code %v, want 194", res.Evidence["exception_code"])
			}
		})
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/ping" {
				_, _ = w.Write([]byte("Ok.\n"))
				return
			}
			http.Error(w, "not found", http.StatusNotFound)
		})},
		{Name: "redis", Banner: probetest.RedisError},
		{Name: "mysql", Banner: probetest.MySQLGreeting},
	}})
}
