package webdump

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// nginxSite is one server block of the test nginx.
type nginxSite struct {
	Addr netip.Addr
	Port int
	Root string
}

// nginxFleet runs one real nginx with three sites: an open one with dumps
// and autoindex, a catch-all that answers index.html for every path, and
// one behind basic auth.
type nginxFleet struct {
	Open, CatchAll, Auth nginxSite
	Version              string
}

func startNginx(t *testing.T) *nginxFleet {
	t.Helper()
	bin := testenv.Binary(t, "nginx")
	dir := t.TempDir()
	f := &nginxFleet{}
	mk := func(name string) nginxSite {
		a := testenv.Addr(t)
		s := nginxSite{Addr: a, Port: testenv.FreePort(t, a), Root: filepath.Join(dir, name)}
		if err := os.MkdirAll(s.Root, 0o755); err != nil {
			t.Fatal(err)
		}
		return s
	}
	f.Open, f.CatchAll, f.Auth = mk("open"), mk("catchall"), mk("auth")
	seedDumps(t, f.Open.Root)
	seedDumps(t, f.Auth.Root)
	writeFile(t, filepath.Join(f.CatchAll.Root, "index.html"),
		"<!doctype html><html><head><title>App</title></head><body><div id=app>Welcome</div></body></html>\n")
	writeFile(t, filepath.Join(dir, "htpasswd"), "admin:{PLAIN}s3cret-admin-pass\n")
	for _, d := range []string{"body", "proxy", "fcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`user root root;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path %[1]s/tmp/body;
  proxy_temp_path %[1]s/tmp/proxy;
  fastcgi_temp_path %[1]s/tmp/fcgi;
  uwsgi_temp_path %[1]s/tmp/uwsgi;
  scgi_temp_path %[1]s/tmp/scgi;
  server { listen %[2]s; root %[3]s; autoindex on; }
  server { listen %[4]s; root %[5]s; location / { try_files /index.html =404; } }
  server { listen %[6]s; root %[7]s; autoindex on;
    auth_basic "staff"; auth_basic_user_file %[1]s/htpasswd; }
}
`, dir, hp(f.Open), f.Open.Root, hp(f.CatchAll), f.CatchAll.Root, hp(f.Auth), f.Auth.Root)
	cpath := filepath.Join(dir, "nginx.conf")
	writeFile(t, cpath, conf)
	cmd := exec.Command(bin, "-e", "stderr", "-p", dir, "-c", cpath, "-g", "daemon off;")
	testenv.StartAndWait(t, "nginx", cmd, f.Open.Addr, f.Open.Port, 15*time.Second)
	for _, s := range []nginxSite{f.CatchAll, f.Auth} {
		if err := testenv.WaitTCP(s.Addr, s.Port, 10*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	if m := regexp.MustCompile(`nginx/(\S+)`).FindSubmatch(out); m != nil {
		f.Version = string(m[1])
	}
	return f
}

func hp(s nginxSite) string { return fmt.Sprintf("%s:%d", s.Addr, s.Port) }

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const seedEnv = `# production settings
APP_ENV=production
DB_PASSWORD="Winter2024!db"
ADMIN_EMAIL=alice.martin@example.com
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc
`

const seedAWS = `[default]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY

[backup]
aws_access_key_id = AKIAI44QH8DHBEXAMPLE
aws_secret_access_key = je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY
`

const seedMySQL = "-- MySQL dump 10.19  Distrib 10.11.6-MariaDB\n" +
	"/*!40101 SET NAMES utf8mb4 */;\n" +
	"DROP TABLE IF EXISTS `users`;\n" +
	"CREATE TABLE `users` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `email` varchar(255) NOT NULL,\n" +
	"  `full_name` varchar(255) DEFAULT NULL,\n  `password_hash` char(60) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n" +
	"LOCK TABLES `users` WRITE;\n" +
	"INSERT INTO `users` VALUES (1,'alice.martin@example.com','Alice Martin','$2y$10$abcdefghijklmnopqrstuv')," +
	"(2,'bob.o\\'neil@example.org','Bob O\\'Neil',NULL),(3,'carol@example.net','Carol, Jones','$2y$10$zyxwvutsrqponmlkjihgfe');\n" +
	"UNLOCK TABLES;\n-- Dump completed on 2026-11-28\n"

const seedPG = "--\n-- PostgreSQL database dump\n--\n" +
	"CREATE TABLE public.customers (\n    id integer NOT NULL,\n    email text,\n    phone text\n);\n" +
	"COPY public.customers (id, email, phone) FROM stdin;\n" +
	"1\tdave@example.com\t+1 555 0100\n2\teve@example.com\t\\N\n\\.\n"

func seedDumps(t *testing.T, root string) {
	t.Helper()
	writeFile(t, filepath.Join(root, ".git/HEAD"), "ref: refs/heads/main\n")
	writeFile(t, filepath.Join(root, ".git/config"), "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"+
		"[remote \"origin\"]\n\turl = https://deploy:ghp_16C7e42F292c6912E7710c838347Ae178B4a@git.example.com/acme/shop.git\n"+
		"\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n")
	writeFile(t, filepath.Join(root, ".env"), seedEnv)
	writeFile(t, filepath.Join(root, ".aws/credentials"), seedAWS)
	writeFile(t, filepath.Join(root, "db.sql"), seedPG)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(seedMySQL))
	_ = zw.Close()
	writeFile(t, filepath.Join(root, "backup.sql.gz"), gz.String())
	writeFile(t, filepath.Join(root, "dump.rdb"), "REDIS0011\xfa\tredis-ver\x057.0.15\xfe\x00\xfb\x01\x00\x00\x05email\x18alice.martin@example.com\xff")
}

// treeDigest hashes every file under root (names and contents).
func treeDigest(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	var paths []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s %v %d\n", p, st.Mode(), st.ModTime().UnixNano())
		if !st.IsDir() {
			b, _ := os.ReadFile(p)
			h.Write(b)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func datasetByName(res *probe.Result) map[string]probe.Dataset {
	m := map[string]probe.Dataset{}
	for _, d := range res.Datasets {
		m[d.Name] = d
	}
	return m
}

func samplePaths(d probe.Dataset) map[string]bool {
	m := map[string]bool{}
	for _, r := range d.Sample {
		for _, v := range r.Values {
			m[v.Path] = true
		}
	}
	return m
}

func TestNginx(t *testing.T) {
	f := startNginx(t)
	p := New()

	t.Run("open", func(t *testing.T) {
		before := treeDigest(t, f.Open.Root)
		res, err := probetest.Run(t, p, f.Open.Addr, f.Open.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
			t.Fatalf("status %s/%s, want exposed/none", res.Status, res.Auth)
		}
		if res.Product != "nginx" || res.Version != f.Version {
			t.Errorf("product %q %q, want nginx %q", res.Product, res.Version, f.Version)
		}
		if n := res.Evidence["requests"].(int); n > MaxRequests {
			t.Errorf("%d requests, max %d", n, MaxRequests)
		}
		ds := datasetByName(res)
		wantRecords := map[string]int64{
			"/": 3, "/.env": 5, "/.aws/credentials": 2, "/db.sql": 2, "/backup.sql.gz": 3,
		}
		for name, want := range wantRecords {
			d, ok := ds[name]
			if !ok {
				t.Errorf("dataset %s missing (have %v)", name, keys(ds))
				continue
			}
			if d.Records == nil || *d.Records != want {
				t.Errorf("%s: records %v, want %d", name, d.Records, want)
			}
			if d.Kind != "path" {
				t.Errorf("%s: kind %q", name, d.Kind)
			}
		}
		for _, name := range []string{"/.git/HEAD", "/.git/config", "/dump.rdb"} {
			if _, ok := ds[name]; !ok {
				t.Errorf("dataset %s missing", name)
			}
		}
		for _, name := range []string{"/backup.sql", "/dump.sql"} {
			if _, ok := ds[name]; ok {
				t.Errorf("dataset %s reported but not served", name)
			}
		}
		if d := ds["/backup.sql.gz"]; d.Bytes == nil || *d.Bytes <= 0 {
			t.Errorf("backup.sql.gz bytes %v", d.Bytes)
		}
		wantPaths := map[string][]string{
			"/.env":             {"DB_PASSWORD", "ADMIN_EMAIL", "AWS_SECRET_ACCESS_KEY"},
			"/.aws/credentials": {"aws_access_key_id", "aws_secret_access_key"},
			"/.git/config":      {"remote.origin.url"},
			"/db.sql":           {"customers.email", "customers.phone"},
			"/backup.sql.gz":    {"users.email", "users.full_name", "users.password_hash"},
			"/":                 {"file_name"},
		}
		for name, paths := range wantPaths {
			got := samplePaths(ds[name])
			for _, p := range paths {
				if !got[p] {
					t.Errorf("%s: sample lacks %s (has %v)", name, p, got)
				}
			}
		}
		if d := ds["/backup.sql.gz"]; len(d.Fields) != 4 || d.Sampled != 3 {
			t.Errorf("backup.sql.gz fields %v sampled %d", d.Fields, d.Sampled)
		} else if v := d.Sample[1].Values[1].Text; v != "bob.o'neil@example.org" {
			t.Errorf("escaped value %q", v)
		}
		if res.Evidence["git_head"] != "refs/heads/main" {
			t.Errorf("git_head evidence %v", res.Evidence["git_head"])
		}
		if after := treeDigest(t, f.Open.Root); after != before {
			t.Error("served tree changed during the probe")
		}
	})

	t.Run("catch-all", func(t *testing.T) {
		res, err := probetest.Run(t, p, f.CatchAll.Addr, f.CatchAll.Port)
		if err == nil {
			t.Fatalf("catch-all index page reported: %s %+v", res.Status, res.Datasets)
		}
		if !isNotThis(err) {
			t.Fatalf("err %v, want not-this-service", err)
		}
	})

	t.Run("protected", func(t *testing.T) {
		res, err := probetest.Run(t, p, f.Auth.Addr, f.Auth.Port)
		if err != nil {
			t.Fatalf("probe: %v", err)
		}
		if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
			t.Fatalf("status %s/%s, want protected/required", res.Status, res.Auth)
		}
		if len(res.Datasets) != 0 {
			t.Errorf("datasets read from a protected server: %v", keys(datasetByName(res)))
		}
		if res.Product != "nginx" {
			t.Errorf("product %q", res.Product)
		}
	})
}

func TestNotHTTP(t *testing.T) {
	s := probetest.Banner(t, "220 mail.example.com ESMTP Exim 4.96\r\n")
	_, err := probetest.Run(t, New(), s.Addr, s.Port)
	if !isNotThis(err) {
		t.Fatalf("err %v, want not-this-service", err)
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}

func TestGzipBomb(t *testing.T) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 4 { // 4 MiB of zeros, ~4 KiB compressed
		_, _ = zw.Write(zero)
	}
	_ = zw.Close()
	out, complete, ok := gunzipPrefix(gz.Bytes(), 1<<20)
	if !ok || complete || len(out) != 1<<20 {
		t.Fatalf("bomb: ok %v complete %v len %d", ok, complete, len(out))
	}
	// A cut stream yields what came before the cut.
	var small bytes.Buffer
	zw = gzip.NewWriter(&small)
	_, _ = zw.Write([]byte(strings.Repeat(seedMySQL, 50)))
	_ = zw.Close()
	out, complete, ok = gunzipPrefix(small.Bytes()[:small.Len()/2], 1<<20)
	if !ok || complete || len(out) == 0 {
		t.Fatalf("cut: ok %v complete %v len %d", ok, complete, len(out))
	}
}

func isNotThis(err error) bool {
	return errors.Is(err, probe.ErrNotThisService)
}

func keys(m map[string]probe.Dataset) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
