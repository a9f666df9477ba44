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
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ClickHouseOptions configure StartClickHouse.
type ClickHouseOptions struct {
	// Addr and HTTPPort to listen on (zero: a fresh loopback address, a
	// free port); NativePort for the native protocol (0: a free port).
	Addr       netip.Addr
	HTTPPort   int
	NativePort int
	// Password of the default user ("" for none).
	Password string
	// QueryLog turns system.query_log on (log_queries for the default
	// profile, flushed every 200 ms); off by default, as in the package.
	QueryLog bool
}

// ClickHouse is a real clickhouse-server (Debian package) started for a
// test.
type ClickHouse struct {
	Addr       netip.Addr
	HTTPPort   int
	NativePort int
	password   string
}

const clickhouseConfig = `<?xml version="1.0"?>
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
    {{querylog}}
</yandex>
`

const clickhouseUsers = `<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>1000000000</max_memory_usage>{{logqueries}}</default></profiles>
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

// StartClickHouse runs clickhouse-server with a temp config on its
// address, ports and default user; it is stopped when the test ends.
func StartClickHouse(t testing.TB, o ClickHouseOptions) *ClickHouse {
	t.Helper()
	bin := Binary(t, "clickhouse-server")
	s := &ClickHouse{NativePort: o.NativePort, password: o.Password}
	s.Addr, s.HTTPPort = Listen(t, o.Addr, o.HTTPPort)
	for s.NativePort == 0 || s.NativePort == s.HTTPPort {
		s.NativePort = FreePort(t, s.Addr)
	}
	dir := t.TempDir()
	querylog, logqueries := "", ""
	if o.QueryLog {
		querylog = "<query_log><database>system</database><table>query_log</table><flush_interval_milliseconds>200</flush_interval_milliseconds></query_log>"
		logqueries = "<log_queries>1</log_queries>"
	}
	r := strings.NewReplacer("{{addr}}", s.Addr.String(), "{{http}}", strconv.Itoa(s.HTTPPort),
		"{{native}}", strconv.Itoa(s.NativePort), "{{dir}}", dir, "{{password}}", o.Password,
		"{{querylog}}", querylog, "{{logqueries}}", logqueries)
	conf := filepath.Join(dir, "config.xml")
	if err := os.WriteFile(conf, []byte(r.Replace(clickhouseConfig)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.xml"), []byte(r.Replace(clickhouseUsers)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf)
	cmd.Dir = dir
	StartAndWait(t, "clickhouse-server", cmd, s.Addr, s.HTTPPort, 30*time.Second)
	if err := WaitTCP(s.Addr, s.NativePort, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return s
}

// Query runs q over HTTP (POST) with the server's credentials.
func (s *ClickHouse) Query(t testing.TB, q string) string {
	t.Helper()
	u := fmt.Sprintf("http://%s/?%s", net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.HTTPPort)),
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

// ClickHouseSeedRows are the row counts Seed leaves in its MergeTree
// tables, by "database.table"; crm.contacts (TinyLog, 7 rows, no cheap
// count) and the view crm.contact_emails come on top.
var ClickHouseSeedRows = map[string]int64{"shop.users": 25, "shop.events": 40}

// ClickHouseSecrets are raw seeded values no leakwatch output may contain.
var ClickHouseSecrets = []string{"user1@example.com", "bob1@example.org", "$2b$12$cfcd208495d565ef66e7dff9f98764daabcdefghijklmnopqrstu"}

// Seed creates tables with personal-data-shaped rows.
func (s *ClickHouse) Seed(t testing.TB) {
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
		s.Query(t, q)
	}
}

// Digest hashes the table list, active parts and every table's rows.
func (s *ClickHouse) Digest(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	tables := s.Query(t, "SELECT database, name, engine FROM system.tables WHERE database != 'system' ORDER BY database, name FORMAT TSV")
	fmt.Fprintln(h, tables)
	fmt.Fprintln(h, s.Query(t, "SELECT database, table, name, rows FROM system.parts WHERE active AND database != 'system' ORDER BY database, table, name FORMAT TSV"))
	for _, line := range strings.Split(strings.TrimSpace(tables), "\n") {
		f := strings.Split(line, "\t")
		if len(f) < 3 || f[2] == "View" {
			continue
		}
		rows := strings.Split(s.Query(t, fmt.Sprintf("SELECT * FROM %s.%s FORMAT TSV", f[0], f[1])), "\n")
		sort.Strings(rows)
		fmt.Fprintln(h, f[0], f[1], strings.Join(rows, "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}
