package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocql/gocql"
)

// CassandraNode is a real single-node Apache Cassandra started from Maven
// Central artifacts by testenv/cassandranode (a small Java launcher).
type CassandraNode struct {
	Addr netip.Addr
	Port int    // CQL native transport port
	Auth string // "none" or "password" (default superuser cassandra/cassandra)
	Dir  string
}

// HostPort is "ip:port" of the CQL port.
func (n *CassandraNode) HostPort() string {
	return netip.AddrPortFrom(n.Addr, uint16(n.Port)).String()
}

// StartCassandra boots a node on addr:port (storage port 7000 on addr)
// with its files in dir; auth is "none" or "password".
func StartCassandra(addr netip.Addr, port int, dir, auth string) (*CassandraNode, error) {
	if !addr.Is4() || !addr.IsLoopback() {
		return nil, fmt.Errorf("testenv: cassandra address %s is not IPv4 loopback", addr)
	}
	if _, err := startJavaNode("cassandranode", "cassandra", addr.String(), strconv.Itoa(port), dir, auth); err != nil {
		return nil, err
	}
	return &CassandraNode{Addr: addr, Port: port, Auth: auth, Dir: dir}, nil
}

// Stop stops the node and waits for it to exit.
func (n *CassandraNode) Stop() { stopJavaNode("cassandranode", n.Dir) }

var cassNodes sharedServers[*CassandraNode]

// SharedCassandra returns a node shared by the tests of a package, one per
// key; booting takes 10-20 s. port 0 means the default 9042. Call
// StopSharedCassandra from TestMain after m.Run.
func SharedCassandra(tb testing.TB, key string, port int, auth string) *CassandraNode {
	tb.Helper()
	return cassNodes.must(tb, key, "cassandra node", func() (*CassandraNode, error) {
		if port == 0 {
			port = 9042
		}
		var addr netip.Addr
		for i := 0; i < 50; i++ {
			addr = AddrWithPort(tb, port)
			if PortFree(addr, 7000) {
				break
			}
		}
		return startCassandraIn(addr, port, auth)
	})
}

// startCassandraIn is StartCassandra in a new temporary folder.
func startCassandraIn(addr netip.Addr, port int, auth string) (*CassandraNode, error) {
	return inTempDir("leakwatch-cassandra-", func(dir string) (*CassandraNode, error) {
		return StartCassandra(addr, port, dir, auth)
	})
}

// stopAndRemove stops the node and removes its files.
func (n *CassandraNode) stopAndRemove() {
	n.Stop()
	os.RemoveAll(n.Dir)
}

// StopSharedCassandra stops every shared Cassandra node (in parallel: a
// clean shutdown drains for a few seconds) and removes its files.
func StopSharedCassandra() {
	cassNodes.stopAll((*CassandraNode).stopAndRemove)
}

// StartCassandraNode boots a node on addr:port (storage port 7000 on addr)
// with auth "none" or "password", or skips (fails under CI) the test
// when it cannot; it is stopped when the test ends.
func StartCassandraNode(tb testing.TB, addr netip.Addr, port int, auth string) *CassandraNode {
	tb.Helper()
	return forTest(tb, "cassandra node", func() (*CassandraNode, error) { return startCassandraIn(addr, port, auth) },
		(*CassandraNode).stopAndRemove)
}

// Session opens a gocql session to the node (the test's own client; user
// "" for none), closed when the test ends.
func (n *CassandraNode) Session(t testing.TB, user, password string) *gocql.Session {
	t.Helper()
	cl := gocql.NewCluster(n.HostPort())
	cl.ProtoVersion = 4
	cl.DisableInitialHostLookup = true
	cl.Consistency = gocql.One
	cl.Timeout = 20 * time.Second
	cl.ConnectTimeout = 10 * time.Second
	cl.NumConns = 1
	if user != "" {
		cl.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: password}
	}
	s, err := cl.CreateSession()
	if err != nil {
		t.Fatalf("gocql session to %s: %v", n.HostPort(), err)
	}
	t.Cleanup(s.Close)
	return s
}

// CassandraExec runs CQL statements.
func CassandraExec(t testing.TB, s *gocql.Session, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if err := s.Query(q).Exec(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// CassandraSeedRows are the rows SeedCassandra writes, by table.
var CassandraSeedRows = map[string]int64{"lw_crm.users": 30, "lw_crm.devices": 10, "lw_crm.empty": 0}

// CassandraSecrets are raw seeded values no leakwatch output may contain.
var CassandraSecrets = []string{"user01@example.com", "tok_00000000000000000000000000001eef"}

// SeedCassandra creates keyspace lw_crm with two tables of
// personal-data-shaped rows and an empty table (CassandraSeedRows). Tables
// flush every second so that system.size_estimates sees them.
func SeedCassandra(t testing.TB, s *gocql.Session) {
	t.Helper()
	CassandraExec(t, s,
		`CREATE KEYSPACE IF NOT EXISTS lw_crm WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
		`CREATE TYPE IF NOT EXISTS lw_crm.address (street text, city text)`,
		`CREATE TABLE IF NOT EXISTS lw_crm.users (user_id int PRIMARY KEY, email text, full_name text,
			login_token text, created timestamp, devices map<text, text>, tags set<text>,
			home frozen<address>, score double) WITH memtable_flush_period_in_ms = 1000`,
		`CREATE TABLE IF NOT EXISTS lw_crm.devices (user_id int, device_id timeuuid, model text, wifi_ssid text,
			ip inet, PRIMARY KEY (user_id, device_id)) WITH memtable_flush_period_in_ms = 1000`,
		`CREATE TABLE IF NOT EXISTS lw_crm.empty (k text PRIMARY KEY, v blob)`,
	)
	for i := 1; i <= 30; i++ {
		err := s.Query(`INSERT INTO lw_crm.users (user_id, email, full_name, login_token, created, devices, tags, home, score)
			VALUES (?, ?, ?, ?, ?, ?, ?, {street: ?, city: 'Springfield'}, ?)`,
			i, fmt.Sprintf("user%02d@example.com", i), fmt.Sprintf("Person %02d Example", i),
			fmt.Sprintf("tok_%032x", i*7919), time.Date(2024, 1, i%28+1, 0, 0, 0, 0, time.UTC),
			map[string]string{"cam-" + fmt.Sprint(i): "AA:BB:CC:00:00:" + fmt.Sprintf("%02X", i)},
			[]string{"vip", "beta"}, fmt.Sprintf("%d Main St", i), float64(i)/3).Exec()
		if err != nil {
			t.Fatalf("insert user %d: %v", i, err)
		}
	}
	for i := 1; i <= 10; i++ {
		err := s.Query(`INSERT INTO lw_crm.devices (user_id, device_id, model, wifi_ssid, ip) VALUES (?, now(), ?, ?, ?)`,
			i%5, "Cam Model "+fmt.Sprint(i), "HomeNet-"+fmt.Sprint(i), net.IPv4(10, 0, 0, byte(i))).Exec()
		if err != nil {
			t.Fatalf("insert device %d: %v", i, err)
		}
	}
}

// CassandraDigest hashes the schema and every row of the non-system
// keyspaces.
func CassandraDigest(t testing.TB, s *gocql.Session) string {
	t.Helper()
	h := sha256.New()
	var lines []string
	it := s.Query(`SELECT keyspace_name, table_name, column_name, type FROM system_schema.columns`).Iter()
	var ks, tb, col, typ string
	tables := map[string]bool{}
	for it.Scan(&ks, &tb, &col, &typ) {
		if ks == "system" || strings.HasPrefix(ks, "system_") {
			continue
		}
		lines = append(lines, strings.Join([]string{ks, tb, col, typ}, "|"))
		tables[ks+"."+tb] = true
	}
	if err := it.Close(); err != nil {
		t.Fatalf("digest schema: %v", err)
	}
	for name := range tables {
		it := s.Query("SELECT * FROM " + name).Iter()
		for {
			row := map[string]any{}
			if !it.MapScan(row) {
				break
			}
			lines = append(lines, name+"|"+fmt.Sprint(row))
		}
		if err := it.Close(); err != nil {
			t.Fatalf("digest %s: %v", name, err)
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ChangeDefaultPassword sets a new password for the default superuser
// cassandra through admin and waits until the node's credentials cache no
// longer accepts the default one.
func (n *CassandraNode) ChangeDefaultPassword(t testing.TB, admin *gocql.Session, password string) {
	t.Helper()
	CassandraExec(t, admin, fmt.Sprintf("ALTER ROLE cassandra WITH PASSWORD = '%s'", password))
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		cl := gocql.NewCluster(n.HostPort())
		cl.DisableInitialHostLookup = true
		cl.ProtoVersion = 4
		cl.Authenticator = gocql.PasswordAuthenticator{Username: "cassandra", Password: "cassandra"}
		s, err := cl.CreateSession()
		if err != nil {
			return
		}
		s.Close()
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatal("default password still accepted 15 s after ALTER ROLE")
}
