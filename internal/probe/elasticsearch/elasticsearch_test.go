package elasticsearch

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testenv.StopShared()
	os.Exit(code)
}

const (
	nCustomers = 1000
	nProducts  = 300
)

// seeded returns the shared OpenSearch node with a customers and a
// products index (seeded once).
func seeded(t *testing.T) *testenv.SearchNode {
	t.Helper()
	n := testenv.SharedSearchNode(t, "opensearch")
	ctx := context.Background()
	if _, err := n.Client.Do(ctx, "GET", "/customers/_count", nil, ""); err == nil {
		return n
	}
	if err := n.Client.CreateIndex(ctx, "customers", `{"properties":{"email":{"type":"keyword"},"user_name":{"type":"keyword"},"camera_model":{"type":"keyword"},"last_connected":{"type":"date"},"account_token":{"type":"keyword"},"camera_token":{"type":"keyword"},"wifi_ssid":{"type":"keyword"},"device_id":{"type":"keyword"},"firmware_version":{"type":"keyword"},"location":{"type":"geo_point"}}}`); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Bulk(ctx, n.Client, "customers", testenv.Customers(1, nCustomers)); err != nil {
		t.Fatal(err)
	}
	if err := n.Client.CreateIndex(ctx, "products", ""); err != nil {
		t.Fatal(err)
	}
	if err := testenv.Bulk(ctx, n.Client, "products", testenv.Products(2, nProducts)); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenSearchExposed(t *testing.T) {
	n := seeded(t)
	res := probetest.Open(t, New(), n.Addr, n.Port)
	if res.Product != "opensearch" || !strings.HasPrefix(res.Version, "2.19.") {
		t.Errorf("product %q version %q, want opensearch 2.19.x", res.Product, res.Version)
	}
	if res.Evidence["cluster_uuid"] == "" {
		t.Error("no cluster_uuid evidence")
	}
	if _, ok := res.Evidence["search_stats"]; !ok {
		t.Error("no search_stats evidence")
	}
	c := probetest.Dataset(t, res, "customers")
	if c.Records == nil || *c.Records != nCustomers {
		t.Fatalf("customers records = %v, want %d", c.Records, nCustomers)
	}
	if c.Bytes == nil || *c.Bytes <= 0 {
		t.Errorf("customers bytes = %v", c.Bytes)
	}
	if c.Sampled != 200 || len(c.Sample) != 200 {
		t.Errorf("customers sampled %d (%d records), want 200", c.Sampled, len(c.Sample))
	}
	var fieldNames []string
	for _, f := range c.Fields {
		fieldNames = append(fieldNames, f.Name+":"+f.Type)
	}
	for _, want := range []string{"email:keyword", "wifi_ssid:keyword", "last_connected:date", "location:geo_point"} {
		if !slices.Contains(fieldNames, want) {
			t.Errorf("mapping fields %v lack %s", fieldNames, want)
		}
	}
	paths := map[string]bool{}
	for _, v := range c.Sample[0].Values {
		paths[v.Path] = true
	}
	for _, want := range []string{"email", "user_name", "account_token", "camera_token", "wifi_ssid", "camera_model"} {
		if !paths[want] {
			t.Errorf("sample lacks field %s (has %v)", want, paths)
		}
	}
	p := probetest.Dataset(t, res, "products")
	if p.Records == nil || *p.Records != nProducts {
		t.Errorf("products records = %v, want %d", p.Records, nProducts)
	}
	for _, d := range res.Datasets {
		if strings.HasPrefix(d.Name, ".") && !d.Hidden {
			t.Errorf("system index %s not marked hidden", d.Name)
		}
	}
}

func TestSampleBudget(t *testing.T) {
	n := seeded(t)
	res := probetest.Probed(t, New(), n.Addr, n.Port, func(b *probe.Budget) {
		b.SampleBytes = 4 << 10
		b.MaxDatasets = 1
	})
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 0 {
			sampled++
			size := 0
			for _, r := range d.Sample {
				size += r.Size()
			}
			if size > 4<<10 || d.Sampled >= 200 {
				t.Errorf("%s: %d records, %d bytes sampled under a 4 KiB budget", d.Name, d.Sampled, size)
			}
		}
	}
	if sampled != 1 {
		t.Errorf("%d datasets sampled, want 1 (MaxDatasets)", sampled)
	}
}

func TestReadOnly(t *testing.T) {
	n := seeded(t)
	if _, err := probetest.Check(t, New(), n.Addr, n.Port, probetest.ReadOnly(digest(n))); err != nil {
		t.Fatal(err)
	}
}

// digest is the node's state (its indices, mappings and counts), for
// probetest.ReadOnly and probetest.Unchanged.
func digest(n *testenv.SearchNode) func(testing.TB) string {
	return func(tb testing.TB) string {
		tb.Helper()
		st, err := n.Client.State(context.Background())
		if err != nil {
			tb.Fatal(err)
		}
		return st
	}
}

// TestNginx: basic auth in front of the node is protected; a static page
// on 9200 is not a search node; a proxy on a non-standard port is found.
func TestNginx(t *testing.T) {
	n := seeded(t)
	dir := t.TempDir()
	pw := testenv.Htpasswd(t, dir, "ops", "s3cret-pass")
	if err := os.WriteFile(dir+"/index.html", []byte("<html><body>It works</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	authAddr := testenv.AddrWithPort(t, 9200)
	staticAddr := testenv.AddrWithPort(t, 9200)
	odd := testenv.Addr(t)
	oddPort := testenv.FreePort(t, odd)
	tlsAddr := testenv.AddrWithPort(t, 9200)
	testenv.Nginx(t, dir,
		testenv.NginxSite{Addr: tlsAddr, Port: 9200, TLS: true, Body: fmt.Sprintf(`location / { proxy_pass %s; }`, n.URL())},
		testenv.NginxSite{Addr: authAddr, Port: 9200, Body: fmt.Sprintf(`auth_basic "restricted"; auth_basic_user_file %s; location / { proxy_pass %s; }`, pw, n.URL())},
		testenv.NginxSite{Addr: staticAddr, Port: 9200, Body: fmt.Sprintf(`root %s; location / { try_files $uri /index.html; }`, dir)},
		testenv.NginxSite{Addr: odd, Port: oddPort, Body: fmt.Sprintf(`location / { proxy_pass %s; }`, n.URL())},
	)
	t.Run("basic-auth", func(t *testing.T) {
		probetest.Protected(t, New(), authAddr, 9200)
	})
	t.Run("static", func(t *testing.T) {
		res, err := probetest.Check(t, New(), staticAddr, 9200)
		if err == nil {
			t.Fatalf("static page identified as %s %s", res.Product, res.Status)
		}
		if !errorsIsNotThis(err) {
			t.Fatalf("err = %v, want not-this-service", err)
		}
	})
	t.Run("tls", func(t *testing.T) {
		res, err := probetest.Check(t, New(), tlsAddr, 9200)
		if err != nil {
			t.Fatal(err)
		}
		if !res.TLS || res.Status != finding.StatusExposed || res.Product != "opensearch" || len(res.Datasets) == 0 {
			t.Fatalf("got tls=%v %s %s with %d datasets, want exposed opensearch over TLS", res.TLS, res.Product, res.Status, len(res.Datasets))
		}
	})
	t.Run("non-standard-port", func(t *testing.T) {
		res, err := probetest.Check(t, New(), odd, oddPort)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Product != "opensearch" {
			t.Fatalf("got %s %s, want exposed opensearch", res.Product, res.Status)
		}
	})
}

func TestElasticsearch7RansomNote(t *testing.T) {
	n := testenv.SharedSearchNode(t, "elasticsearch7")
	ctx := context.Background()
	if _, err := n.Client.Do(ctx, "GET", "/read_me/_count", nil, ""); err != nil {
		if err := n.Client.CreateIndex(ctx, "read_me", ""); err != nil {
			t.Fatal(err)
		}
		note := []map[string]string{{"message": "All your data is backed up. You must pay 0.05 BTC to recover it. Contact: recover@example.invalid"}}
		if err := testenv.Bulk(ctx, n.Client, "read_me", note); err != nil {
			t.Fatal(err)
		}
	}
	res, err := probetest.Check(t, New(), n.Addr, n.Port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Product != "elasticsearch" || res.Version != "7.10.2" {
		t.Errorf("got %s %s, want elasticsearch 7.10.2", res.Product, res.Version)
	}
	if res.Status != finding.StatusExposed || !slices.Contains(res.Flags, "ransom-note") {
		t.Fatalf("status %s flags %v, want exposed with ransom-note", res.Status, res.Flags)
	}
	d := probetest.Dataset(t, res, "read_me")
	if !slices.Contains(d.Flags, "ransom-note") || d.Records == nil || *d.Records != 1 {
		t.Errorf("read_me: flags %v records %v", d.Flags, d.Records)
	}
}

func errorsIsNotThis(err error) bool {
	return err != nil && strings.Contains(err.Error(), probe.ErrNotThisService.Error())
}

// TestConformance: the hostile servers (other services: TestNginx).
func TestConformance(t *testing.T) {
	probetest.Conform(t, probetest.Conformance{New: func() probe.Prober { return New() }})
}

// hostileHTTP serves one fixed HTTP response head and then body bytes
// forever (or the declared body).
func hostileHTTP(t *testing.T, head string, endless bool) (netip.Addr, int) {
	t.Helper()
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				buf := make([]byte, 4096)
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, _ = c.Read(buf)
				if _, err := c.Write([]byte(head)); err != nil {
					return
				}
				chunk := []byte(strings.Repeat(`{"a":"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"},`, 512))
				for endless {
					_ = c.SetWriteDeadline(time.Now().Add(20 * time.Second))
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}(c)
		}
	}()
	return addr, l.Addr().(*net.TCPAddr).Port
}

func TestHostileHTTP(t *testing.T) {
	cases := map[string]string{
		"endless-body":   "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n[",
		"1GiB-declared":  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n[",
		"endless-header": "HTTP/1.1 200 OK\r\nX-A: " + strings.Repeat("a", 1<<20),
	}
	for name, head := range cases {
		t.Run(name, func(t *testing.T) {
			addr, port := hostileHTTP(t, head, true)
			env := probetest.Env(addr, port)
			env.Budget.Timeout = 10 * time.Second
			env.Budget.MaxBytes = 32 << 20
			ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
			defer cancel()
			start := time.Now()
			res, err := New().Probe(ctx, env)
			if d := time.Since(start); d > 12*time.Second {
				t.Fatalf("took %s", d)
			}
			if err == nil && res.Status == finding.StatusExposed {
				t.Fatalf("hostile server reported exposed")
			}
			if env.BytesRead() > env.Budget.MaxBytes {
				t.Fatalf("read %d bytes over budget %d", env.BytesRead(), env.Budget.MaxBytes)
			}
		})
	}
}
