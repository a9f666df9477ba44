package mysql

import (
	"errors"
	"strings"
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

func TestOpenRootWithoutPassword(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{}) // a non-standard port
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
	if res.Product != "mariadb" || !strings.HasPrefix(res.Version, "10.11.") {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	want := testenv.MariaDBSeedRows
	for name, n := range want {
		d := dataset(t, res, name)
		if d.Kind != "table" || d.Records == nil || *d.Records != n {
			t.Errorf("%s: kind %q records %v, want table/%d", name, d.Kind, d.Records, n)
		}
		if d.Bytes == nil || *d.Bytes <= 0 {
			t.Errorf("%s: bytes %v", name, d.Bytes)
		}
		if d.Sampled != int(n) || len(d.Sample) != int(n) {
			t.Errorf("%s: sampled %d (%d records), want %d", name, d.Sampled, len(d.Sample), n)
		}
	}
	if len(res.Datasets) != len(want) {
		t.Errorf("%d datasets, want %d (views and system schemas left out)", len(res.Datasets), len(want))
	}
	users := dataset(t, res, "shop.users")
	paths := samplePaths(users)
	for _, p := range []string{"email", "name", "password_hash", "id"} {
		if !paths[p] {
			t.Errorf("users sample lacks %q (has %v)", p, paths)
		}
	}
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
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	s := testenv.StartMariaDB(t, testenv.MariaDBOptions{Port: 3306, RootPassword: "Xq7-not-a-default-pw"})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s auth %s, want protected/required (error %q)", res.Status, res.Auth, res.Error)
	}
	if len(res.Datasets) != 0 {
		t.Errorf("protected server gave %d datasets", len(res.Datasets))
	}
	if res.Product != "mariadb" || !strings.HasPrefix(res.Version, "10.11.") {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	if sv, _ := res.Evidence["server_version"].(string); !strings.Contains(sv, "MariaDB") {
		t.Errorf("server_version evidence %q", sv)
	}
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	banners := map[string]string{
		"http":     "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"redis":    "-ERR unknown command\r\n",
		"ftp":      "220 (vsFTPd 3.0.3)\r\n",
		"postgres": "E\x00\x00\x00\x08SFATAL\x00\x00",
	}
	for name, b := range banners {
		t.Run(name, func(t *testing.T) {
			s := probetest.Banner(t, b)
			_, err := probetest.Run(t, New(), s.Addr, s.Port)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err %v, want not-this-service", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}
