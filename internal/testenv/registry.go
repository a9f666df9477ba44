package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
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
)

const (
	registryPushUser = "ci-pusher"
	registryPushPass = "Pu5h-s3cret"
)

// RegistryOptions configure StartRegistry.
type RegistryOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Auth guards the registry with an htpasswd file (the test client
	// pushes with its user).
	Auth bool
}

// Registry is a real Docker registry (Debian docker-registry,
// distribution 2.8) started for a test.
type Registry struct {
	Addr netip.Addr
	Port int
	// Root is the storage directory.
	Root string
	user string
}

func (r *Registry) base() string {
	return "http://" + net.JoinHostPort(r.Addr.String(), strconv.Itoa(r.Port))
}

// StartRegistry runs docker-registry with filesystem storage in a temp dir;
// it is stopped when the test ends. With Auth, an htpasswd file (bcrypt,
// made by htpasswd from apache2-utils) guards it.
func StartRegistry(t testing.TB, o RegistryOptions) *Registry {
	t.Helper()
	bin := Binary(t, "docker-registry")
	addr, port := Listen(t, o.Addr, o.Port)
	auth := o.Auth
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
	r := &Registry{Addr: addr, Port: port, Root: root}
	if auth {
		htbin := Binary(t, "htpasswd")
		htfile := filepath.Join(dir, "htpasswd")
		if out, err := exec.Command(htbin, "-Bbc", htfile, registryPushUser, registryPushPass).CombinedOutput(); err != nil {
			t.Fatalf("htpasswd: %v\n%s", err, out)
		}
		cfg += fmt.Sprintf("auth:\n  htpasswd:\n    realm: leakwatch-test\n    path: %s\n", htfile)
		r.user = registryPushUser
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	StartAndWait(t, "docker-registry", exec.Command(bin, "serve", cfgPath), addr, port, 20*time.Second)
	return r
}

// do sends one request of the test's own seeding client.
func (r *Registry) do(t testing.TB, method, url, ctype string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if r.user != "" {
		req.SetBasicAuth(registryPushUser, registryPushPass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp
}

func registryDigestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// pushBlob uploads one blob (POST to open an upload, PUT to complete it).
func (r *Registry) pushBlob(t testing.TB, repo string, blob []byte) string {
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
	d := registryDigestOf(blob)
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

// PushImage writes a minimal OCI image: config blob, one layer, manifest.
func (r *Registry) PushImage(t testing.TB, repo, tag string, env []string, labels map[string]string) {
	t.Helper()
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": env, "Labels": labels, "Cmd": []string{"/app"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{registryDigestOf([]byte("layer-" + tag))}},
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

// RegistrySeedTags are the tag counts Seed pushes, by repository.
var RegistrySeedTags = map[string]int64{"acme/webapp": 3, "acme/db": 1}

// RegistrySecrets are raw seeded values no leakwatch output may contain.
var RegistrySecrets = []string{"hunter2-Secret", "ops.admin@example.com", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "pg-Secret-1"}

// Seed pushes acme/webapp (latest, v1, v2) and acme/db (latest) with
// secrets in Env and personal data in Labels.
func (r *Registry) Seed(t testing.TB) {
	t.Helper()
	env := []string{"PATH=/usr/bin", "DB_PASSWORD=hunter2-Secret", "ADMIN_EMAIL=ops.admin@example.com",
		"API_TOKEN=ghp_abcdefghijklmnopqrstuvwxyz0123456789"}
	labels := map[string]string{"maintainer": "Bob Smith <bob.smith@example.com>"}
	for _, tag := range []string{"v1", "v2", "latest"} {
		r.PushImage(t, "acme/webapp", tag, env, labels)
	}
	r.PushImage(t, "acme/db", "latest", []string{"POSTGRES_PASSWORD=pg-Secret-1"}, nil)
}
