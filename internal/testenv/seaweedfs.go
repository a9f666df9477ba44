package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

const (
	weedAdminKey    = "AKIDLEAKWATCHADMIN"
	weedAdminSecret = "s3cretAdminKey0123456789"
)

// weedPort picks a port p free on addr with p+10000 free too (SeaweedFS
// puts each component's gRPC listener there), not in used.
func weedPort(t testing.TB, addr netip.Addr, used map[int]bool) int {
	t.Helper()
	for range 200 {
		p := 20000 + rand.IntN(35000)
		if used[p] || used[p+10000] || used[p-10000] {
			continue
		}
		if PortFree(addr, p) && PortFree(addr, p+10000) {
			used[p] = true
			return p
		}
	}
	t.Fatal("no free port pair")
	return 0
}

// WeedOptions configure StartWeed.
type WeedOptions struct {
	// Addr and Port of the S3 gateway (zero: a fresh loopback address, a
	// free port whose +10000 is free too, for its gRPC listener). The
	// master, volume and filer take free port pairs of the same address.
	Addr netip.Addr
	Port int
	// Anonymous, if set, are the actions of an anonymous identity (e.g.
	// "List:public-data", "Read:public-data").
	Anonymous []string
}

// Weed is a real SeaweedFS (master, volume, filer and S3 gateway in one
// `weed server`) built by scripts/build-seaweedfs.sh and started for a
// test.
type Weed struct {
	Addr netip.Addr
	Port int // S3
	Root string
}

func (w *Weed) endpoint() string { return net.JoinHostPort(w.Addr.String(), strconv.Itoa(w.Port)) }

// StartWeed runs `weed server -s3` with an S3 identity config: an admin key
// (the test client's), and the anonymous identity if asked for.
// Telemetry, Iceberg and Lance endpoints are off. It is stopped when the
// test ends.
func StartWeed(t testing.TB, o WeedOptions) *Weed {
	t.Helper()
	bin := CachedBinary(t, "weed", "LEAKWATCH_WEED", "scripts/build-seaweedfs.sh")
	anonymous := o.Anonymous
	addr := o.Addr
	if !addr.IsValid() {
		addr = Addr(t)
	}
	used := map[int]bool{}
	s3port := o.Port
	if s3port == 0 {
		s3port = weedPort(t, addr, used)
	}
	used[s3port] = true
	master, volume, filer := weedPort(t, addr, used), weedPort(t, addr, used), weedPort(t, addr, used)
	dir := t.TempDir()
	identities := []map[string]any{{
		"name":        "admin",
		"credentials": []map[string]string{{"accessKey": weedAdminKey, "secretKey": weedAdminSecret}},
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
	StartAndWait(t, "weed", cmd, addr, s3port, 60*time.Second)
	t.Logf("weed server up in %s", time.Since(start).Round(time.Millisecond))
	return &Weed{Addr: addr, Port: s3port, Root: data}
}

// Admin is the test's S3 client (minio-go, signed with the admin key).
func (w *Weed) Admin(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(w.endpoint(), &minio.Options{Creds: credentials.NewStaticV4(weedAdminKey, weedAdminSecret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Put writes objects into bucket (created if needed) as the admin,
// retrying while the fresh cluster assigns its first volumes.
func (w *Weed) Put(t testing.TB, bucket string, objects map[string][]byte) {
	t.Helper()
	c := w.Admin(t)
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

// Digest hashes every bucket, key and object content through the admin.
func (w *Weed) Digest(t testing.TB) string {
	t.Helper()
	c := w.Admin(t)
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

// WeedPublicObjects are personal-data-shaped objects for a public bucket:
// a JSON array (2 records), a CSV (3), an env file (1), a text (1) and a
// 100 KiB binary.
func WeedPublicObjects() map[string][]byte {
	return map[string][]byte{
		"exports/customers.json": []byte(`[{"name":"Jane Doe","email":"jane.doe@example.com","login_token":"tok_8f14e45fceea167a5a36dedd4bea2543"},
 {"name":"John Roe","email":"john.roe@example.com","login_token":"tok_c9f0f895fb98ab9159f51fd0297e236d"}]`),
		"exports/users.csv": []byte("full_name,email,phone\nAlice Smith,alice@example.com,+1 202 555 0143\nBob Jones,bob@example.com,+1 202 555 0178\nCarol White,carol@example.com,+1 202 555 0110\n"),
		"app/config.env":    []byte("DB_PASSWORD=hunter2-Pa55\nAWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"),
		"notes/readme.txt":  []byte("contact ops@example.com for access"),
		"blobs/big.bin":     bytes.Repeat([]byte{0x42}, 100<<10),
	}
}

// WeedSecrets are raw values of WeedPublicObjects no leakwatch output may
// contain.
var WeedSecrets = []string{"jane.doe@example.com", "tok_8f14e45fceea167a5a36dedd4bea2543", "hunter2-Pa55", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "+1 202 555 0143"}
