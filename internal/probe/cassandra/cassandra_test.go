package cassandra

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocql/gocql"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedCassandra()
	os.Exit(code)
}

// protectedPort is a non-standard CQL port for the protected node.
const protectedPort = 19042

var (
	seedMu sync.Mutex
	seeded = map[string]bool{}
)

// seedOnce seeds node n once per test binary; tests sharing the node run
// in parallel.
func seedOnce(t *testing.T, n *testenv.CassandraNode, s *gocql.Session) {
	t.Helper()
	seedMu.Lock()
	defer seedMu.Unlock()
	if seeded[n.HostPort()] {
		return
	}
	start := time.Now()
	testenv.SeedCassandra(t, s)
	t.Logf("seeded %s in %s", n.HostPort(), time.Since(start))
	seeded[n.HostPort()] = true
}

// waitEstimates waits until system.size_estimates has non-zero partition
// counts for the seeded tables. The node records them 30 s after its start, then every
// 2 s (the test node's cassandra.size_recorder_interval), from flushed
// sstables (the seeded tables flush every second).
func waitEstimates(t *testing.T, s *gocql.Session, tables ...string) {
	t.Helper()
	start := time.Now()
	defer func() { t.Logf("size estimates after %s", time.Since(start)) }()
	deadline := time.Now().Add(45 * time.Second)
	for {
		seen := map[string]bool{}
		it := s.Query(`SELECT table_name, partitions_count FROM system.size_estimates WHERE keyspace_name = 'lw_crm'`).Iter()
		var name string
		var parts int64
		for it.Scan(&name, &parts) {
			seen[name] = seen[name] || parts > 0
		}
		_ = it.Close()
		all := true
		for _, tb := range tables {
			all = all && seen[tb]
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("size_estimates for %v not recorded within 45 s (have %v)", tables, seen)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// nodeEnv is the test env for a real node: a JVM on a loaded 2-core
// machine may stall past probetest's 2 s IO timeout.
func nodeEnv(n *testenv.CassandraNode) *probe.Env {
	env := probetest.Env(n.Addr, n.Port)
	env.Budget.IOTimeout = 10 * time.Second
	env.Budget.Timeout = 60 * time.Second
	return env
}

func run(t *testing.T, n *testenv.CassandraNode, defaultCreds bool) (*probe.Result, error) {
	t.Helper()
	env := nodeEnv(n)
	env.DefaultCredentials = defaultCreds
	ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
	defer cancel()
	return New().Probe(ctx, env)
}

func dataset(res *probe.Result, name string) *probe.Dataset {
	for i := range res.Datasets {
		if res.Datasets[i].Name == name {
			return &res.Datasets[i]
		}
	}
	return nil
}

func samplePaths(ds *probe.Dataset) map[string]bool {
	paths := map[string]bool{}
	for _, r := range ds.Sample {
		for _, v := range r.Values {
			paths[v.Path] = true
		}
	}
	return paths
}

func TestOpenNode(t *testing.T) {
	t.Parallel()
	n := testenv.SharedCassandra(t, "open", 0, "none")
	s := n.Session(t, "", "")
	seedOnce(t, n, s)
	before := testenv.CassandraDigest(t, s)

	start := time.Now()
	res, err := run(t, n, false)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	t.Logf("probe took %s; evidence %v", time.Since(start), res.Evidence)
	if res.Error != "" {
		t.Errorf("result error: %s", res.Error)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status/auth = %s/%s, want exposed/none", res.Status, res.Auth)
	}
	if res.Product != "cassandra" || !strings.HasPrefix(res.Version, "5.0.") {
		t.Errorf("product/version = %q/%q, want cassandra/5.0.x", res.Product, res.Version)
	}
	if res.Evidence["cluster_name"] != "leakwatch-test" {
		t.Errorf("cluster_name evidence = %v", res.Evidence["cluster_name"])
	}
	for _, ds := range res.Datasets {
		if strings.HasPrefix(ds.Name, "system") {
			t.Errorf("system table listed: %s", ds.Name)
		}
	}
	users := dataset(res, "lw_crm.users")
	if users == nil {
		t.Fatalf("lw_crm.users not listed: %+v", res.Datasets)
	}
	// The sample read each small table whole: exact counts.
	for name, want := range testenv.CassandraSeedRows {
		ds := dataset(res, name)
		if ds == nil || ds.Kind != "table" || ds.Records == nil || *ds.Records != want {
			t.Errorf("%s: %+v, want %d records", name, ds, want)
		}
	}
	if users.Sampled != 30 || len(users.Sample) != 30 {
		t.Errorf("users sampled %d (%d records), want 30", users.Sampled, len(users.Sample))
	}
	paths := samplePaths(users)
	for _, p := range []string{"user_id", "email", "full_name", "login_token", "created", "devices.key", "devices.value", "tags", "home.street", "home.city", "score"} {
		if !paths[p] {
			t.Errorf("users sample lacks path %q (have %v)", p, paths)
		}
	}
	if len(users.Fields) == 0 || users.Fields[0].Name != "user_id" || users.Fields[0].Type != "int" {
		t.Errorf("users fields = %+v", users.Fields)
	}
	devices := dataset(res, "lw_crm.devices")
	if devices == nil || devices.Sampled != 10 {
		t.Fatalf("devices = %+v", devices)
	}
	if p := samplePaths(devices); !p["wifi_ssid"] || !p["ip"] || !p["device_id"] {
		t.Errorf("devices sample paths = %v", p)
	}
	if e := dataset(res, "lw_crm.empty"); e == nil || e.Sampled != 0 {
		t.Errorf("empty table = %+v", e)
	}
	if after := testenv.CassandraDigest(t, s); after != before {
		t.Errorf("data changed by the probe: %s -> %s", before, after)
	}
	t.Run("sample-budget", func(t *testing.T) { sampleBudget(t, n, s) })
}

// sampleBudget checks the per-dataset record and byte bounds, and the
// partition estimates of tables larger than the sample.
func sampleBudget(t *testing.T, n *testenv.CassandraNode, s *gocql.Session) {
	waitEstimates(t, s, "users", "devices")
	env := nodeEnv(n)
	env.Budget.SampleRecords = 7
	env.Budget.MaxDatasets = 1
	ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
	defer cancel()
	res, err := New().Probe(ctx, env)
	if err != nil || res.Status != finding.StatusExposed || res.Error != "" {
		t.Fatalf("probe: %v %+v", err, res)
	}
	sampled := 0
	for _, ds := range res.Datasets {
		if ds.Sampled > 7 {
			t.Errorf("%s: sampled %d > 7", ds.Name, ds.Sampled)
		}
		if ds.Sampled > 0 {
			sampled++
			// users and devices are larger than the sample: the count is
			// the partition estimate of system.size_estimates.
			if ds.Sampled != 7 || ds.Records == nil || *ds.Records < 1 || ds.Bytes == nil || *ds.Bytes <= 0 {
				t.Errorf("%s with a 7-record sample: sampled %d, records %s, bytes %s", ds.Name, ds.Sampled, probetest.Ptr(ds.Records), probetest.Ptr(ds.Bytes))
			}
			t.Logf("%s: estimated %s partitions, %s bytes", ds.Name, probetest.Ptr(ds.Records), probetest.Ptr(ds.Bytes))
		}
	}
	if sampled != 1 {
		t.Errorf("%d datasets sampled, want 1", sampled)
	}
	env.Budget.SampleRecords = 100
	env.Budget.SampleBytes = 200
	env.Budget.MaxDatasets = 10
	res, err = New().Probe(ctx, env)
	if err != nil || res.Error != "" {
		t.Fatalf("probe: %v %+v", err, res)
	}
	if u := dataset(res, "lw_crm.users"); u == nil || u.Sampled == 0 || u.Sampled > 2 {
		t.Errorf("byte-bounded users sample: %+v (error %q)", u, res.Error)
	}
}

func TestProtectedNode(t *testing.T) {
	t.Parallel()
	n := testenv.SharedCassandra(t, "password", protectedPort, "password")
	admin := n.Session(t, defaultUser, defaultPassword)
	seedOnce(t, n, admin)
	before := testenv.CassandraDigest(t, admin)

	t.Run("no-default-credentials", func(t *testing.T) {
		res, err := run(t, n, false)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status/auth = %s/%s, want protected/required (%s)", res.Status, res.Auth, res.Error)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets read from a protected node: %+v", res.Datasets)
		}
		if a, _ := res.Evidence["authenticator"].(string); !strings.Contains(a, "PasswordAuthenticator") {
			t.Errorf("authenticator evidence = %v", res.Evidence["authenticator"])
		}
	})
	t.Run("default-credentials", func(t *testing.T) {
		res, err := run(t, n, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials {
			t.Fatalf("status/auth = %s/%s, want exposed/default-credentials (%s)", res.Status, res.Auth, res.Error)
		}
		if !strings.HasPrefix(res.Version, "5.0.") {
			t.Errorf("version = %q", res.Version)
		}
		u := dataset(res, "lw_crm.users")
		if u == nil || u.Sampled != 30 || !samplePaths(u)["email"] {
			t.Errorf("users via default credentials: %+v", u)
		}
	})
	if after := testenv.CassandraDigest(t, admin); after != before {
		t.Errorf("data changed by the probe: %s -> %s", before, after)
	}
	t.Run("changed-password", func(t *testing.T) {
		n.ChangeDefaultPassword(t, admin, "N0t-the-default")
		res, err := run(t, n, true)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || len(res.Datasets) != 0 {
			t.Fatalf("status/auth = %s/%s datasets %d, want protected/required (%s)", res.Status, res.Auth, len(res.Datasets), res.Error)
		}
		if res.Evidence["default_credentials"] != "rejected" {
			t.Errorf("default_credentials evidence = %v", res.Evidence["default_credentials"])
		}
	})
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintln(w, "hello")
		})},
		{Name: "ssh", Banner: probetest.SSHBanner},
	}})
}
