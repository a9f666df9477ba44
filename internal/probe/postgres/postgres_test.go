package postgres

import (
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenTrustServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "trust"}) // a non-standard port
	s.Seed(t)

	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Product != "postgresql" || !strings.HasPrefix(res.Version, "15.") {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	if res.Evidence["auth_method"] != "trust" {
		t.Errorf("auth_method evidence %v", res.Evidence["auth_method"])
	}
	probetest.WantTables(t, res, testenv.PostgresSeedRows)
	if d := probetest.Dataset(t, res, "postgres.public.fresh"); d.Records != nil {
		t.Errorf("never analyzed table: records %d, want unknown", *d.Records)
	}
	users := probetest.Dataset(t, res, "shop.public.users")
	probetest.WantPaths(t, "users", probetest.SamplePaths(users), "email", "name", "password_hash", "id")
	var fields []string
	for _, f := range users.Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	if got := strings.Join(fields, ","); !strings.Contains(got, "email:text") || !strings.Contains(got, "id:integer") {
		t.Errorf("users fields %s", got)
	}
	for _, r := range users.Sample {
		for _, v := range r.Values {
			if v.Path == "email" && !strings.HasSuffix(v.Text, "@example.com") {
				t.Errorf("email value %q", v.Text)
			}
		}
	}
	for k, v := range res.Evidence {
		if s, ok := v.(string); ok && strings.Contains(s, "@example") {
			t.Errorf("evidence %s carries a sampled value", k)
		}
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, hba, method, code string
	}{
		{"scram", "scram-sha-256", "scram-sha-256", ""},
		{"hba-reject", "reject", "", "28000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port := 5432
			if tc.hba == "reject" {
				port = 0
			}
			s := testenv.StartPostgres(t, testenv.PostgresOptions{Port: port, HBA: tc.hba, Password: "Xq7-not-a-default-pw"})
			s.Seed(t)
			res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
			if tc.method != "" && res.Evidence["auth_method"] != tc.method {
				t.Errorf("auth_method %v, want %s", res.Evidence["auth_method"], tc.method)
			}
			if tc.method != "" && res.Evidence["default_credentials"] != "rejected" {
				t.Errorf("default_credentials %v", res.Evidence["default_credentials"])
			}
			if tc.code != "" && res.Evidence["startup_error_code"] != tc.code {
				t.Errorf("startup_error_code %v, want %s", res.Evidence["startup_error_code"], tc.code)
			}
		})
	}
}

func TestDefaultCredentials(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "md5", Password: "postgres"})
	s.Seed(t)
	res, err := probetest.Check(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials {
		t.Fatalf("status %s auth %s, want exposed/default-credentials (error %q)", res.Status, res.Auth, res.Error)
	}
	if res.Evidence["auth_method"] != "md5" {
		t.Errorf("auth_method %v", res.Evidence["auth_method"])
	}
	if !strings.HasPrefix(res.Version, "15.") {
		t.Errorf("version %q", res.Version)
	}
	d := probetest.Dataset(t, res, "shop.public.users")
	if d.Records == nil || *d.Records != 25 || d.Sampled != 25 || !probetest.SamplePaths(d)["email"] {
		t.Errorf("users: records %v sampled %d paths %v", d.Records, d.Sampled, probetest.SamplePaths(d))
	}
}

// TestTLSOnlyTrust: pg_hba.conf allows trust only over TLS; the plain
// startup is refused with "no encryption", the prober retries over TLS.
func TestTLSOnlyTrust(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "ssl-trust"})
	s.Seed(t)
	res, err := probetest.Check(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || !res.TLS {
		t.Fatalf("status %s auth %s tls %v, want exposed/none over TLS (error %q)", res.Status, res.Auth, res.TLS, res.Error)
	}
	if res.Evidence["startup_error_code"] != "28000" {
		t.Errorf("startup_error_code %v", res.Evidence["startup_error_code"])
	}
	if d := probetest.Dataset(t, res, "shop.public.users"); d.Records == nil || *d.Records != 25 || d.Sampled != 25 {
		t.Errorf("users: records %v sampled %d", d.Records, d.Sampled)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequestClose},
		{Name: "redis", Banner: probetest.RedisError},
		{Name: "mysql", Banner: probetest.MySQLGreeting},
	}})
}
