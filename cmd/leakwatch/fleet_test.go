package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// The store fleet: a real server of every store leakwatch has a prober
// for (search nodes aside: TestScanBreachFleet covers them), each on its
// own address of one loopback /24, open and seeded with
// personal-data-shaped records and, next to it, a protected twin. Some
// listen on ports no prober claims. One scan must report every open one as
// exposed with its exact seeded counts and classes, every protected one as
// protected, and nothing else.

// Ports no prober claims: the scan must identify these stores by their
// answers.
const (
	fleetRedisPort     = 16379
	fleetPostgresPort  = 15432
	fleetMongoPort     = 17017
	fleetDumpsPort     = 18080
	fleetKafkaPort     = 19092
	fleetCouchPort     = 15984
	fleetChromaPort    = 18000
	fleetSolrPort      = 18983
	fleetHazelcastPort = 15701
)

// unknown stands for a dataset whose record count the store cannot give
// cheaply (records: null).
const unknown = -1

// fleetStore is one listener of the fleet and what the scan must say of it.
type fleetStore struct {
	role    string // "redis open", "redis protected", ...
	host    netip.Addr
	port    int
	service string
	status  finding.Status
	auth    finding.Auth
	// records are the exact record counts of every dataset (exposed only).
	records map[string]int64
	// classes are classes the dataset must hold (at least these).
	classes map[string][]string
	// digest, when set, fingerprints the store's data for the read-only
	// check.
	digest func(testing.TB) string
}

// key is "host:port/service", a finding's identity.
func (s fleetStore) key() string {
	return fmt.Sprintf("%s:%d/%s", s.host, s.port, s.service)
}

// storeFleet collects the fleet's stores while they boot in parallel.
type storeFleet struct {
	net     testenv.Net24
	dir     string
	mu      sync.Mutex
	stores  []fleetStore
	secrets []string
}

func (f *storeFleet) add(secrets []string, stores ...fleetStore) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stores = append(f.stores, stores...)
	f.secrets = append(f.secrets, secrets...)
}

// plusUnknown is counts and the datasets names with unknown counts.
func plusUnknown(counts map[string]int64, names ...string) map[string]int64 {
	out := maps.Clone(counts)
	for _, n := range names {
		out[n] = unknown
	}
	return out
}

// host is the fleet's address .n.
func (f *storeFleet) host(n byte) netip.Addr { return f.net.Host(n) }

// exposed is an open store: readable without credentials, these exact
// dataset counts and at least these classes.
func exposed(role string, host netip.Addr, port int, service string, records map[string]int64, classes map[string][]string) fleetStore {
	return fleetStore{role: role + " open", host: host, port: port, service: service,
		status: finding.StatusExposed, auth: finding.AuthNone, records: records, classes: classes}
}

// protected is a store that demands credentials: no dataset read.
func protected(role string, host netip.Addr, port int, service string) fleetStore {
	return fleetStore{role: role + " protected", host: host, port: port, service: service,
		status: finding.StatusProtected, auth: finding.AuthRequired}
}

// withDigest adds the read-only check d to s.
func withDigest(s fleetStore, d func(testing.TB) string) fleetStore {
	s.digest = d
	return s
}

// jobs are the fleet's server starters, slowest first.
func (f *storeFleet) jobs() []bootJob {
	return []bootJob{
		{"cassandra", f.cassandra},
		{"rabbitmq", f.rabbitmq},
		{"kafka", f.kafka},
		{"s3", f.s3},
		{"clickhouse", f.clickhouse},
		{"zookeeper", f.zookeeper},
		{"jupyter", f.jupyter},
		{"mysql", f.mysql},
		{"postgres", f.postgres},
		{"mongodb", f.mongodb},
		{"influxdb", f.influxdb},
		{"couchdb", f.couchdb},
		{"chroma", f.chroma},
		{"solr", f.solr},
		{"hazelcast", f.hazelcast},
		{"prometheus", f.prometheus},
		{"etcd", f.etcd},
		{"docker-registry", f.registry},
		{"nats", f.nats},
		{"mqtt", f.mqtt},
		{"redis", f.redis},
		{"memcached", f.memcached},
		{"ftp", f.ftp},
		{"rsync", f.rsync},
		{"http-dump", f.dumps},
	}
}

func (f *storeFleet) redis(tb testing.TB) {
	open := testenv.StartRedis(tb, testenv.RedisOptions{Addr: f.host(10), Port: fleetRedisPort, Config: []string{"protected-mode no"}})
	open.Seed(tb)
	locked := testenv.StartRedis(tb, testenv.RedisOptions{Addr: f.host(11), Port: 6379, Password: "Fl33t-redis-pass", Config: []string{"protected-mode no"}})
	locked.Seed(tb)
	f.add(testenv.RedisSecrets,
		withDigest(exposed("redis", open.Addr, open.Port, "redis", testenv.RedisSeedKeys,
			map[string][]string{"db0": {"email", "auth_token"}, "db2": {"email"}}), open.Digest),
		withDigest(protected("redis", locked.Addr, locked.Port, "redis"), locked.Digest))
}

func (f *storeFleet) memcached(tb testing.TB) {
	open := testenv.StartMemcached(tb, testenv.MemcachedOptions{Addr: f.host(12), Port: 11211})
	open.Seed(tb)
	locked := testenv.StartMemcachedASCIIAuth(tb, testenv.MemcachedOptions{Addr: f.host(13), Port: 11211}, "cacheuser", "Fl33t-cache-pass")
	f.add([]string{"tok_9f86d081884c7d659a2feaa0c55ad015", "sk_live_51HxYzABCDEF0123456789"},
		withDigest(exposed("memcached", open.Addr, open.Port, "memcached",
			map[string]int64{"cache": int64(len(testenv.MemcachedSeed))},
			map[string][]string{"cache": {"email", "auth_token"}}), open.Digest),
		protected("memcached", locked.Addr, locked.Port, "memcached"))
}

func (f *storeFleet) postgres(tb testing.TB) {
	open := testenv.StartPostgres(tb, testenv.PostgresOptions{Addr: f.host(14), Port: fleetPostgresPort, MaxConnections: 20})
	open.Seed(tb)
	locked := testenv.StartPostgres(tb, testenv.PostgresOptions{Addr: f.host(15), Port: 5432, HBA: "scram-sha-256", Password: "Fl33t-pg-pass", MaxConnections: 20})
	locked.Seed(tb)
	records := plusUnknown(testenv.PostgresSeedRows, "postgres.public.fresh") // never analyzed
	f.add(testenv.PostgresSecrets,
		withDigest(exposed("postgres", open.Addr, open.Port, "postgres", records,
			map[string][]string{
				"shop.public.users": {"email", "password_hash"}, "postgres.public.sessions": {"auth_token"}, "postgres.crm.contacts": {"phone"}}), open.Digest),
		withDigest(protected("postgres", locked.Addr, locked.Port, "postgres"), locked.Digest))
}

func (f *storeFleet) mysql(tb testing.TB) {
	open := testenv.StartMariaDB(tb, testenv.MariaDBOptions{Addr: f.host(16), Port: 3306})
	open.Seed(tb)
	locked := testenv.StartMariaDB(tb, testenv.MariaDBOptions{Addr: f.host(17), Port: 3306, RootPassword: "Fl33t-my-pass"})
	locked.Seed(tb)
	f.add(testenv.MariaDBSecrets,
		withDigest(exposed("mariadb", open.Addr, open.Port, "mysql", testenv.MariaDBSeedRows,
			map[string][]string{"shop.users": {"email", "password_hash"}, "crm.contacts": {"phone"}}), open.Digest),
		withDigest(protected("mariadb", locked.Addr, locked.Port, "mysql"), locked.Digest))
}

func (f *storeFleet) clickhouse(tb testing.TB) {
	open := testenv.StartClickHouse(tb, testenv.ClickHouseOptions{Addr: f.host(18), HTTPPort: 8123, NativePort: 9000})
	open.Seed(tb)
	locked := testenv.StartClickHouse(tb, testenv.ClickHouseOptions{Addr: f.host(19), HTTPPort: 8123, NativePort: 9000, Password: "Fl33t-ch-pass"})
	locked.Seed(tb)
	records := plusUnknown(testenv.ClickHouseSeedRows, "crm.contacts", "crm.contact_emails") // TinyLog, view
	native := exposed("clickhouse native", open.Addr, open.NativePort, "clickhouse", map[string]int64{}, nil)
	f.add(testenv.ClickHouseSecrets,
		withDigest(exposed("clickhouse", open.Addr, open.HTTPPort, "clickhouse", records,
			map[string][]string{"shop.users": {"email", "password_hash"}, "shop.events": {"ip_address"}}), open.Digest),
		native,
		withDigest(protected("clickhouse", locked.Addr, locked.HTTPPort, "clickhouse"), locked.Digest),
		protected("clickhouse native", locked.Addr, locked.NativePort, "clickhouse"))
}

func (f *storeFleet) etcd(tb testing.TB) {
	open := testenv.StartEtcd(tb, testenv.EtcdOptions{Addr: f.host(20), Port: 2379})
	open.Seed(tb, testenv.EtcdFlat)
	locked := testenv.StartEtcd(tb, testenv.EtcdOptions{Addr: f.host(21), Port: 2379})
	locked.Seed(tb, testenv.EtcdFlat)
	locked.EnableAuth(tb, "Fl33t-etcd-pass")
	f.add(testenv.EtcdSecrets,
		withDigest(exposed("etcd", open.Addr, open.Port, "etcd",
			map[string]int64{"/users/": 3, "/sessions/": 1, "/config/": 1, "(root)": 2},
			map[string][]string{
				"/users/": {"email", "phone"}, "/sessions/": {"auth_token"}, "/config/": {"password"}, "(root)": {"api_key"}}), open.Digest),
		withDigest(protected("etcd", locked.Addr, locked.Port, "etcd"), locked.Digest))
}

func (f *storeFleet) zookeeper(tb testing.TB) {
	const auth = "addauth digest admin:Fl33t-zk-pass"
	open := testenv.StartZooKeeper(tb, testenv.ZooKeeperOptions{Addr: f.host(22), Port: 2181})
	open.Seed(tb, "")
	locked := testenv.StartZooKeeper(tb, testenv.ZooKeeperOptions{Addr: f.host(23), Port: 2181})
	locked.Seed(tb, auth, "setAcl -R / auth:admin:cdrwa")
	f.add(testenv.ZooKeeperSecrets,
		withDigest(exposed("zookeeper", open.Addr, open.Port, "zookeeper",
			map[string]int64{"/app": 6, "/services": 2},
			map[string][]string{"/app": {"email", "auth_token"}, "/services": {"api_key"}}), func(tb testing.TB) string { return open.Digest(tb) }),
		withDigest(protected("zookeeper", locked.Addr, locked.Port, "zookeeper"), func(tb testing.TB) string { return locked.Digest(tb, auth) }))
}

func (f *storeFleet) mongodb(tb testing.TB) {
	open := testenv.StartFerret(tb, testenv.FerretOptions{Addr: f.host(24), Port: fleetMongoPort})
	open.Seed(tb)
	locked := testenv.StartFerret(tb, testenv.FerretOptions{Addr: f.host(25), Port: 27017, Auth: true})
	locked.Seed(tb)
	f.add(testenv.FerretSecrets,
		withDigest(exposed("mongodb (ferretdb)", open.Addr, open.Port, "mongodb", testenv.FerretSeedDocs,
			map[string][]string{"crm.customers": {"email", "auth_token"}, "crm.events": {"wifi_ssid"}}), open.Digest),
		withDigest(protected("mongodb (ferretdb)", locked.Addr, locked.Port, "mongodb"), locked.Digest))
}

func (f *storeFleet) registry(tb testing.TB) {
	open := testenv.StartRegistry(tb, testenv.RegistryOptions{Addr: f.host(26), Port: 5000})
	open.Seed(tb)
	locked := testenv.StartRegistry(tb, testenv.RegistryOptions{Addr: f.host(27), Port: 5000, Auth: true})
	locked.Seed(tb)
	f.add(testenv.RegistrySecrets,
		withDigest(exposed("docker-registry", open.Addr, open.Port, "docker-registry", testenv.RegistrySeedTags,
			map[string][]string{"acme/webapp": {"email", "api_key"}, "acme/db": {"password"}}), func(tb testing.TB) string { return testenv.TreeDigest(tb, open.Root) }),
		withDigest(protected("docker-registry", locked.Addr, locked.Port, "docker-registry"), func(tb testing.TB) string { return testenv.TreeDigest(tb, locked.Root) }))
}

func (f *storeFleet) rabbitmq(tb testing.TB) {
	open := testenv.StartRabbit(tb, testenv.RabbitOptions{Addr: f.host(28), AMQPPort: 5672, MgmtPort: 15672})
	locked := testenv.StartRabbit(tb, testenv.RabbitOptions{Addr: f.host(29), AMQPPort: 5672, MgmtPort: 15672})
	open.Seed(tb)
	open.CreateGuest(tb)
	locked.Seed(tb)
	mgmt := exposed("rabbitmq management", open.Addr, open.MgmtPort, "rabbitmq", testenv.RabbitSeedMessages, nil)
	mgmt.auth = finding.AuthDefaultCredentials
	amqp := exposed("rabbitmq amqp", open.Addr, open.AMQPPort, "rabbitmq", map[string]int64{}, nil)
	amqp.auth = finding.AuthDefaultCredentials
	f.add(testenv.RabbitSecrets,
		withDigest(mgmt, open.Digest), amqp,
		withDigest(protected("rabbitmq management", locked.Addr, locked.MgmtPort, "rabbitmq"), locked.Digest),
		protected("rabbitmq amqp", locked.Addr, locked.AMQPPort, "rabbitmq"))
}

func (f *storeFleet) influxdb(tb testing.TB) {
	open := testenv.StartInflux(tb, testenv.InfluxOptions{Addr: f.host(30), Port: 8086})
	open.Seed(tb)
	locked := testenv.StartInflux(tb, testenv.InfluxOptions{Addr: f.host(31), Port: 8086, Auth: true})
	locked.CreateAdmin(tb, "admin", "Fl33t-influx-pass")
	locked.Seed(tb)
	f.add(testenv.InfluxSecrets,
		withDigest(exposed("influxdb", open.Addr, open.Port, "influxdb", testenv.InfluxSeedPoints,
			map[string][]string{"telemetry.logins": {"email", "auth_token"}, "shop.orders": {"email"}}), open.Digest),
		withDigest(protected("influxdb", locked.Addr, locked.Port, "influxdb"), locked.Digest))
}

func (f *storeFleet) couchdb(tb testing.TB) {
	open := testenv.StartPouch(tb, testenv.PouchOptions{Addr: f.host(80), Port: fleetCouchPort})
	open.Seed(tb)
	locked := testenv.StartPouch(tb, testenv.PouchOptions{Addr: f.host(81), Port: 5984, Protected: true})
	locked.Seed(tb)
	f.add(testenv.PouchSecrets(),
		withDigest(exposed("couchdb", open.Addr, open.Port, "couchdb", testenv.PouchSeedDocs,
			map[string][]string{"customers": {"email", "auth_token"}, "devices": {"email"}}), open.Digest),
		withDigest(protected("couchdb", locked.Addr, locked.Port, "couchdb"), locked.Digest))
}

// chroma: today's Chroma (no authentication of its own) open on an
// unclaimed port; Chroma 0.6 with its token authentication protected.
func (f *storeFleet) chroma(tb testing.TB) {
	open := testenv.StartChroma(tb, testenv.ChromaOptions{Addr: f.host(82), Port: fleetChromaPort})
	open.Seed(tb)
	locked := testenv.StartChroma(tb, testenv.ChromaOptions{Addr: f.host(83), Port: 8000, Version: testenv.ChromaAuthVersion, Token: "Fl33t-chroma-token"})
	locked.Seed(tb)
	f.add(testenv.ChromaSecrets(),
		withDigest(exposed("chroma", open.Addr, open.Port, "chroma", testenv.ChromaSeedRecords,
			map[string][]string{"default_database/support_tickets": {"email", "auth_token"}, "research/interview_notes": {"email"}}), open.Digest),
		withDigest(protected("chroma", locked.Addr, locked.Port, "chroma"), locked.Digest))
}

func (f *storeFleet) prometheus(tb testing.TB) {
	open := testenv.StartPrometheus(tb, testenv.PrometheusOptions{Addr: f.host(32), Port: 9090})
	locked := testenv.StartPrometheus(tb, testenv.PrometheusOptions{Addr: f.host(33), Port: 9090, User: "grafana", Password: "Fl33t-prom-pass"})
	open.WaitTargets(tb, testenv.PrometheusTargets)
	_, series := open.Digest(tb) // no scrape during the test: stays as it is
	f.add(testenv.PrometheusSecrets,
		withDigest(exposed("prometheus", open.Addr, open.Port, "prometheus",
			map[string]int64{"config": testenv.PrometheusTargets, "targets": testenv.PrometheusTargets, "tsdb": series},
			map[string][]string{"config": {"auth_token"}, "targets": {"ip_address"}}),
			func(tb testing.TB) string { d, _ := open.Digest(tb); return d }),
		protected("prometheus", locked.Addr, locked.Port, "prometheus"))
}

func (f *storeFleet) jupyter(tb testing.TB) {
	open := testenv.StartJupyter(tb, testenv.JupyterOptions{Addr: f.host(34), Port: 8888})
	locked := testenv.StartJupyter(tb, testenv.JupyterOptions{Addr: f.host(35), Port: 8888, Token: "Fl33t-jupyter-token"})
	f.add(testenv.JupyterSecrets,
		withDigest(exposed("jupyter", open.Addr, open.Port, "jupyter", testenv.JupyterSeedFiles,
			map[string][]string{"/": {"email", "api_key"}, "/data": {"password"}}), func(tb testing.TB) string { return testenv.TreeDigest(tb, open.Dir) }),
		withDigest(protected("jupyter", locked.Addr, locked.Port, "jupyter"), func(tb testing.TB) string { return testenv.TreeDigest(tb, locked.Dir) }))
}

func (f *storeFleet) ftp(tb testing.TB) {
	open := testenv.StartVsftpd(tb, testenv.FTPOptions{Addr: f.host(36), Port: 21, Anonymous: true})
	locked := testenv.StartVsftpd(tb, testenv.FTPOptions{Addr: f.host(37), Port: 21})
	f.add(testenv.FileTreeSecrets,
		withDigest(exposed("vsftpd", open.Addr, open.Port, "ftp", testenv.FileTreeCounts,
			map[string][]string{"/": {"email"}, "/backups": {"password", "api_key"}}), func(tb testing.TB) string { return testenv.TreeDigest(tb, open.Root) }),
		withDigest(protected("vsftpd", locked.Addr, locked.Port, "ftp"), func(tb testing.TB) string { return testenv.TreeDigest(tb, locked.Root) }))
}

func (f *storeFleet) rsync(tb testing.TB) {
	open := testenv.StartRsyncd(tb, testenv.RsyncOptions{Addr: f.host(38), Port: 873, Open: true})
	locked := testenv.StartRsyncd(tb, testenv.RsyncOptions{Addr: f.host(39), Port: 873})
	records := map[string]int64{}
	for dir, n := range testenv.FileTreeCounts {
		records[strings.TrimSuffix("files"+dir, "/")] = n
	}
	f.add(testenv.FileTreeSecrets,
		withDigest(exposed("rsyncd", open.Addr, open.Port, "rsync", records,
			map[string][]string{"files": {"email"}, "files/backups": {"password", "api_key"}}), func(tb testing.TB) string { return testenv.TreeDigest(tb, open.Dir, "rsyncd.") }),
		withDigest(protected("rsyncd", locked.Addr, locked.Port, "rsync"), func(tb testing.TB) string { return testenv.TreeDigest(tb, locked.Dir, "rsyncd.") }))
}

func (f *storeFleet) dumps(tb testing.TB) {
	dir := filepath.Join(f.dir, "nginx")
	openRoot, lockedRoot := filepath.Join(dir, "open"), filepath.Join(dir, "locked")
	open := testenv.DumpSite(tb, openRoot, f.host(40), fleetDumpsPort, false)
	locked := testenv.DumpSite(tb, lockedRoot, f.host(41), 80, true)
	testenv.Nginx(tb, dir, open, locked)
	records := plusUnknown(testenv.DumpSiteRecords, "/.git/HEAD", "/.git/config", "/dump.rdb")
	f.add(testenv.DumpSiteSecrets,
		withDigest(exposed("nginx dumps", open.Addr, open.Port, "http-dump", records,
			map[string][]string{
				"/.env": {"email", "password"}, "/.aws/credentials": {"api_key"}, "/db.sql": {"email", "phone"}, "/backup.sql.gz": {"email", "password_hash"}}), func(tb testing.TB) string { return testenv.TreeDigest(tb, openRoot) }),
		withDigest(protected("nginx dumps", locked.Addr, locked.Port, "http-dump"), func(tb testing.TB) string { return testenv.TreeDigest(tb, lockedRoot) }))
}

func (f *storeFleet) mqtt(tb testing.TB) {
	open := testenv.StartMosquitto(tb, testenv.MosquittoOptions{Addr: f.host(42), Port: 1883})
	open.Seed(tb)
	locked := testenv.StartMosquitto(tb, testenv.MosquittoOptions{Addr: f.host(43), Port: 1883, User: "iot", Password: "Fl33t-mqtt-pass"})
	locked.Seed(tb)
	f.add(testenv.MosquittoSecrets,
		withDigest(exposed("mosquitto", open.Addr, open.Port, "mqtt", testenv.MosquittoSeedTopics,
			map[string][]string{"users/+/profile": {"email", "phone"}, "devices/+/status": {"mac_address", "wifi_ssid"}}), open.Digest),
		withDigest(protected("mosquitto", locked.Addr, locked.Port, "mqtt"), locked.Digest))
}

func (f *storeFleet) nats(tb testing.TB) {
	open := testenv.StartNATS(tb, testenv.NATSOptions{Addr: f.host(44), Port: 4222})
	open.Seed(tb)
	locked := testenv.StartNATS(tb, testenv.NATSOptions{Addr: f.host(45), Port: 4222, Token: "Fl33t-nats-token"})
	locked.Seed(tb)
	f.add(testenv.NATSSecrets,
		withDigest(exposed("nats-server", open.Addr, open.Port, "nats", testenv.NATSSeedStreams,
			map[string][]string{"USERS": {"email", "phone"}, "SESSIONS": {"auth_token"}}), open.Digest),
		withDigest(protected("nats-server", locked.Addr, locked.Port, "nats"), locked.Digest))
}

func (f *storeFleet) s3(tb testing.TB) {
	private := map[string][]byte{"db.sql": []byte("INSERT INTO users VALUES ('a@example.com')")}
	open := testenv.StartWeed(tb, testenv.WeedOptions{Addr: f.host(46), Port: 8333, Anonymous: []string{"Read:exports", "List:exports"}})
	locked := testenv.StartWeed(tb, testenv.WeedOptions{Addr: f.host(47), Port: 8333})
	objs := testenv.WeedPublicObjects()
	open.Put(tb, "exports", objs)
	open.Put(tb, "backups", private)
	locked.Put(tb, "backups", private)
	f.add(testenv.WeedSecrets,
		withDigest(exposed("seaweedfs s3", open.Addr, open.Port, "s3", map[string]int64{"exports": int64(len(objs))},
			map[string][]string{"exports": {"email", "auth_token"}}), open.Digest),
		withDigest(protected("seaweedfs s3", locked.Addr, locked.Port, "s3"), locked.Digest))
}

func (f *storeFleet) cassandra(tb testing.TB) {
	open := testenv.StartCassandraNode(tb, f.host(48), 9042, "none")
	locked := testenv.StartCassandraNode(tb, f.host(49), 9042, "password")
	o := open.Session(tb, "", "")
	testenv.SeedCassandra(tb, o)
	admin := locked.Session(tb, "cassandra", "cassandra")
	testenv.SeedCassandra(tb, admin)
	locked.ChangeDefaultPassword(tb, admin, "Fl33t-cassandra-pass")
	f.add(testenv.CassandraSecrets,
		withDigest(exposed("cassandra", open.Addr, open.Port, "cassandra", testenv.CassandraSeedRows,
			map[string][]string{"lw_crm.users": {"email", "auth_token"}, "lw_crm.devices": {"wifi_ssid", "ip_address"}}), func(tb testing.TB) string { return testenv.CassandraDigest(tb, o) }),
		withDigest(protected("cassandra", locked.Addr, locked.Port, "cassandra"), func(tb testing.TB) string { return testenv.CassandraDigest(tb, admin) }))
}

// kafka is one broker with two listeners: plaintext (open, on a port no
// prober claims) and SASL/SCRAM (protected).
func (f *storeFleet) kafka(tb testing.TB) {
	k := testenv.StartKafkaBroker(tb, f.host(90), fleetKafkaPort, 9093)
	k.SeedKafka(tb)
	f.add(testenv.KafkaSecrets,
		withDigest(exposed("kafka", k.Addr, k.Port, "kafka", testenv.KafkaSeedRecords(), map[string][]string{
			"customers": {"email", "phone"}, "device-events": {"mac_address", "wifi_ssid"},
			"payments": {"payment_card"}, "sessions": {"auth_token"}}), k.Digest),
		withDigest(protected("kafka", k.Addr, k.SASLPort, "kafka"), k.Digest))
}

func (f *storeFleet) solr(tb testing.TB) {
	open := testenv.StartSolr(tb, testenv.SolrOptions{Addr: f.host(84), Port: fleetSolrPort})
	open.Seed(tb)
	locked := testenv.StartSolr(tb, testenv.SolrOptions{Addr: f.host(85), Port: 8983, Password: "Fl33t-solr-pass"})
	locked.Seed(tb)
	f.add(testenv.SolrSecrets(),
		withDigest(exposed("solr", open.Addr, open.Port, "solr", testenv.SolrSeedDocs,
			map[string][]string{"customers": {"email", "auth_token", "wifi_ssid", "device_model"}}), open.Digest),
		withDigest(protected("solr", locked.Addr, locked.Port, "solr"), locked.Digest))
}

// hazelcast: one JVM, two members: the open one (default cluster name
// "dev") on an unclaimed port, the protected one (another cluster name, the
// only gate open-source Hazelcast has) on 5701.
func (f *storeFleet) hazelcast(tb testing.TB) {
	h := testenv.StartHazelcast(tb,
		testenv.HazelcastMember{Addr: f.host(86), Port: fleetHazelcastPort, Cluster: "dev"},
		testenv.HazelcastMember{Addr: f.host(87), Port: 5701, Cluster: "lw-fleet-9c21"})
	f.add(testenv.HazelcastSecrets(),
		withDigest(exposed("hazelcast", h.Members[0].Addr, h.Members[0].Port, "hazelcast", testenv.HazelcastSeedEntries,
			map[string][]string{"sessions": {"email", "auth_token", "wifi_ssid"}, "customers": {"email", "auth_token"}}), h.Digest(0)),
		withDigest(protected("hazelcast", h.Members[1].Addr, h.Members[1].Port, "hazelcast"), h.Digest(1)))
}

// fleetPorts is every prober's ports and the fleet's unclaimed ones.
func fleetPorts() string {
	ports := all.Registry().Ports()
	for _, p := range []int{fleetRedisPort, fleetPostgresPort, fleetMongoPort, fleetDumpsPort, fleetKafkaPort, fleetCouchPort, fleetSolrPort, fleetHazelcastPort, fleetChromaPort} {
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	var s []string
	for _, p := range ports {
		s = append(s, strconv.Itoa(p))
	}
	return strings.Join(s, ",")
}

func TestScanStoreFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("the store fleet boots about forty real servers")
	}
	begin := time.Now()
	dir, err := os.MkdirTemp("", "leakwatch-fleet-")
	must(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &storeFleet{net: testenv.Subnet24(t), dir: dir}
	inParallel(t, 6, f.jobs())
	slices.SortFunc(f.stores, func(a, b fleetStore) int { return strings.Compare(a.key(), b.key()) })
	t.Logf("fleet of %d listeners in %s up and seeded in %s", len(f.stores), f.net.CIDR(), time.Since(begin).Round(time.Millisecond))
	before := f.digests(t)

	start := time.Now()
	code, out, stderr := runCLI(t, "", "scan", "--format", "jsonl", "--ports", fleetPorts(),
		"--key-file", filepath.Join(dir, "key"), f.net.CIDR())
	scanTook := time.Since(start)
	t.Logf("scan of %s took %s", f.net.CIDR(), scanTook.Round(time.Millisecond))
	if code != exitExposed {
		t.Fatalf("exit code %d, want %d; stderr: %s", code, exitExposed, stderr)
	}
	got := map[string]finding.Finding{}
	for _, fd := range decodeFindingList(t, out) {
		k := fmt.Sprintf("%s:%d/%s", fd.Target.Host, fd.Target.Port, fd.Service)
		if _, dup := got[k]; dup {
			t.Errorf("two findings for %s", k)
		}
		got[k] = fd
	}

	t.Run("findings", func(t *testing.T) {
		for _, s := range f.stores {
			fd, ok := got[s.key()]
			if !ok {
				t.Errorf("%s (%s): no finding", s.role, s.key())
				continue
			}
			delete(got, s.key())
			t.Logf("%-28s %-22s %-9s %-19s %s", s.role, s.key(), fd.Status, fd.Auth, describeDatasets(fd))
			checkFleetFinding(t, s, fd)
		}
		for k, fd := range got {
			t.Errorf("unexpected finding %s: %s/%s %s (%s)", k, fd.Status, fd.Auth, fd.Product, describeDatasets(fd))
		}
	})
	outputs := map[string]string{"jsonl": out, "jsonl stderr": stderr}
	for _, format := range []string{"table", "sarif", "ocsf"} {
		code, out, stderr := runCLI(t, "", "scan", "--format", format, "-v", "--ports", fleetPorts(),
			"--key-file", filepath.Join(dir, "key"), f.net.CIDR())
		if code != exitExposed {
			t.Errorf("%s scan: exit code %d, want %d; stderr: %s", format, code, exitExposed, stderr)
		}
		outputs[format], outputs[format+" stderr"] = out, stderr
	}
	// Every seeded sensitive value — the fixtures' own lists plus every
	// sensitive-looking string literal of the seeding code — in every
	// format, stdout and stderr, as is, lower/upper-cased, JSON-escaped
	// and base64'd.
	t.Run("no-raw-values", func(t *testing.T) {
		values := append(slices.Clone(f.secrets), seededLiterals(t)...)
		raw := testenv.NewRawSet(values)
		for _, name := range keys(outputs) {
			for _, h := range raw.Find([]byte(outputs[name]), 5) {
				t.Errorf("%s holds the raw seeded value (%s) %q in …%q…", name, h.Encoding, h.Text, h.Context)
			}
		}
		t.Logf("%d outputs searched for %d seeded values", len(outputs), raw.Len())
	})
	t.Run("read-only", func(t *testing.T) {
		after := f.digests(t)
		for k, b := range before {
			if after[k] != b {
				t.Errorf("%s: data changed by the scan", k)
			}
		}
	})
	t.Logf("fleet test %s (scan alone %s)", time.Since(begin).Round(time.Millisecond), scanTook.Round(time.Millisecond))
}

// checkFleetFinding compares one finding with what its store must show.
func checkFleetFinding(t *testing.T, s fleetStore, fd finding.Finding) {
	t.Helper()
	if fd.Status != s.status || fd.Auth != s.auth {
		t.Errorf("%s: status %s auth %s, want %s %s (error %q)", s.role, fd.Status, fd.Auth, s.status, s.auth, fd.Error)
	}
	if s.status != finding.StatusExposed {
		if len(fd.Datasets) != 0 {
			t.Errorf("%s: %d datasets on a protected store: %s", s.role, len(fd.Datasets), describeDatasets(fd))
		}
		return
	}
	records := map[string]int64{}
	for _, d := range fd.Datasets {
		records[d.Name] = unknown
		if d.Records != nil {
			records[d.Name] = *d.Records
		}
	}
	if fmt.Sprint(records) != fmt.Sprint(s.records) {
		t.Errorf("%s: records %v, want %v", s.role, records, s.records)
	}
	for name, want := range s.classes {
		d, _ := datasetNamed(fd, name)
		var have []string
		for _, c := range d.Classes {
			have = append(have, c.Class)
		}
		for _, c := range want {
			if !slices.Contains(have, c) {
				t.Errorf("%s: dataset %s lacks class %s (has %v)", s.role, name, c, have)
			}
		}
	}
}

// describeDatasets is "name=records[classes] ..." for logs.
func describeDatasets(fd finding.Finding) string {
	var parts []string
	for _, d := range fd.Datasets {
		n := "null"
		if d.Records != nil {
			n = strconv.FormatInt(*d.Records, 10)
		}
		var cs []string
		for _, c := range d.Classes {
			cs = append(cs, c.Class)
		}
		parts = append(parts, fmt.Sprintf("%s=%s%v", d.Name, n, cs))
	}
	return strings.Join(parts, " ")
}

// digests fingerprints every store that has a digest, in parallel.
func (f *storeFleet) digests(t *testing.T) map[string]string {
	t.Helper()
	var mu sync.Mutex
	out := map[string]string{}
	var jobs []bootJob
	for _, s := range f.stores {
		if s.digest == nil {
			continue
		}
		jobs = append(jobs, bootJob{s.role, func(tb testing.TB) {
			d := s.digest(tb)
			mu.Lock()
			out[s.role] = d
			mu.Unlock()
		}})
	}
	inParallel(t, 4, jobs)
	return out
}

// bootJob is one piece of setup run in its own goroutine.
type bootJob struct {
	name string
	run  func(testing.TB)
}

// inParallel runs jobs, at most n at a time. A job's Fatal or Skip ends
// only its goroutine; afterwards the test fails (or, for skips, is
// reported unavailable) naming every job that did not finish. What jobs
// register with Cleanup runs when the test ends, jobs in parallel (each
// job's own cleanups last-in first-out): forty servers stop in seconds.
func inParallel(t *testing.T, n int, jobs []bootJob) {
	t.Helper()
	errs := &jobErrors{}
	tbs := make([]*jobTB, len(jobs))
	sem := make(chan struct{}, n)
	var wg sync.WaitGroup
	for i, j := range jobs {
		tbs[i] = &jobTB{TB: t, name: j.name, errs: errs}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			j.run(tbs[i])
			t.Logf("%s: ready in %s", j.name, time.Since(start).Round(time.Millisecond))
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, tb := range tbs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := len(tb.cleanups) - 1; i >= 0; i-- {
					tb.cleanups[i]()
				}
			}()
		}
		wg.Wait()
	})
	if len(errs.failed) > 0 {
		t.Fatalf("setup failed:\n%s", strings.Join(errs.failed, "\n"))
	}
	if len(errs.skipped) > 0 {
		testenv.Unavailable(t, "%s", strings.Join(errs.skipped, "; "))
	}
}

type jobErrors struct {
	mu              sync.Mutex
	failed, skipped []string
}

// jobTB is the testing.TB of one parallel job: its Fatal and Skip end the
// job's goroutine (runtime.Goexit) instead of the test's, and its
// cleanups wait for inParallel's.
type jobTB struct {
	testing.TB
	name     string
	errs     *jobErrors
	mu       sync.Mutex
	cleanups []func()
}

func (j *jobTB) Cleanup(f func()) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cleanups = append(j.cleanups, f)
}

func (j *jobTB) record(skip bool, msg string) {
	j.errs.mu.Lock()
	defer j.errs.mu.Unlock()
	if skip {
		j.errs.skipped = append(j.errs.skipped, j.name+": "+msg)
	} else {
		j.errs.failed = append(j.errs.failed, j.name+": "+msg)
	}
}

// end records msg and ends the job's goroutine.
func (j *jobTB) end(skip bool, msg string) {
	j.record(skip, msg)
	runtime.Goexit()
}

func (j *jobTB) Error(args ...any)                 { j.record(false, fmt.Sprint(args...)) }
func (j *jobTB) Errorf(format string, args ...any) { j.record(false, fmt.Sprintf(format, args...)) }
func (j *jobTB) Fatal(args ...any)                 { j.end(false, fmt.Sprint(args...)) }
func (j *jobTB) Fatalf(format string, args ...any) { j.end(false, fmt.Sprintf(format, args...)) }
func (j *jobTB) FailNow()                          { j.end(false, "FailNow") }
func (j *jobTB) Skip(args ...any)                  { j.end(true, fmt.Sprint(args...)) }
func (j *jobTB) Skipf(format string, args ...any)  { j.end(true, fmt.Sprintf(format, args...)) }
func (j *jobTB) SkipNow()                          { j.end(true, "SkipNow") }

// seededSensitive matches the sensitive-looking strings of seed data:
// emails, token-shaped secrets (tok_, sk_live_, ghp_, AWS keys, JWTs),
// password hashes, phone numbers, card numbers and 40-character secret
// keys.
var seededSensitive = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}` +
	`|\b(?:tok|sk_live|sk_test|ghp|dev_tok|tok_live|xox[bp])[_-][A-Za-z0-9_-]{6,}` +
	`|\bAKIA[0-9A-Z]{16}\b|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+` +
	`|\$2[aby]\$\d\d\$[./A-Za-z0-9]{20,}|\+\d{1,3}[ -]\d[\d -]{6,}\d|\b\d{13,19}\b|\b[A-Za-z0-9/+]{40}\b`)

// seededLiterals derives the raw values to search for from the seeding
// code itself: every sensitive-looking part of every string literal in
// internal/testenv (printf verbs expanded for 0..60), so that a value
// added to a fixture is searched for without being listed by hand.
func seededLiterals(t *testing.T) []string {
	t.Helper()
	root, err := testenv.RepoRoot()
	must(t, err)
	files, err := filepath.Glob(filepath.Join(root, "internal", "testenv", "*.go"))
	must(t, err)
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	verb := regexp.MustCompile(`%0?\d?d`)
	fset := token.NewFileSet()
	for _, file := range files {
		switch base := filepath.Base(file); {
		case strings.HasSuffix(base, "_test.go"), base == "rawsearch.go", base == "sensitive.go", base == "breach.go":
			continue // not the fleet's seeds (breach.go: TestScanBreachFleet's)
		}
		af, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		must(t, err)
		ast.Inspect(af, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			for _, m := range seededSensitive.FindAllString(s, -1) {
				if !verb.MatchString(m) {
					add(m)
					continue
				}
				for i := range 61 {
					add(verb.ReplaceAllStringFunc(m, func(v string) string { return fmt.Sprintf(v, i) }))
				}
			}
			return true
		})
	}
	if len(out) < 50 {
		t.Fatalf("only %d sensitive literals found in the seeding code", len(out))
	}
	return out
}
