package influxdb

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

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// ixServer is a real influxd started for one test.
type ixServer struct {
	addr       netip.Addr
	port       int
	user, pass string
}

const ixConfig = `reporting-disabled = true
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

// startInflux runs influxd with a temp config on a fresh loopback address
// (port 0: a random one), with or without authentication. Reporting to
// InfluxData is off.
func startInflux(t *testing.T, port int, auth bool) *ixServer {
	t.Helper()
	bin := testenv.Binary(t, "influxd")
	s := &ixServer{port: port}
	if port == 0 {
		s.addr = testenv.Addr(t)
		s.port = testenv.FreePort(t, s.addr)
	} else {
		s.addr = testenv.AddrWithPort(t, port)
	}
	rpc := testenv.FreePort(t, s.addr)
	dir := t.TempDir()
	r := strings.NewReplacer("{{addr}}", s.addr.String(), "{{port}}", strconv.Itoa(s.port),
		"{{rpc}}", strconv.Itoa(rpc), "{{dir}}", dir, "{{auth}}", strconv.FormatBool(auth))
	conf := filepath.Join(dir, "influxdb.conf")
	if err := os.WriteFile(conf, []byte(r.Replace(ixConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartAndWait(t, "influxd", exec.Command(bin, "run", "-config", conf), s.addr, s.port, 30*time.Second)
	return s
}

func (s *ixServer) base() string {
	return "http://" + net.JoinHostPort(s.addr.String(), strconv.Itoa(s.port))
}

// do sends one request with the server's credentials (if any).
func (s *ixServer) do(t *testing.T, method, path string, params url.Values, body string) string {
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

// createAdmin creates the first admin user (allowed without credentials
// while none exists) and uses it from then on.
func (s *ixServer) createAdmin(t *testing.T, user, pass string) {
	t.Helper()
	s.do(t, "POST", "/query", url.Values{"q": {fmt.Sprintf("CREATE USER %s WITH PASSWORD '%s' WITH ALL PRIVILEGES", user, pass)}}, "")
	s.user, s.pass = user, pass
}

// seed writes points with personal-data-shaped fields and tags.
func (s *ixServer) seed(t *testing.T) {
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

// digest hashes databases, users, measurements and every point.
func (s *ixServer) digest(t *testing.T) string {
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
