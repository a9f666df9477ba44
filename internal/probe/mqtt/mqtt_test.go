package mqtt

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenBroker(t *testing.T) {
	t.Parallel()
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{Port: 1883})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
	if want := testenv.MosquittoVersion(t); res.Product != "mosquitto" || res.Version != want {
		t.Errorf("product %q version %q, want mosquitto %q (evidence %v)", res.Product, res.Version, want, res.Evidence)
	}
	want := testenv.MosquittoSeedTopics
	got := map[string]int64{}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		if d.Kind != "topic" || d.Records == nil {
			t.Fatalf("dataset %+v", d.Dataset)
		}
		got[d.Name] = *d.Records
		if int64(d.Sampled) != *d.Records {
			t.Errorf("%s: sampled %d of %d", d.Name, d.Sampled, *d.Records)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || res.Datasets[0].Name != "users/+/profile" {
		t.Errorf("datasets %v, want %v", got, want)
	}
	for _, p := range []string{"email", "name", "phone", "mac", "ssid", "model", "token", "config/broker", "_topic"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
	if res.Evidence["retained_messages"] == nil {
		t.Errorf("evidence %v", res.Evidence)
	}
	if after := s.Digest(t); after != before {
		t.Fatalf("retained messages changed:\n%s\n---\n%s", before, after)
	}
}

func TestProtectedBroker(t *testing.T) {
	t.Parallel()
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{User: "iot", Password: "iot-pass-123"})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || len(res.Datasets) != 0 {
		t.Fatalf("status %s auth %s datasets %v", res.Status, res.Auth, res.Datasets)
	}
	if res.Evidence["connack_rc"] != rcNotAuthorized {
		t.Errorf("evidence %v", res.Evidence)
	}
	if after := s.Digest(t); after != before {
		t.Fatal("retained messages changed")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http":  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"redis": "-ERR unknown command\r\n",
		"ssh":   "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
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
