package hazelcast

import (
	"os"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedHazelcast()
	os.Exit(code)
}

func TestOpenMember(t *testing.T) {
	t.Parallel()
	h := testenv.SharedHazelcast(t)
	m := h.Members[0]
	res := probetest.OpenClean(t, New(), m.Addr, m.Port, probetest.ReadOnly(h.Digest(0)))
	if res.Product != "hazelcast" || res.Version != "5.5.0" {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	if res.Evidence["maps"] != 3 || res.Evidence["partition_count"] != int32(271) {
		t.Errorf("evidence %v", res.Evidence)
	}
	if got := probetest.DatasetNames(res); len(got) != 3 {
		t.Errorf("maps %v", got)
	}
	for name, n := range testenv.HazelcastSeedEntries {
		d := probetest.Dataset(t, res, name)
		want := min(int(n), probetest.Budget().SampleRecords)
		if d.Kind != "map" || d.Records == nil || *d.Records != n || d.Sampled != want || len(d.Flags) != 0 {
			t.Errorf("%s: kind %q records %s sampled %d flags %v, want map/%d sampled %d", name, d.Kind, probetest.Ptr(d.Records), d.Sampled, d.Flags, n, want)
		}
	}
	probetest.WantPaths(t, "sessions", probetest.SamplePaths(probetest.Dataset(t, res, "sessions")), "_key", "email", "name", "session_token", "wifi_ssid", "seq")
	probetest.WantPaths(t, "inventory", probetest.SamplePaths(probetest.Dataset(t, res, "inventory")), "_key", "value")
	f := probetest.ToFinding(t, "hazelcast", probe.Target{Addr: m.Addr, Port: m.Port}, res)
	classes := map[string][]string{}
	for _, d := range f.Datasets {
		for _, c := range d.Classes {
			classes[d.Name] = append(classes[d.Name], c.Class)
		}
	}
	for ds, want := range map[string][]string{"sessions": {"email", "auth_token", "wifi_ssid"}, "customers": {"email", "auth_token", "username", "device_model"}} {
		for _, c := range want {
			if !slices.Contains(classes[ds], c) {
				t.Errorf("%s classes %v lack %s", ds, classes[ds], c)
			}
		}
	}
	if len(classes["inventory"]) != 0 {
		t.Errorf("inventory classes %v", classes["inventory"])
	}
}

// TestProtectedMember: open-source Hazelcast has no member security (that
// is Enterprise); its one gate is the cluster name. A member whose cluster
// name is not the default rejects the client's authentication in its own
// protocol (credentials-failed): protected, nothing listed, unchanged.
func TestProtectedMember(t *testing.T) {
	t.Parallel()
	h := testenv.SharedHazelcast(t)
	m := h.Members[1]
	res := probetest.Protected(t, New(), m.Addr, m.Port, probetest.ReadOnly(h.Digest(1)))
	if res.Evidence["auth_status"] != "credentials-failed" || res.Evidence["cluster_name_tried"] != "dev" {
		t.Errorf("evidence %v", res.Evidence)
	}
	t.Logf("a rejected client sees: version %q, evidence %v", res.Version, res.Evidence)
}

// TestLimits: on the real member, one listed map and a sample budget
// smaller than one entry stay exposed and say what they cut.
func TestLimits(t *testing.T) {
	t.Parallel()
	h := testenv.SharedHazelcast(t)
	m := h.Members[0]
	unchanged := probetest.Unchanged(t, h.Digest(0))
	res := probetest.Exposed(t, New(), m.Addr, m.Port, func(b *probe.Budget) { b.MaxListed = 1 }, probe.FlagDatasetsTruncated)
	if len(res.Datasets) != 1 {
		t.Errorf("listed %v", probetest.DatasetNames(res))
	}
	res = probetest.Flagged(t, New(), m.Addr, m.Port, func(b *probe.Budget) { b.SampleBytes = 40 }, probe.FlagRecordTooLarge)
	res = probetest.Flagged(t, New(), m.Addr, m.Port, func(b *probe.Budget) { b.SampleBytes = 600; b.SampleRecords = 50 }, probe.FlagSampleTruncated)
	for _, d := range res.Datasets {
		if d.Sampled >= int(*d.Records) && d.Name != "inventory" {
			t.Errorf("%s sampled %d of %d under a 600-byte budget", d.Name, d.Sampled, *d.Records)
		}
	}
	res = probetest.Probed(t, New(), m.Addr, m.Port, func(b *probe.Budget) { b.SampleRecords = 100 })
	for name, n := range testenv.HazelcastSeedEntries {
		if d := probetest.Dataset(t, res, name); d.Sampled != int(n) {
			t.Errorf("%s: sampled %d of %d with room for all", name, d.Sampled, n)
		}
	}
	unchanged()
	if res.Status != finding.StatusExposed {
		t.Errorf("status %s", res.Status)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() },
		NotThis: probetest.Banners(t, "http", "redis", "ssh", "smtp", "mysql")})
}
