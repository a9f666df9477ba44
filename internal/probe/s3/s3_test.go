package s3

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestPublicBucket(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)
	w := testenv.StartWeed(t, testenv.WeedOptions{Anonymous: []string{"Read:public-data", "List:public-data"}})
	objs := testenv.WeedPublicObjects()
	w.Put(t, "public-data", objs)
	w.Put(t, "private-data", map[string][]byte{"hr/salaries.csv": []byte("name,salary\nA,1\n"), "x.txt": []byte("x")})
	unchanged := probetest.Unchanged(t, w.Digest)

	p := New()
	p.Buckets = append(p.Buckets, "private-data", "public-data")
	res := probetest.Open(t, p, w.Addr, w.Port)
	if res.Product != "seaweedfs" || res.Version == "" {
		t.Errorf("product %q version %q, want seaweedfs and a version", res.Product, res.Version)
	}
	if len(res.Datasets) != 1 || res.Datasets[0].Name != "public-data" {
		t.Fatalf("datasets %v, want only public-data", res.Datasets)
	}
	d := res.Datasets[0]
	var wantBytes int64
	for _, b := range objs {
		wantBytes += int64(len(b))
	}
	if d.Kind != "bucket" || d.Records == nil || *d.Records != int64(len(objs)) || d.Bytes == nil || *d.Bytes != wantBytes {
		t.Errorf("public-data: kind %q records %v bytes %v, want bucket %d keys %d bytes", d.Kind, d.Records, d.Bytes, len(objs), wantBytes)
	}
	if n, _ := res.Evidence["buckets_denied"].(int); n < 1 {
		t.Errorf("private-data not seen as denied: %v", res.Evidence)
	}
	// 2 JSON elements + 3 CSV rows + 1 env file + 1 text; big.bin skipped.
	if d.Sampled != 7 {
		t.Errorf("sampled %d records, want 7", d.Sampled)
	}
	paths := probetest.SamplePaths(d)
	probetest.WantPaths(t, "sample", paths, "name", "email", "login_token", "full_name", "phone", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "readme.txt")
	unchanged()
}

// TestServiceListing: when the anonymous identity may list every bucket,
// GET / (ListBuckets) names them, so a bucket whose name is in no guess list
// is found; a bucket the listing does not name is tried only by name.
func TestServiceListing(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)

	const hidden = "q4-2019-crm-export-7f3a" // in no guess list
	w := testenv.StartWeed(t, testenv.WeedOptions{Anonymous: []string{"List", "Read"}})
	w.Put(t, hidden, map[string][]byte{"customers.csv": []byte("email,name\njane.doe@example.com,Jane Doe\n")})
	w.Put(t, "backups", map[string][]byte{"db.sql": []byte("INSERT INTO users VALUES ('a@example.com')")})
	unchanged := probetest.Unchanged(t, w.Digest)

	res, err := probetest.Run(t, &Prober{}, w.Addr, w.Port) // no guessed names at all
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Evidence["service_listing"] != "allowed" || res.Evidence["buckets_listed"] != 2 {
		t.Fatalf("status %s, evidence %v; want exposed via an allowed service listing of 2 buckets", res.Status, res.Evidence)
	}
	names := map[string]bool{}
	for _, d := range res.Datasets {
		names[d.Name] = true
	}
	if len(names) != 2 || !names[hidden] || !names["backups"] {
		t.Errorf("datasets %v, want %s and backups", names, hidden)
	}
	unchanged()

	// The same store with anonymous access to one bucket only: SeaweedFS's
	// ListBuckets answers with just that bucket, and the hidden one, in no
	// guess list, stays unfound — buckets are found by listing or by name.
	locked := testenv.StartWeed(t, testenv.WeedOptions{Anonymous: []string{"List:backups", "Read:backups"}})
	locked.Put(t, hidden, map[string][]byte{"customers.csv": []byte("email\njane.doe@example.com\n")})
	locked.Put(t, "backups", map[string][]byte{"db.sql": []byte("x")})
	res, err = probetest.Check(t, New(), locked.Addr, locked.Port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Evidence["buckets_listed"] != 1 || len(res.Datasets) != 1 || res.Datasets[0].Name != "backups" {
		t.Errorf("per-bucket access: datasets %v evidence %v, want only backups", res.Datasets, res.Evidence)
	}
}

func TestKeyPagination(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)
	w := testenv.StartWeed(t, testenv.WeedOptions{Anonymous: []string{"Read:logs-archive", "List:logs-archive"}})
	objs := map[string][]byte{}
	for i := range 25 {
		objs[fmt.Sprintf("2019/12/%02d.log", i)] = []byte(fmt.Sprintf("login user%d@example.com", i))
	}
	w.Put(t, "logs-archive", objs)
	for _, tc := range []struct {
		pages   int
		records int64
		lower   bool
	}{{2, 20, true}, {5, 25, false}} {
		p := &Prober{Buckets: []string{"logs-archive"}, keysPerPage: 10, maxKeyPages: tc.pages}
		res, err := probetest.Run(t, p, w.Addr, w.Port)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Datasets) != 1 || *res.Datasets[0].Records != tc.records {
			t.Fatalf("pages %d: datasets %v, want %d records", tc.pages, res.Datasets, tc.records)
		}
		_, lower := res.Evidence["records_lower_bound"]
		if lower != tc.lower {
			t.Errorf("pages %d: lower bound evidence %v, want %v", tc.pages, lower, tc.lower)
		}
	}
}

func TestProtectedService(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)
	w := testenv.StartWeed(t, testenv.WeedOptions{})
	w.Put(t, "backups", map[string][]byte{"db.sql": []byte("INSERT INTO users VALUES ('a@example.com')")})
	res := probetest.Protected(t, New(), w.Addr, w.Port, probetest.ReadOnly(w.Digest))
	if res.Evidence["service_listing"] != "AccessDenied" {
		t.Errorf("evidence %v, want service listing AccessDenied", res.Evidence)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: []probetest.Other{
		{Name: "xml-http", HTTP: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0"?><Error><Code>Forbidden</Code><Message>no</Message></Error>`))
		})},
		{Name: "banner", Banner: probetest.SMTPBanner},
	}})
}

func TestProductOf(t *testing.T) {
	for in, want := range map[string]string{
		"SeaweedFS 30GB 4.53": "seaweedfs 4.53",
		"MinIO":               "minio ",
		"AmazonS3":            "amazon-s3 ",
		"nginx/1.22.1":        "s3 ",
		"":                    "s3 ",
	} {
		p, v := productOf(in)
		if got := p + " " + v; got != want {
			t.Errorf("productOf(%q) = %q, want %q", in, got, want)
		}
	}
	if !strings.HasPrefix(objectPath("b", "a b/c?d"), "/b/a%20b/c%3Fd") {
		t.Errorf("objectPath %s", objectPath("b", "a b/c?d"))
	}
}
