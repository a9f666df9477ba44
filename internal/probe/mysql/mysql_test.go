package mysql

import (
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenRootWithoutPassword(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{}) // a non-standard port
	s.Seed(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Product != "mariadb" || !strings.HasPrefix(res.Version, "10.11.") {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	want := testenv.MariaDBSeedRows
	probetest.WantTables(t, res, want)
	if len(res.Datasets) != len(want) {
		t.Errorf("%d datasets, want %d (views and system schemas left out)", len(res.Datasets), len(want))
	}
	users := probetest.Dataset(t, res, "shop.users")
	probetest.WantPaths(t, "users", probetest.SamplePaths(users), "email", "name", "password_hash", "id")
	var fields []string
	for _, f := range users.Fields {
		fields = append(fields, f.Name+":"+f.Type)
	}
	if got := strings.Join(fields, ","); !strings.Contains(got, "email:varchar(200)") {
		t.Errorf("users fields %s", got)
	}
	for _, r := range users.Sample {
		for _, v := range r.Values {
			if v.Path == "password_hash" && (len(v.Text) != 60 || !strings.HasPrefix(v.Text, "$2y$10$")) {
				t.Errorf("password_hash value has length %d", len(v.Text))
			}
		}
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{Port: 3306, RootPassword: "Xq7-not-a-default-pw"})
	s.Seed(t)
	res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Product != "mariadb" || !strings.HasPrefix(res.Version, "10.11.") {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	if sv, _ := res.Evidence["server_version"].(string); !strings.Contains(sv, "MariaDB") {
		t.Errorf("server_version evidence %q", sv)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", Banner: probetest.HTTPBadRequestClose},
		{Name: "redis", Banner: probetest.RedisError},
		{Name: "ftp", Banner: probetest.FTPBanner},
		{Name: "postgres", Banner: "E\x00\x00\x00\x08SFATAL\x00\x00"},
	}})
}
