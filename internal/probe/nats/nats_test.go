package nats

import (
	"errors"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartNATS(t, testenv.NATSOptions{Port: 4222})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
	if want := testenv.NATSVersion(t); res.Product != "nats-server" || res.Version != want {
		t.Errorf("product %q version %q, want %q", res.Product, res.Version, want)
	}
	if res.Evidence["jetstream"] != true || !contains(res.Flags, "monitoring-open") {
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
	if after := s.Digest(t); after != before {
		t.Fatal("streams changed by probe")
	}
}

func TestTokenAuth(t *testing.T) {
	t.Parallel()
	s := testenv.StartNATS(t, testenv.NATSOptions{Token: "s3cret-token-123"})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || len(res.Datasets) != 0 {
		t.Fatalf("status %s auth %s datasets %v (%s)", res.Status, res.Auth, res.Datasets, res.Error)
	}
	if res.Evidence["auth_required"] != true || res.Version != testenv.NATSVersion(t) {
		t.Errorf("evidence %v version %q", res.Evidence, res.Version)
	}
	if after := s.Digest(t); after != before {
		t.Fatal("streams changed by probe")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http":  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"smtp":  "220 mail.example.com ESMTP\r\n",
		"fake":  "INFO {\"version\":\"1\"}\r\n",
		"redis": "-ERR unknown command\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := probetest.Banner(t, banner)
			if _, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
