package dockerregistry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
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

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	pushUser = "ci-pusher"
	pushPass = "Pu5h-s3cret"
)

type registry struct {
	addr netip.Addr
	port int
	root string
	user string
}

func (r registry) base() string {
	return "http://" + net.JoinHostPort(r.addr.String(), strconv.Itoa(r.port))
}

// startRegistry runs Debian's docker-registry (distribution 2.8) on a
// loopback address; port 0 picks a free non-standard port. With auth, an
// htpasswd file (bcrypt, made by htpasswd from apache2-utils) guards it.
func startRegistry(t *testing.T, port int, auth bool) registry {
	t.Helper()
	bin := testenv.Binary(t, "docker-registry")
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	dir := t.TempDir()
	root := filepath.Join(dir, "storage")
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: false
http:
  addr: %s
`, root, net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	r := registry{addr: addr, port: port, root: root}
	if auth {
		htbin := testenv.Binary(t, "htpasswd")
		htfile := filepath.Join(dir, "htpasswd")
		if out, err := exec.Command(htbin, "-Bbc", htfile, pushUser, pushPass).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd: %v\n%s", err, out)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: leakwatch-test\n    path: %s\n", htfile)
		r.user = pushUser
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartAndWait(t, "docker-registry", exec.Command(bin, "serve", cfgPath), addr, port, 20*time.Second)
	return r
}

// do sends one request of the test's own seeding client.
func (r registry) do(t *testing.T, method, url, ctype string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.user != "" {
		req.SetBasicAuth(pushUser, pushPass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushBlob uploads one blob (POST to open an upload, PUT to complete it).
func (r registry) pushBlob(t *testing.T, repo string, blob []byte) string {
	t.Helper()
	resp := r.do(t, http.MethodPost, r.base()+"/v2/"+repo+"/blobs/uploads/", "", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("start upload: HTTP %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	if strings.HasPrefix(loc, "/") {
		loc = r.base() + loc
	}
	d := digestOf(blob)
	sep := "?"
	if strings.Contains(loc, "?") {
		sep = "&"
	}
	resp = r.do(t, http.MethodPut, loc+sep+"digest="+d, "application/octet-stream", blob)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("complete upload: HTTP %d", resp.StatusCode)
	}
	return d
}

// pushImage writes a minimal OCI image: config blob, one layer, manifest.
func (r registry) pushImage(t *testing.T, repo, tag string, env []string, labels map[string]string) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": env, "Labels": labels, "Cmd": []string{"/app"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digestOf([]byte("layer-" + tag))}},
		"history":      []map[string]any{{"created_by": "/bin/sh -c #(nop) COPY app /app"}},
	})
	layer := []byte("layer-" + tag)
	cfgDigest := r.pushBlob(t, repo, cfg)
	layerDigest := r.pushBlob(t, repo, layer)
	man, _ := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     "application/vnd.oci.image.manifest.v1+json",
		"config":        map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfgDigest, "size": len(cfg)},
		"layers":        []map[string]any{{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layerDigest, "size": len(layer)}},
	})
	resp := r.do(t, http.MethodPut, r.base()+"/v2/"+repo+"/manifests/"+tag, "application/vnd.oci.image.manifest.v1+json", man)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("put manifest: HTTP %d: %s", resp.StatusCode, body)
	}
}

// seed pushes acme/webapp (latest, v1, v2) and acme/db (latest) with
// secrets in Env and personal data in Labels.
func seed(t *testing.T, r registry) {
	t.Helper()
	env := []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2-Secret", "ADMIN_EMAIL=ops.admin@example.com",
		"API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
	labels := map[string]string{"maintainer": "Bob Smith <bob.smith@example.com>"}
	for _, tag := range []string{"v1", "v2", "latest"} {
		r.pushImage(t, "acme/webapp", tag, env, labels)
	}
	r.pushImage(t, "acme/db", "latest", []string{"POSTGRES_PASSWORD=pg-Secret-1"}, nil)
}

// storageDigest hashes every file of the registry's storage directory.
func storageDigest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\n", strings.TrimPrefix(p, root))
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("digest: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestOpenRegistry(t *testing.T) {
	r := startRegistry(t, 5000, false)
	seed(t, r)
	before := storageDigest(t, r.root)

	res, err := probetest.Run(t, New(), r.addr, r.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status %s/%s, want exposed/none (error %q, evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
	if res.Product != "docker-registry" || res.Evidence["api_version"] != "registry/2.0" {
		t.Errorf("product %q evidence %v", res.Product, res.Evidence)
	}
	want := map[string]int64{"acme/webapp": 3, "acme/db": 1}
	if len(res.Datasets) != len(want) {
		t.Fatalf("datasets %v, want %v", res.Datasets, want)
	}
	for _, d := range res.Datasets {
		if d.Kind != "repository" || d.Records == nil || *d.Records != want[d.Name] {
			t.Errorf("%s: kind %q records %v, want repository %d", d.Name, d.Kind, d.Records, want[d.Name])
		}
		wantSampled := min(3, int(want[d.Name]))
		if d.Sampled != wantSampled {
			t.Errorf("%s: sampled %d, want %d", d.Name, d.Sampled, wantSampled)
		}
		paths := map[string]bool{}
		for _, rec := range d.Sample {
			for _, v := range rec.Values {
				paths[v.Path] = true
			}
		}
		wantPaths := []string{"env.DB_PASSWORD", "env.ADMIN_EMAIL", "env.API_TOKEN", "labels.maintainer", "history.created_by"}
		if d.Name == "acme/db" {
			wantPaths = []string{"env.POSTGRES_PASSWORD"}
		}
		for _, p := range wantPaths {
			if !paths[p] {
				t.Errorf("%s: sample lacks %q (have %v)", d.Name, p, paths)
			}
		}
	}
	if after := storageDigest(t, r.root); after != before {
		t.Errorf("registry storage changed by the probe")
	}
}

func TestCatalogPagination(t *testing.T) {
	r := startRegistry(t, 0, false)
	for i := range 6 {
		r.pushImage(t, fmt.Sprintf("team/svc%d", i), "latest", []string{"X=1"}, nil)
	}
	defer func(n int) { catalogPageSize = n }(catalogPageSize)
	catalogPageSize = 2 // three pages of two: follows the Link header
	env := probetest.Env(r.addr, r.port)
	env.Budget.MaxListed = 5
	env.Budget.MaxDatasets = 1
	ctx, cancel := probetestContext(env)
	defer cancel()
	res, err := New().Probe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Datasets) != 5 || !contains(res.Flags, "repositories-truncated") {
		t.Fatalf("datasets %d flags %v, want 5 and repositories-truncated", len(res.Datasets), res.Flags)
	}
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 0 {
			sampled++
		}
	}
	if sampled != 1 {
		t.Errorf("%d repositories sampled, want 1", sampled)
	}
}

func TestProtectedRegistry(t *testing.T) {
	r := startRegistry(t, 0, true)
	seed(t, r)
	before := storageDigest(t, r.root)
	res, err := probetest.Run(t, New(), r.addr, r.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s/%s, want protected/required", res.Status, res.Auth)
	}
	if len(res.Datasets) != 0 {
		t.Errorf("protected registry gave datasets %v", res.Datasets)
	}
	if res.Evidence["auth_scheme"] != "Basic" {
		t.Errorf("evidence %v, want Basic challenge", res.Evidence)
	}
	if after := storageDigest(t, r.root); after != before {
		t.Errorf("registry storage changed by the probe")
	}
}

func TestNotThisService(t *testing.T) {
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"repositories":["x"]}`))
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	res, err := probetest.Run(t, New(), addr, l.Addr().(*net.TCPAddr).Port)
	if !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("plain HTTP server: got %v, %v; want not-this-service", res, err)
	}
	b := probetest.Banner(t, "+OK POP3 ready\r\n")
	if res, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("banner: got %v, %v; want not-this-service", res, err)
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func probetestContext(env *probe.Env) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), env.Budget.Timeout)
}
