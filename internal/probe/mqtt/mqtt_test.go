package mqtt

import (
	"fmt"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenBroker(t *testing.T) {
	t.Parallel()
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{Port: 1883})
	s.Seed(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
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
}

func TestProtectedBroker(t *testing.T) {
	t.Parallel()
	s := testenv.StartMosquitto(t, testenv.MosquittoOptions{User: "iot", Password: "iot-pass-123"})
	s.Seed(t)
	res := probetest.Protected(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	if res.Evidence["connack_rc"] != rcNotAuthorized {
		t.Errorf("evidence %v", res.Evidence)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: probetest.Banners(t, "http", "redis", "ssh")})
}
