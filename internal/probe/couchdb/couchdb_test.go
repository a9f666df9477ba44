package couchdb

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// probeRequests are the request lines pouchdb-server logged since mark
// (the log's length before the probe): "GET /_all_dbs?limit=1001 200".
func probeRequests(t *testing.T, s *testenv.Pouch, mark int) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(s.Log(t)[mark:], "\n") {
		if _, req, ok := strings.Cut(line, " - - "); ok {
			out = append(out, req)
		}
	}
	return out
}

// TestOpenServer: an admin-party pouchdb-server on a non-standard port is
// exposed with its exact databases, counts and classes, _users and
// _replicator flagged, and the probe changes nothing: the data digest is
// the same and the server logged only GET requests.
func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartPouch(t, testenv.PouchOptions{})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	mark := len(s.WaitLog(t, "GET /_users/org.couchdb.user:analyst"))
	res := probetest.OpenClean(t, New(), s.Addr, s.Port)
	if res.Product != "pouchdb-server" || res.Version != testenv.PouchVersion {
		t.Errorf("product %q version %q", res.Product, res.Version)
	}
	if res.Evidence["vendor"] != "PouchDB authors" {
		t.Errorf("vendor %v", res.Evidence["vendor"])
	}
	for _, f := range []string{FlagAdminParty, FlagUsersReadable, FlagReplicatorReadable} {
		if !slices.Contains(res.Flags, f) {
			t.Errorf("flags %v lack %s", res.Flags, f)
		}
	}
	// Sampled: every document but design documents (_users and
	// _replicator each hold one).
	sampled := map[string]int{"customers": 12, "devices": 5, "_users": 1, "_replicator": 0}
	for name, n := range testenv.PouchSeedDocs {
		d := probetest.Dataset(t, res, name)
		if d.Kind != "database" || d.Records == nil || *d.Records != n || d.Sampled != sampled[name] {
			t.Errorf("%s: kind %q records %s sampled %d, want database/%d/%d", name, d.Kind, probetest.Ptr(d.Records), d.Sampled, n, sampled[name])
		}
		if d.Bytes == nil || *d.Bytes <= 0 {
			t.Errorf("%s: bytes %s", name, probetest.Ptr(d.Bytes))
		}
	}
	if len(res.Datasets) != len(testenv.PouchSeedDocs) {
		t.Errorf("datasets %v", probetest.DatasetNames(res))
	}
	probetest.WantPaths(t, "customers", probetest.SamplePaths(probetest.Dataset(t, res, "customers")),
		"_id", "email", "user_name", "account_token", "camera_token", "wifi_ssid")
	if p := probetest.SamplePaths(probetest.Dataset(t, res, "customers")); p["_rev"] {
		t.Error("revision kept in the sample")
	}
	probetest.WantClasses(t, "couchdb", s.Addr, s.Port, res, map[string][]string{
		"customers": {"email", "auth_token", "username"}, "devices": {"email", "auth_token"}, "_users": {"password"}})
	s.WaitLog(t, "/devices/_all_docs?include_docs=true&limit=")
	reqs := probeRequests(t, s, mark)
	if len(reqs) == 0 {
		t.Fatal("the probe left no log line")
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r, "GET ") {
			t.Errorf("the probe sent %q", r)
		}
	}
	// One line a request: /, _session, _all_dbs, each database's info
	// and its _all_docs sample.
	if want := 3 + 2*len(testenv.PouchSeedDocs); len(reqs) != want {
		t.Errorf("%d request lines, want %d: %q", len(reqs), want, reqs)
	}
	t.Logf("left behind in log.txt: %d request lines, e.g. %q", len(reqs), reqs[0])
	unchanged()
}

// TestProtectedServer: with an admin configured and every user database
// restricted to a member, the listing still answers but no database does:
// protected, nothing listed, nothing changed.
func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.StartPouch(t, testenv.PouchOptions{Port: 5984, Protected: true})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	res := probetest.Protected(t, New(), s.Addr, s.Port)
	if res.Product != "pouchdb-server" || res.Version != testenv.PouchVersion || len(res.Flags) != 0 {
		t.Errorf("product %q version %q flags %v", res.Product, res.Version, res.Flags)
	}
	if res.Evidence["databases_refused"] != 2 {
		t.Errorf("evidence %v", res.Evidence)
	}
	if r, _ := res.Evidence["anonymous_roles"].([]string); len(r) != 0 {
		t.Errorf("anonymous roles %v", r)
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "elasticsearch-root", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"name":"n","cluster_name":"c","version":{"number":"7.10.2"},"tagline":"You Know, for Search"}`)
		})},
		{Name: "welcome-without-version", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, `{"couchdb":"Welcome"}`)
		})},
		{Name: "401-without-couchdb-header", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":"unauthorized","reason":"login"}`)
		})},
		{Name: "redis", Banner: probetest.RedisError},
	}})
}
