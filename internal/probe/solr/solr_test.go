package solr

import (
	"net/http"
	"os"
	"slices"
	"sync"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopSharedSolr()
	os.Exit(code)
}

// openNode is the package's open node, seeded once.
func openNode(t *testing.T) *testenv.Solr {
	t.Helper()
	s := testenv.SharedSolr(t, "open", testenv.SolrOptions{})
	seedOnce(t, s)
	return s
}

var (
	seedMu sync.Mutex
	seeded = map[*testenv.Solr]bool{}
)

// seedOnce seeds s the first time a test asks (tests run in parallel).
func seedOnce(t *testing.T, s *testenv.Solr) {
	t.Helper()
	seedMu.Lock()
	defer seedMu.Unlock()
	if !seeded[s] {
		s.Seed(t)
		seeded[s] = true
	}
}

// wantSeeded checks the seeded cores: kind, exact document counts, sizes,
// every document of the two non-empty cores sampled, schema fields and
// sampled paths.
func wantSeeded(t *testing.T, res *probe.Result) {
	t.Helper()
	if res.Product != "solr" || res.Version != "9.10.1" {
		t.Errorf("product %q version %q, want solr 9.10.1", res.Product, res.Version)
	}
	if res.Evidence["mode"] != "std" || res.Evidence["cores"] != 3 {
		t.Errorf("evidence %v", res.Evidence)
	}
	if got := probetest.DatasetNames(res); !slices.Equal(got, []string{"customers", "products", "archive"}) {
		t.Errorf("cores %v, want customers, products, archive (largest first)", got)
	}
	for name, n := range testenv.SolrSeedDocs {
		d := probetest.Dataset(t, res, name)
		if d.Kind != "core" || d.Records == nil || *d.Records != n || d.Sampled != int(n) || len(d.Sample) != int(n) {
			t.Errorf("%s: kind %q records %s sampled %d (%d), want core/%d", name, d.Kind, probetest.Ptr(d.Records), d.Sampled, len(d.Sample), n)
		}
		if d.Bytes == nil || *d.Bytes <= 0 {
			t.Errorf("%s: bytes %s", name, probetest.Ptr(d.Bytes))
		}
		if len(d.Flags) != 0 {
			t.Errorf("%s: flags %v", name, d.Flags)
		}
	}
	cust := probetest.Dataset(t, res, "customers")
	probetest.WantPaths(t, "customers", probetest.SamplePaths(cust), "id", "email", "login_token", "wifi_ssid", "device_model", "user_name_s", "device_id_s", "tags")
	types := map[string]string{}
	for _, f := range cust.Fields {
		types[f.Name] = f.Type
	}
	if types["email"] != "string" || types["created"] != "pdate" || types["tags"] != "strings" {
		t.Errorf("customers fields %v", cust.Fields)
	}
}

// wantClasses checks the classes the finding reports per core.
func wantClasses(t *testing.T, f *finding.Finding) {
	t.Helper()
	classes := map[string][]string{}
	for _, d := range f.Datasets {
		for _, c := range d.Classes {
			classes[d.Name] = append(classes[d.Name], c.Class)
		}
	}
	for _, c := range []string{"email", "auth_token", "wifi_ssid", "device_model", "username"} {
		if !slices.Contains(classes["customers"], c) {
			t.Errorf("customers classes %v lack %s", classes["customers"], c)
		}
	}
	if len(classes["products"]) != 0 || len(classes["archive"]) != 0 {
		for _, d := range f.Datasets {
			t.Logf("%s %v", d.Name, d.Classes)
		}
		t.Errorf("classes in products %v / archive %v", classes["products"], classes["archive"])
	}
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := openNode(t)
	res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	wantSeeded(t, res)
	f := probetest.ToFinding(t, "solr", probe.Target{Addr: s.Addr, Port: s.Port}, res)
	wantClasses(t, f)
	if f.Severity == "" || f.Status != finding.StatusExposed {
		t.Errorf("finding %s/%s", f.Status, f.Severity)
	}
}

// TestProtectedServer: a node with the BasicAuthPlugin (blockUnknown, all
// paths need the admin role). With the reference guide's example password
// it is exposed to a scan that tries default credentials; once the
// password is changed it is protected, lists nothing and stays unchanged.
func TestProtectedServer(t *testing.T) {
	t.Parallel()
	s := testenv.SharedSolr(t, "locked", testenv.SolrOptions{Port: 8983, Password: "SolrRocks"})
	seedOnce(t, s)

	res := probetest.Protected(t, New(), s.Addr, s.Port) // no default credentials tried
	if res.Version != "" || res.Evidence["auth_challenge"] != `Basic realm="solr"` || res.Evidence["pki_key_endpoint"] != true {
		t.Errorf("version %q evidence %v", res.Version, res.Evidence)
	}

	res, err := probetest.Check(t, New(), s.Addr, s.Port, probetest.DefaultCredentials(), probetest.ReadOnly(s.Digest))
	if err != nil || res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials {
		t.Fatalf("default password: %v %+v", err, res)
	}
	wantSeeded(t, res)

	s.SetPassword(t, "Xq7-solr-not-a-default")
	res = probetest.Protected(t, New(), s.Addr, s.Port, probetest.DefaultCredentials(), probetest.ReadOnly(s.Digest))
	if res.Evidence["http_status"] != http.StatusUnauthorized || len(res.Flags) != 0 {
		t.Errorf("evidence %v flags %v", res.Evidence, res.Flags)
	}

	// The plugin stays, but blockUnknown goes off and no permission guards
	// reads: anonymous requests read every core. Exposed, and said so.
	s.OpenReads(t)
	res = probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
	wantSeeded(t, res)
	if res.Evidence["auth_plugin"] != "BasicAuthPlugin" || !slices.Contains(res.Flags, FlagAuthNotEnforced) {
		t.Errorf("evidence %v flags %v", res.Evidence, res.Flags)
	}
}

// TestLimits: on the real node, a budget that lists one core and a sample
// budget smaller than one document stay exposed and say what they cut.
func TestLimits(t *testing.T) {
	t.Parallel()
	s := openNode(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	res := probetest.Exposed(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.MaxListed = 1 }, probe.FlagDatasetsTruncated)
	if got := probetest.DatasetNames(res); !slices.Equal(got, []string{"customers"}) {
		t.Errorf("listed %v", got)
	}
	res = probetest.Flagged(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 200 }, probe.FlagRecordTooLarge)
	d := probetest.Dataset(t, res, "customers")
	if d.Sampled != 0 || *d.Records != testenv.SolrSeedDocs["customers"] {
		t.Errorf("customers sampled %d of %s", d.Sampled, probetest.Ptr(d.Records))
	}
	res = probetest.Flagged(t, New(), s.Addr, s.Port, func(b *probe.Budget) { b.SampleBytes = 4096 }, probe.FlagSampleTruncated)
	d = probetest.Dataset(t, res, "customers")
	if d.Sampled == 0 || d.Sampled >= int(testenv.SolrSeedDocs["customers"]) {
		t.Errorf("customers sampled %d under a 4 KiB budget", d.Sampled)
	}
	unchanged()
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: append(probetest.Banners(t, "http", "redis", "ssh"),
		probetest.Other{Name: "basic-auth-web", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("WWW-Authenticate", `Basic realm="intranet"`)
			w.WriteHeader(http.StatusUnauthorized)
		})},
		probetest.Other{Name: "json-api", HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"responseHeader":{"status":0},"lucene":{}}`))
		})},
	)})
}
