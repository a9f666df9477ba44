package chroma

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// wantClasses are the classes each seeded collection's documents and
// metadata must show.
var wantClasses = map[string][]string{
	"default_database/support_tickets": {"email", "auth_token", "api_key", "person_name", "phone"},
	"research/interview_notes":         {"email"},
}

// checkOpen checks an open server's result: exact collections and counts,
// every record sampled (documents and metadata, no embedding), classes.
func checkOpen(t *testing.T, s *testenv.Chroma, res *probe.Result, version string) {
	t.Helper()
	if res.Product != "chroma" || res.Version != version {
		t.Errorf("product %q version %q, want chroma %s", res.Product, res.Version, version)
	}
	for name, n := range testenv.ChromaSeedRecords {
		d := probetest.Dataset(t, res, name)
		if d.Kind != "collection" || d.Records == nil || *d.Records != n || d.Sampled != int(n) {
			t.Errorf("%s: kind %q records %s sampled %d, want collection/%d", name, d.Kind, probetest.Ptr(d.Records), d.Sampled, n)
		}
		if len(d.Fields) < 2 || d.Fields[0].Name != "embedding" || d.Fields[0].Type != "float32[8]" {
			t.Errorf("%s: fields %v", name, d.Fields)
		}
		paths := probetest.SamplePaths(d)
		probetest.WantPaths(t, name, paths, "id", "document")
		for p := range paths {
			if strings.Contains(p, "embedding") {
				t.Errorf("%s: sampled an embedding (%s)", name, p)
			}
		}
	}
	if len(res.Datasets) != len(testenv.ChromaSeedRecords) {
		t.Errorf("datasets %v", probetest.DatasetNames(res))
	}
	probetest.WantPaths(t, "tickets", probetest.SamplePaths(probetest.Dataset(t, res, "default_database/support_tickets")),
		"metadata.customer_email", "metadata.customer_name")
	probetest.WantClasses(t, "chroma", s.Addr, s.Port, res, wantClasses)
}

// requestLine matches the Rust server's per-request log line.
var requestLine = regexp.MustCompile(`http\.method: ([A-Z]+), http\.uri: ([^,]+),`)

// TestOpenServer: today's Chroma (the Rust server, which has no
// authentication of its own) on a non-standard port is exposed with its
// exact collections, counts and classes; the probe changes nothing and
// the only POST it sends is get.
func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartChroma(t, testenv.ChromaOptions{})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	time.Sleep(200 * time.Millisecond) // the digest's log lines are out
	mark := len(s.Log(t))
	res := probetest.OpenClean(t, New(), s.Addr, s.Port)
	checkOpen(t, s, res, testenv.ChromaAPIVersion)
	if res.Evidence["tenant"] != "default_tenant" || res.Evidence["databases"] != 2 {
		t.Errorf("evidence %v", res.Evidence)
	}
	time.Sleep(200 * time.Millisecond)
	// The requests the server logged during the probe: reads only.
	reqs := map[string]bool{}
	for _, m := range requestLine.FindAllStringSubmatch(s.Log(t)[mark:], -1) {
		if m[1] != "GET" && !(m[1] == "POST" && strings.HasSuffix(m[2], "/get")) {
			t.Errorf("request %s %s", m[1], m[2])
		}
		reqs[m[1]+" "+m[2]] = true
	}
	t.Logf("left behind in the server's log: INFO events of %d requests", len(reqs))
	unchanged()
}

// TestOpenLegacyServer: Chroma 0.6 (the Python server) without
// authentication reads the same.
func TestOpenLegacyServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartChroma(t, testenv.ChromaOptions{Version: testenv.ChromaAuthVersion})
	s.Seed(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	checkOpen(t, s, res, testenv.ChromaAuthVersion)
}

// TestProtectedServer: Chroma's token authentication (0.6, the last
// release whose server has it) refuses the identity: protected, nothing
// listed, nothing changed.
func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartChroma(t, testenv.ChromaOptions{Version: testenv.ChromaAuthVersion, Port: 8000, Token: "Chr0ma-fixture-token"})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	res := probetest.Protected(t, New(), s.Addr, s.Port)
	if res.Version != testenv.ChromaAuthVersion || len(res.Flags) != 0 {
		t.Errorf("version %q flags %v", res.Version, res.Flags)
	}
	if res.Evidence["auth_error"] != "AuthError: Forbidden" {
		t.Errorf("evidence %v", res.Evidence)
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "heartbeat-without-version", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"nanosecond heartbeat":1}`)
		})},
		{Name: "any-json", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `"1.2.3"`)
		})},
		{Name: "redis", Banner: probetest.RedisError},
	}})
}
