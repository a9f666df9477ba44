package memcached

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestOpenServer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		port int
		args []string
	}{
		{"default", 11211, nil},
		{"ascii-only", 0, []string{"-B", "ascii"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := testenv.StartMemcached(t, testenv.MemcachedOptions{Port: tc.port, Args: tc.args})
			s.Seed(t)
			res := probetest.OpenClean(t, New(), s.Addr, s.Port, probetest.ReadOnly(s.Digest))
			if want := testenv.MemcachedVersion(t); res.Product != "memcached" || res.Version != want {
				t.Errorf("product %q version %q, want %q", res.Product, res.Version, want)
			}
			if len(res.Datasets) != 1 {
				t.Fatalf("datasets %+v", res.Datasets)
			}
			d := res.Datasets[0]
			if d.Name != "cache" || d.Records == nil || *d.Records != int64(len(testenv.MemcachedSeed)) || d.Bytes == nil || *d.Bytes == 0 {
				t.Errorf("dataset %+v", d.Dataset)
			}
			if d.Sampled != len(testenv.MemcachedSeed) || len(d.Sample) != len(testenv.MemcachedSeed) {
				t.Errorf("sampled %d", d.Sampled)
			}
			paths := probetest.SamplePaths(d)
			probetest.WantPaths(t, "sample", paths, "email", "name", "token", "login_token", "ip", "apikey", "greeting", "_key")
		})
	}
}

func TestProtected(t *testing.T) {
	t.Parallel()
	t.Run("sasl", func(t *testing.T) {
		t.Parallel()
		if _, ok := testenv.LookPath("saslpasswd2"); !ok {
			testenv.Unavailable(t, "saslpasswd2 (sasl2-bin) not installed")
		}
		dir := t.TempDir()
		db := filepath.Join(dir, "sasldb2")
		conf := fmt.Sprintf("mech_list: plain\nsasldb_path: %s\n", db)
		if err := os.WriteFile(filepath.Join(dir, "memcached.conf"), []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("saslpasswd2", "-p", "-f", db, "-a", "memcached", "-c", "cacheuser")
		cmd.Stdin = strings.NewReader("cache-pass-123")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("saslpasswd2: %v %s", err, out)
		}
		// memcached drops root for "nobody", who must read the database.
		for _, p := range []string{dir, db} {
			if err := os.Chmod(p, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		s := testenv.StartMemcached(t, testenv.MemcachedOptions{Env: []string{"SASL_CONF_PATH=" + dir}, Args: []string{"-S"}})
		checkProtected(t, s, "sasl")
	})
	t.Run("ascii-auth", func(t *testing.T) {
		t.Parallel()
		s := testenv.StartMemcachedASCIIAuth(t, testenv.MemcachedOptions{}, "cacheuser", "cache-pass-123")
		checkProtected(t, s, "ascii-auth")
	})
}

func checkProtected(t *testing.T, s *testenv.Memcached, mech string) {
	t.Helper()
	res := probetest.Protected(t, New(), s.Addr, s.Port)
	if res.Evidence["auth_challenge"] != mech || len(res.Datasets) != 0 {
		t.Fatalf("evidence %v datasets %v", res.Evidence, res.Datasets)
	}
	if mech == "sasl" && res.Version != testenv.MemcachedVersion(t) {
		t.Errorf("version %q", res.Version)
	}
}

func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }, NotThis: probetest.Banners(t, "http", "redis", "smtp")})
}
