package mongodb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	adminUser = "root"
	adminPass = "s3cret-Pa55"
)

// ferretBinary finds the FerretDB binary built by scripts/build-ferretdb.sh
// (or named by LEAKWATCH_FERRETDB).
func ferretBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LEAKWATCH_FERRETDB"); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	p := filepath.Join(dir, ".cache", "bin", "ferretdb")
	if _, err := os.Stat(p); err != nil {
		testenv.Unavailable(t, "ferretdb not built (run scripts/build-ferretdb.sh)")
	}
	return p
}

type server struct {
	addr netip.Addr
	port int
	auth bool
}

func (s server) uri() string {
	return "mongodb://" + net.JoinHostPort(s.addr.String(), strconv.Itoa(s.port)) + "/?directConnection=true"
}

// startFerret runs FerretDB with the SQLite backend on a loopback address;
// port 0 picks a free (non-standard) port. With auth, FerretDB's new
// authentication is on and an admin user is created at start.
func startFerret(t *testing.T, port int, auth bool) server {
	t.Helper()
	bin := ferretBinary(t)
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{
		"--handler=sqlite",
		"--sqlite-url=file:" + filepath.Join(dir, "data") + "/",
		"--state-dir=" + dir,
		"--listen-addr=" + net.JoinHostPort(addr.String(), strconv.Itoa(port)),
		"--debug-addr=-",
		"--telemetry=disable",
		"--log-level=WARN",
	}
	if auth {
		args = append(args, "--test-enable-new-auth",
			"--setup-database=admin", "--setup-username="+adminUser, "--setup-password="+adminPass)
	}
	testenv.StartAndWait(t, "ferretdb", exec.Command(bin, args...), addr, port, 30*time.Second)
	return server{addr: addr, port: port, auth: auth}
}

// client connects the official driver (test side only).
func client(t *testing.T, s server) *mongo.Client {
	t.Helper()
	opts := options.Client().ApplyURI(s.uri()).SetTimeout(10 * time.Second)
	if s.auth {
		opts.SetAuth(options.Credential{Username: adminUser, Password: adminPass, AuthSource: "admin", AuthMechanism: "SCRAM-SHA-256"})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// seed writes personal-data-shaped documents: crm.customers (25),
// crm.events (7), shop.orders (3).
func seed(t *testing.T, c *mongo.Client) {
	t.Helper()
	ctx := context.Background()
	var customers []any
	for i := range 25 {
		customers = append(customers, bson.D{
			{Key: "name", Value: fmt.Sprintf("Alice Example%d", i)},
			{Key: "email", Value: fmt.Sprintf("alice%d@example.com", i)},
			{Key: "login_token", Value: fmt.Sprintf("tok_%032x", i*7919)},
			{Key: "address", Value: bson.D{{Key: "city", Value: "Springfield"}, {Key: "zip", Value: "12345"}}},
			{Key: "devices", Value: bson.A{bson.D{{Key: "mac", Value: "00:11:22:33:44:55"}}}},
			{Key: "created", Value: time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC)},
		})
	}
	if _, err := c.Database("crm").Collection("customers").InsertMany(ctx, customers); err != nil {
		t.Fatalf("seed customers: %v", err)
	}
	var events []any
	for i := range 7 {
		events = append(events, bson.D{{Key: "user", Value: fmt.Sprintf("alice%d@example.com", i)}, {Key: "ssid", Value: "HomeWiFi"}})
	}
	if _, err := c.Database("crm").Collection("events").InsertMany(ctx, events); err != nil {
		t.Fatalf("seed events: %v", err)
	}
	var orders []any
	for i := range 3 {
		orders = append(orders, bson.D{{Key: "card", Value: "4111111111111111"}, {Key: "n", Value: i}})
	}
	if _, err := c.Database("shop").Collection("orders").InsertMany(ctx, orders); err != nil {
		t.Fatalf("seed orders: %v", err)
	}
}

// digest hashes every database, collection and document the server holds.
func digest(t *testing.T, c *mongo.Client) string {
	t.Helper()
	ctx := context.Background()
	h := sha256.New()
	dbs, err := c.ListDatabaseNames(ctx, bson.D{})
	if err != nil {
		t.Fatalf("digest: list databases: %v", err)
	}
	sort.Strings(dbs)
	for _, db := range dbs {
		colls, err := c.Database(db).ListCollectionNames(ctx, bson.D{})
		if err != nil {
			t.Fatalf("digest: list collections: %v", err)
		}
		sort.Strings(colls)
		for _, coll := range colls {
			fmt.Fprintf(h, "%s.%s\n", db, coll)
			cur, err := c.Database(db).Collection(coll).Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
			if err != nil {
				t.Fatalf("digest: find: %v", err)
			}
			for cur.Next(ctx) {
				h.Write(cur.Current)
			}
			if err := cur.Err(); err != nil {
				t.Fatalf("digest: cursor: %v", err)
			}
			cur.Close(ctx)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestOpenServer(t *testing.T) {
	s := startFerret(t, 27017, false)
	c := client(t, s)
	seed(t, c)
	before := digest(t, c)

	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone {
		t.Fatalf("status %s/%s, want exposed/none (error %q, evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
	if res.Product != "ferretdb" || res.Version != "1.24.2" {
		t.Errorf("product %q version %q, want ferretdb 1.24.2", res.Product, res.Version)
	}
	if res.Evidence["mongodb_compatible_version"] == "" || res.Evidence["max_wire_version"] == nil {
		t.Errorf("evidence lacks wire facts: %v", res.Evidence)
	}
	want := map[string]int64{"crm.customers": 25, "crm.events": 7, "shop.orders": 3}
	got := map[string]probe.Dataset{}
	for _, d := range res.Datasets {
		got[d.Name] = d
	}
	for name, n := range want {
		d, ok := got[name]
		if !ok {
			t.Errorf("dataset %s missing (have %v)", name, res.Datasets)
			continue
		}
		if d.Kind != "collection" || d.Records == nil || *d.Records != n {
			t.Errorf("%s: kind %q records %v, want collection %d", name, d.Kind, d.Records, n)
		}
		if d.Sampled != int(n) || len(d.Sample) != int(n) {
			t.Errorf("%s: sampled %d (%d records), want %d", name, d.Sampled, len(d.Sample), n)
		}
	}
	if len(res.Datasets) != len(want) {
		t.Errorf("got %d datasets, want %d", len(res.Datasets), len(want))
	}
	paths := map[string]bool{}
	for _, r := range got["crm.customers"].Sample {
		for _, v := range r.Values {
			paths[v.Path] = true
		}
	}
	for _, p := range []string{"name", "email", "login_token", "address.city", "devices.mac", "created", "_id"} {
		if !paths[p] {
			t.Errorf("sample lacks path %q (have %v)", p, paths)
		}
	}
	if after := digest(t, c); after != before {
		t.Errorf("server data changed by the probe")
	}
}

func TestSampleBudget(t *testing.T) {
	s := startFerret(t, 0, false)
	c := client(t, s)
	seed(t, c)
	env := probetest.Env(s.addr, s.port)
	env.Budget.SampleRecords = 4
	env.Budget.MaxDatasets = 1
	ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
	defer cancel()
	res, err := New().Probe(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	sampled := 0
	for _, d := range res.Datasets {
		if d.Sampled > 0 {
			sampled++
			if d.Name != "crm.customers" || d.Sampled != 4 {
				t.Errorf("sampled %s with %d records, want crm.customers with 4", d.Name, d.Sampled)
			}
		}
	}
	if sampled != 1 {
		t.Errorf("%d datasets sampled, want 1 (the largest)", sampled)
	}
}

func TestProtectedServer(t *testing.T) {
	s := startFerret(t, 0, true)
	c := client(t, s)
	seed(t, c)
	before := digest(t, c)

	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatalf("probe: %v", err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
		t.Fatalf("status %s/%s, want protected/required (error %q, evidence %v)", res.Status, res.Auth, res.Error, res.Evidence)
	}
	if len(res.Datasets) != 0 {
		t.Errorf("protected server gave datasets: %v", res.Datasets)
	}
	if res.Evidence["auth_error_code"] != int32(codeUnauthorized) {
		t.Errorf("evidence %v, want auth error 13", res.Evidence)
	}
	t.Logf("protected: product %s version %q evidence %v", res.Product, res.Version, res.Evidence)
	if after := digest(t, c); after != before {
		t.Errorf("server data changed by the probe")
	}
}

func TestNotThisService(t *testing.T) {
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("hello"))
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	port := l.Addr().(*net.TCPAddr).Port

	redis := probetest.Banner(t, "-ERR unknown command\r\n")
	for name, target := range map[string]struct {
		addr netip.Addr
		port int
	}{"http": {addr, port}, "banner": {redis.Addr, redis.Port}} {
		t.Run(name, func(t *testing.T) {
			res, err := probetest.Run(t, New(), target.addr, target.port)
			if !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("got %v, %v; want not-this-service", res, err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}
