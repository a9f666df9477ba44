package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	adminKey    = "AKIDLEAKWATCHADMIN"
	adminSecret = "s3cretAdminKey0123456789"
)

// weedBinary finds SeaweedFS's weed built by scripts/build-seaweedfs.sh
// (or named by LEAKWATCH_WEED).
func weedBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LEAKWATCH_WEED"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	p := filepath.Join(dir, ".cache", "bin", "weed")
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "weed not built (run scripts/build-seaweedfs.sh)")
	}
	return p
}

// grpcPort picks a port p free on addr with p+10000 free too (SeaweedFS
// puts each component's gRPC listener there), not in used.
func grpcPort(t *testing.T, addr netip.Addr, used map[int]bool) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(35000)
		if used[p] || used[p+10000] || used[p-10000] {
			continue
		}
		if testenv.PortFree(addr, p) && testenv.PortFree(addr, p+10000) {
			used[p] = true
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

type weed struct {
	addr netip.Addr
	port int // S3
	root string
}

func (w weed) endpoint() string { return net.JoinHostPort(w.addr.String(), strconv.Itoa(w.port)) }

// startWeed runs `weed server -s3` on a loopback address with an S3
// identity config: an admin key, and, if anonymous is not empty, an
// anonymous identity with those actions (e.g. "List:public-data").
// Telemetry, Iceberg and Lance endpoints are off.
func startWeed(t *testing.T, anonymous []string) weed {
	t.Helper()
	bin := weedBinary(t)
	addr := testenv.Addr(t)
	used := map[int]bool{}
	master, volume, filer, s3port := grpcPort(t, addr, used), grpcPort(t, addr, used), grpcPort(t, addr, used), grpcPort(t, addr, used)
	dir := t.TempDir()
	identities := []map[string]any{{
		"name":        "admin",
		"credentials": []map[string]string{{"accessKey": adminKey, "secretKey": adminSecret}},
		"actions":     []string{"Admin", "Read", "List", "Write", "Tagging"},
	}}
	if len(anonymous) > 0 {
		identities = append(identities, map[string]any{"name": "anonymous", "actions": anonymous})
	}
	cfg, _ := json.Marshal(map[string]any{"identities": identities})
	cfgPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	a := addr.String()
	cmd := exec.Command(bin, "server",
		"-dir="+data, "-ip="+a, "-ip.bind="+a,
		"-master.port="+strconv.Itoa(master), "-volume.port="+strconv.Itoa(volume),
		"-filer.port="+strconv.Itoa(filer),
		"-s3", "-s3.port="+strconv.Itoa(s3port), "-s3.config="+cfgPath,
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=8", "-volume.preStopSeconds=0",
		"-filer.localSocket="+filepath.Join(dir, "filer.sock"), "-s3.localSocket="+filepath.Join(dir, "s3.sock"),
	)
	start := time.Now()
	testenv.StartAndWait(t, "weed", cmd, addr, s3port, 60*time.Second)
	t.Logf("weed server up in %s", time.Since(start).Round(time.Millisecond))
	return weed{addr: addr, port: s3port, root: data}
}

// admin is the test's S3 client (minio-go, signed with the admin key).
func (w weed) admin(t *testing.T) *minio.Client {
	t.Helper()
	c, err := minio.New(w.endpoint(), &minio.Options{Creds: credentials.NewStaticV4(adminKey, adminSecret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// put writes objects into bucket (created if needed), retrying while the
// fresh cluster assigns its first volumes.
func put(t *testing.T, c *minio.Client, bucket string, objects map[string][]byte) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{})
		if err == nil || minio.ToErrorResponse(err).Code == "BucketAlreadyOwnedByYou" || minio.ToErrorResponse(err).Code == "BucketAlreadyExists" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("make bucket %s: %v", bucket, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for key, body := range objects {
		for {
			_, err := c.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(len(body)), minio.PutObjectOptions{})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("put %s/%s: %v", bucket, key, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
}

// digest hashes every bucket, key and object content through the admin.
func digest(t *testing.T, c *minio.Client) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	buckets, err := c.ListBuckets(ctx)
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	for _, b := range buckets {
		fmt.Fprintf(h, "bucket %s\n", b.Name)
		for o := range c.ListObjects(ctx, b.Name, minio.ListObjectsOptions{Recursive: true}) {
			if o.Err != nil {
				t.Fatalf("digest: %v", o.Err)
			}
			fmt.Fprintf(h, "%s %d %s\n", o.Key, o.Size, o.LastModified)
			r, err := c.GetObject(ctx, b.Name, o.Key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(h, r)
			r.Close()
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func publicObjects() map[string][]byte {
	return map[string][]byte{
		"exports/customers.json": []byte(`[{"name":"Jane Doe","email":"jane.doe@example.com","login_token":"tok_8f14e45fceea167a5a36dedd4bea2543"},
 {"name":"John Roe","email":"john.roe@example.com","login_token":"tok_c9f0f895fb98ab9159f51fd0297e236d"}]`),
		"exports/users.csv": []byte("full_name,email,phone\nAlice Smith,alice@example.com,+1 202 555 0143\nBob Jones,bob@example.com,+1 202 555 0178\nCarol White,carol@example.com,+1 202 555 0110\n"),
		"app/config.env":    []byte("DB_PASSWORD=hunter2-Pa55\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
		"notes/readme.txt":  []byte("contact ops@example.com for access"),
		"blobs/big.bin":     bytes.Repeat([]byte{0x42}, 100<<10),
	}
}

func TestPublicBucket(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)
	w := startWeed(t, []string{"Read:public-data", "List:public-data"})
	c := w.admin(t)
	objs := publicObjects()
	put(t, c, "public-data", objs)
	put(t, c, "private-data", map[string][]byte{"hr/salaries.csv": []byte("name,salary\nA,1\n"), "x.txt": []byte("x")})
	before := digest(t, c)

	p := New()
	p.Buckets = append(p.Buckets, "private-data", "public-data")
	res, err := probetest.Run(t, p, w.addr, w.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status %s/%s, want exposed/none (error %q evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
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
	paths := map[string]bool{}
	for _, r := range d.Sample {
		for _, v := range r.Values {
			paths[v.Path] = true
		}
	}
	for _, want := range []string{"name", "email", "login_token", "full_name", "phone", "DB_PASSWORD", "AWS_SECRET_ACCESS_KEY", "readme.txt"} {
		if !paths[want] {
			t.Errorf("sample lacks %q (have %v)", want, paths)
		}
	}
	if after := digest(t, c); after != before {
		t.Error("store changed by the probe")
	}
}

func TestKeyPagination(t *testing.T) {
	t.Parallel() // each boots its own weed server (seconds of volume setup)
	w := startWeed(t, []string{"Read:logs-archive", "List:logs-archive"})
	c := w.admin(t)
	objs := map[string][]byte{}
	for i := range 25 {
		objs[fmt.Sprintf("2019/12/%02d.log", i)] = []byte(fmt.Sprintf("login user%d@example.com", i))
	}
	put(t, c, "logs-archive", objs)
	for _, tc := range []struct {
		pages   int
		records int64
		lower   bool
	}{{2, 20, true}, {5, 25, false}} {
		p := &Prober{Buckets: []string{"logs-archive"}, keysPerPage: 10, maxKeyPages: tc.pages}
		res, err := probetest.Run(t, p, w.addr, w.port)
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
	w := startWeed(t, nil)
	c := w.admin(t)
	put(t, c, "backups", map[string][]byte{"db.sql": []byte("INSERT INTO users VALUES ('a@example.com')")})
	before := digest(t, c)
	res, err := probetest.Run(t, New(), w.addr, w.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s/%s, want protected/required (evidence %v)", res.Status, res.Auth, res.Evidence)
	}
	if len(res.Datasets) != 0 {
		t.Errorf("datasets %v", res.Datasets)
	}
	if res.Evidence["service_listing"] != "AccessDenied" {
		t.Errorf("evidence %v, want service listing AccessDenied", res.Evidence)
	}
	if after := digest(t, c); after != before {
		t.Error("store changed by the probe")
	}
}

func TestNotThisService(t *testing.T) {
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0"?><Error><Code>Forbidden</Code><Message>no</Message></Error>`))
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	if res, err := probetest.Run(t, New(), addr, l.Addr().(*net.TCPAddr).Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("XML HTTP server: got %v, %v; want not-this-service", res, err)
	}
	b := probetest.Banner(t, "220 mail.example.com ESMTP\r\n")
	if res, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("banner: got %v, %v; want not-this-service", res, err)
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
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
