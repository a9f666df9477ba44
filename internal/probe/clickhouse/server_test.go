package clickhouse

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
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// chServer is a real clickhouse-server started for one test.
type chServer struct {
	addr       netip.Addr
	httpPort   int
	nativePort int
	password   string
}

const chConfig = `<?xml version="1.0"?>
<yandex>
    <logger><level>warning</level><console>1</console></logger>
    <listen_host>{{addr}}</listen_host>
    <http_port>{{http}}</http_port>
    <tcp_port>{{native}}</tcp_port>
    <path>{{dir}}/data/</path>
    <tmp_path>{{dir}}/tmp/</tmp_path>
    <user_files_path>{{dir}}/user_files/</user_files_path>
    <format_schema_path>{{dir}}/format_schemas/</format_schema_path>
    <users_config>{{dir}}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <max_connections>64</max_connections>
    <mlock_executable>false</mlock_executable>
</yandex>
`

const chUsers = `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password>{{password}}</password>
            <networks><ip>127.0.0.0/8</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
        <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

// startClickHouse runs clickhouse-server with a temp config: a fresh
// loopback address, httpPort for HTTP (0: a random port), a random native
// port, and the default user with password ("" for none).
func startClickHouse(t *testing.T, httpPort int, password string) *chServer {
	t.Helper()
	bin := testenv.Binary(t, "clickhouse-server")
	s := &chServer{httpPort: httpPort, password: password}
	if httpPort == 0 {
		s.addr = testenv.Addr(t)
		s.httpPort = testenv.FreePort(t, s.addr)
	} else {
		s.addr = testenv.AddrWithPort(t, httpPort)
	}
	for s.nativePort = testenv.FreePort(t, s.addr); s.nativePort == s.httpPort; {
		s.nativePort = testenv.FreePort(t, s.addr)
	}
	dir := t.TempDir()
	r := strings.NewReplacer("{{addr}}", s.addr.String(), "{{http}}", strconv.Itoa(s.httpPort),
		"{{native}}", strconv.Itoa(s.nativePort), "{{dir}}", dir, "{{password}}", password)
	conf := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(conf, []byte(r.Replace(chConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(r.Replace(chUsers)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf)
	cmd.Dir = dir
	testenv.StartAndWait(t, "clickhouse-server", cmd, s.addr, s.httpPort, 30*time.Second)
	if err := testenv.WaitTCP(s.addr, s.nativePort, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

// query runs q over HTTP (POST) with the server's credentials.
func (s *chServer) query(t *testing.T, q string) string {
	t.Helper()
	u := fmt.Sprintf("http://%s/?%s", net.JoinHostPort(s.addr.String(), strconv.Itoa(s.httpPort)),
		url.Values{"user": {"default"}, "password": {s.password}}.Encode())
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Post(u, "text/plain", strings.NewReader(q))
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", q, resp.StatusCode, b)
	}
	return string(b)
}

// seed creates tables with personal-data-shaped rows.
func (s *chServer) seed(t *testing.T) {
	t.Helper()
	for _, q := range []string{
		"CREATE DATABASE shop",
		"CREATE TABLE shop.users (id UInt32, email String, name String, password_hash String) ENGINE = MergeTree ORDER BY id",
		`INSERT INTO shop.users SELECT number + 1, concat('user', toString(number + 1), '@example.com'),
			concat('Alice Example ', toString(number + 1)), concat('$2b$12$', lower(hex(MD5(toString(number)))), 'abcdefghijklmnopqrstu')
			FROM system.numbers LIMIT 25`,
		"CREATE TABLE shop.events (ts DateTime, user_email String, ip String) ENGINE = MergeTree ORDER BY ts",
		`INSERT INTO shop.events SELECT toDateTime(1700000000 + number), concat('user', toString(number % 25), '@example.com'),
			concat('10.0.0.', toString(number)) FROM system.numbers LIMIT 40`,
		"CREATE DATABASE crm",
		"CREATE TABLE crm.contacts (full_name String, phone String, email String) ENGINE = TinyLog",
		`INSERT INTO crm.contacts SELECT concat('Bob Person ', toString(number)), concat('+1-202-555-01', toString(10 + number)),
			concat('bob', toString(number), '@example.org') FROM system.numbers LIMIT 7`,
		"CREATE VIEW crm.contact_emails AS SELECT email FROM crm.contacts",
	} {
		s.query(t, q)
	}
}

// digest hashes the table list, active parts and every table's rows.
func (s *chServer) digest(t *testing.T) string {
	t.Helper()
	h := sha256.New()
	tables := s.query(t, "SELECT database, name, engine FROM system.tables WHERE database != 'system' ORDER BY database, name FORMAT TSV")
	fmt.Fprintln(h, tables)
	fmt.Fprintln(h, s.query(t, "SELECT database, table, name, rows FROM system.parts WHERE active AND database != 'system' ORDER BY database, table, name FORMAT TSV"))
	for _, line := range strings.Split(strings.TrimSpace(tables), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[2] == "View" {
			continue
		}
		rows := strings.Split(s.query(t, fmt.Sprintf("SELECT * FROM %s.%s FORMAT TSV", f[0], f[1])), "\n")
		sort.Strings(rows)
		fmt.Fprintln(h, f[0], f[1], strings.Join(rows, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
