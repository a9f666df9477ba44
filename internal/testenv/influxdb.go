package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// InfluxOptions configure StartInflux.
type InfluxOptions struct {
	// Addr and Port of the HTTP API (zero: a fresh loopback address, a
	// free port).
	Addr netip.Addr
	Port int
	// Auth turns authentication on (no user exists until CreateAdmin).
	Auth bool
}

// Influx is a real influxd 1.x (Debian package) started for a test.
type Influx struct {
	Addr       netip.Addr
	Port       int
	user, pass string
}

const influxConfig = `reporting-disabled = true
bind-address = "{{addr}}:{{rpc}}"
[meta]
  dir = "{{dir}}/meta"
[data]
  dir = "{{dir}}/data"
  wal-dir = "{{dir}}/wal"
  query-log-enabled = false
  cache-max-memory-size = 67108864
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "{{addr}}:{{port}}"
  auth-enabled = {{auth}}
  log-enabled = false
[logging]
  level = "warn"
`

// StartInflux runs influxd with a temp config on its address, with or
// without authentication. Reporting to InfluxData is off. It is stopped
// when the test ends.
func StartInflux(t testing.TB, o InfluxOptions) *Influx {
	t.Helper()
	bin := Binary(t, "influxd")
	s := &Influx{}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	rpc := FreePort(t, s.Addr)
	dir := t.TempDir()
	r := strings.NewReplacer("{{addr}}", s.Addr.String(), "{{port}}", strconv.Itoa(s.Port),
		"{{rpc}}", strconv.Itoa(rpc), "{{dir}}", dir, "{{auth}}", strconv.FormatBool(o.Auth))
	conf := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(conf, []byte(r.Replace(influxConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	StartAndWait(t, "influxd", exec.Command(bin, "run", "-config", conf), s.Addr, s.Port, 30*time.Second)
	return s
}

func (s *Influx) base() string {
	return "http://" + net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.Port))
}

// do sends one request with the server's credentials (if any).
func (s *Influx) do(t testing.TB, method, path string, params url.Values, body string) string {
	t.Helper()
	if s.user != "" {
		params.Set("u", s.user)
		params.Set("p", s.pass)
	}
	req, err := http.NewRequest(method, s.base()+path+"?"+params.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 || strings.Contains(string(b), `"error"`) {
		t.Fatalf("%s %s %v: %d %s", method, path, params, resp.StatusCode, b)
	}
	return string(b)
}

// CreateAdmin creates the first admin user (allowed without credentials
// while none exists) and uses it from then on.
func (s *Influx) CreateAdmin(t testing.TB, user, pass string) {
	t.Helper()
	s.do(t, "POST", "/query", url.Values{"q": {fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", user, pass)}}, "")
	s.user, s.pass = user, pass
}

// InfluxSeedPoints are the point counts Seed writes, by
// "database.measurement".
var InfluxSeedPoints = map[string]int64{"telemetry.logins": 25, "telemetry.temperature": 40, "shop.orders": 7}

// InfluxSecrets are raw seeded values no leakwatch output may contain.
var InfluxSecrets = []string{"user1@example.com", "bob1@example.org", "tok_00000000000000000000000000001eef"}

// Seed writes points with personal-data-shaped fields and tags
// (InfluxSeedPoints).
func (s *Influx) Seed(t testing.TB) {
	t.Helper()
	s.do(t, "POST", "/query", url.Values{"q": {"CREATE DATABASE telemetry"}}, "")
	s.do(t, "POST", "/query", url.Values{"q": {"CREATE DATABASE shop"}}, "")
	var logins, temps, orders strings.Builder
	base := int64(1700000000)
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&logins, "logins,device_model=CamPro%d email=\"user%d@example.com\",name=\"Alice Example %d\",login_token=\"tok_%032x\",wifi_ssid=\"HomeNet-%d\" %d\n",
			i%3, i, i, i*7919, i, (base+int64(i))*1e9)
	}
	for i := 0; i < 40; i++ {
		fmt.Fprintf(&temps, "temperature,sensor=s%d value=%d.5 %d\n", i%4, 20+i%5, (base+int64(i))*1e9)
	}
	for i := 0; i < 7; i++ {
		fmt.Fprintf(&orders, "orders customer_email=\"bob%d@example.org\",total=%d.25 %d\n", i, 10+i, (base+int64(i))*1e9)
	}
	s.do(t, "POST", "/write", url.Values{"db": {"telemetry"}}, logins.String()+temps.String())
	s.do(t, "POST", "/write", url.Values{"db": {"shop"}}, orders.String())
}

// Digest hashes databases, users, measurements and every point.
func (s *Influx) Digest(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	fmt.Fprintln(h, s.do(t, "GET", "/query", url.Values{"q": {"SHOW DATABASES"}}, ""))
	if s.user != "" {
		fmt.Fprintln(h, s.do(t, "GET", "/query", url.Values{"q": {"SHOW USERS"}}, ""))
	}
	for _, db := range []string{"telemetry", "shop"} {
		fmt.Fprintln(h, s.do(t, "GET", "/query", url.Values{"db": {db}, "q": {"SHOW MEASUREMENTS; SHOW RETENTION POLICIES; SELECT * FROM /.*/"}}, ""))
	}
	return hex.EncodeToString(h.Sum(nil))
}
