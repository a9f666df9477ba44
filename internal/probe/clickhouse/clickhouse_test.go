package clickhouse

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
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{}) // non-standard ports
	s.Seed(t)
	before := s.Digest(t)

	t.Run("http", func(t *testing.T) {
		res, err := probetest.Run(t, New(), s.Addr, s.HTTPPort)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
			t.Fatalf("status %s auth %s, want exposed/none (error %q)", res.Status, res.Auth, res.Error)
		}
		if res.Error != "" {
			t.Errorf("error: %s", res.Error)
		}
		if res.Product != "clickhouse" || res.Version != "18.16.1" {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		counts := testenv.ClickHouseSeedRows
		for name, n := range counts {
			d := dataset(t, res, name)
			if d.Kind != "table" || d.Records == nil || *d.Records != n || d.Bytes == nil || *d.Bytes <= 0 {
				t.Errorf("%s: kind %q records %v bytes %v, want table/%d", name, d.Kind, d.Records, d.Bytes, n)
			}
			if d.Sampled != int(n) {
				t.Errorf("%s: sampled %d, want %d", name, d.Sampled, n)
			}
		}
		contacts := dataset(t, res, "crm.contacts")
		if contacts.Records != nil || contacts.Sampled != 7 || !samplePaths(contacts)["phone"] {
			t.Errorf("crm.contacts (TinyLog): records %v sampled %d", contacts.Records, contacts.Sampled)
		}
		if v := dataset(t, res, "crm.contact_emails"); v.Sampled != 0 || v.Records != nil {
			t.Errorf("view sampled %d records %v", v.Sampled, v.Records)
		}
		users := dataset(t, res, "shop.users")
		paths := samplePaths(users)
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
		res, err := probetest.Run(t, New(), s.Addr, s.NativePort)
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
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartClickHouse(t, testenv.ClickHouseOptions{HTTPPort: 8123, Password: "Xq7-not-a-default-pw"})
	s.Seed(t)
	before := s.Digest(t)
	for name, port := range map[string]int{"http": s.HTTPPort, "native": s.NativePort} {
		t.Run(name, func(t *testing.T) {
			res, err := probetest.Run(t, New(), s.Addr, port)
			if err != nil {
				t.Fatalf("probe: %v", err)
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
				t.Fatalf("status %s auth %s, want protected/required (error %q)", res.Status, res.Auth, res.Error)
			}
			if res.Product != "clickhouse" || len(res.Datasets) != 0 {
				t.Errorf("product %q datasets %d", res.Product, len(res.Datasets))
			}
			if code, _ := res.Evidence["exception_code"].(int); code != 194 { // REQUIRED_PASSWORD
				t.Errorf("exception_code %v, want 194", res.Evidence["exception_code"])
			}
		})
	}
	if after := s.Digest(t); after != before {
		t.Errorf("server state changed by the probe")
	}
}

// TestNotThisService runs a real HTTP server that even answers /ping with
// "Ok." but is not ClickHouse.
func TestNotThisService(t *testing.T) {
	t.Parallel()
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			_, _ = w.Write([]byte("Ok.\n"))
			return
		}
		http.Error(w, "not found", http.StatusNotFound)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port
	_, err = probetest.Run(t, New(), addr, port)
	if !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("err %v, want not-this-service", err)
	}
	for name, b := range map[string]string{"redis": "-ERR unknown command\r\n", "mysql": "\x4a\x00\x00\x00\x0a5.7.44\x00"} {
		t.Run(name, func(t *testing.T) {
			s := probetest.Banner(t, b)
			if _, err := probetest.Run(t, New(), s.Addr, s.Port); !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err %v, want not-this-service", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}
