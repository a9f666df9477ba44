package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
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
)

const (
	ferretAdminUser = "root"
	ferretAdminPass = "s3cret-Pa55"
)

// FerretOptions configure StartFerret.
type FerretOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// Auth turns FerretDB's authentication on, with an admin user created
	// at start (the test client logs in as it).
	Auth bool
}

// Ferret is a real FerretDB (MongoDB wire protocol, SQLite backend) built
// by scripts/build-ferretdb.sh and started for a test.
type Ferret struct {
	Addr   netip.Addr
	Port   int
	auth   bool
	client *mongo.Client
}

// URI is the server's mongodb:// URI (direct connection, no credentials).
func (s *Ferret) URI() string {
	return "mongodb://" + net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.Port)) + "/?directConnection=true"
}

// StartFerret runs FerretDB with the SQLite backend in a temp dir; it is
// stopped when the test ends.
func StartFerret(t testing.TB, o FerretOptions) *Ferret {
	t.Helper()
	bin := CachedBinary(t, "ferretdb", "LEAKWATCH_FERRETDB", "scripts/build-ferretdb.sh")
	addr, port := Listen(t, o.Addr, o.Port)
	auth := o.Auth
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
			"--setup-database=admin", "--setup-username="+ferretAdminUser, "--setup-password="+ferretAdminPass)
	}
	StartAndWait(t, "ferretdb", exec.Command(bin, args...), addr, port, 30*time.Second)
	return &Ferret{Addr: addr, Port: port, auth: auth}
}

// Client is the official driver connected to s as its admin (test side
// only; made once).
func (s *Ferret) Client(t testing.TB) *mongo.Client {
	t.Helper()
	if s.client != nil {
		return s.client
	}
	opts := options.Client().ApplyURI(s.URI()).SetTimeout(10 * time.Second)
	if s.auth {
		opts.SetAuth(options.Credential{Username: ferretAdminUser, Password: ferretAdminPass, AuthSource: "admin", AuthMechanism: "SCRAM-SHA-256"})
	}
	c, err := mongo.Connect(opts)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	s.client = c
	return c
}

// FerretSeedDocs are the document counts Seed writes, by
// "database.collection".
var FerretSeedDocs = map[string]int64{"crm.customers": 25, "crm.events": 7, "shop.orders": 3}

// FerretSecrets are raw seeded values no leakwatch output may contain.
var FerretSecrets = []string{"alice1@example.com", "tok_00000000000000000000000000001eef", "4111111111111111"}

// Seed writes personal-data-shaped documents (FerretSeedDocs).
func (s *Ferret) Seed(t testing.TB) {
	t.Helper()
	c := s.Client(t)
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

// Digest hashes every database, collection and document the server holds.
func (s *Ferret) Digest(t testing.TB) string {
	t.Helper()
	c := s.Client(t)
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
