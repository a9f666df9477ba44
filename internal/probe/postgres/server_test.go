package postgres

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// pgServer is a real PostgreSQL server started for one test.
type pgServer struct {
	addr netip.Addr
	port int
	dir  string // data dir parent and unix socket dir
}

// startPG runs initdb and postgres as the "postgres" system user in a temp
// dir, listening on a fresh loopback address and over a unix socket in the
// temp dir (trusted, for seeding). hba is the method for TCP connections
// ("trust", "md5", "scram-sha-256", "reject"; "ssl-trust" for trust over
// TLS only, with a self-signed certificate); password, if set, becomes the
// postgres role's password.
func startPG(t *testing.T, port int, hba, password string) *pgServer {
	t.Helper()
	initdb := testenv.Binary(t, "initdb")
	postgres := testenv.Binary(t, "postgres")
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Unavailable(t, "system user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}

	// t.TempDir's parents are root-only; the server's user needs its own.
	dir, err := os.MkdirTemp("", "leakwatch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	cmd.SysProcAttr = cred
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	conf := "local all all trust\nhost all all 127.0.0.0/8 " + hba + "\n"
	var extra []string
	if hba == "ssl-trust" {
		conf = "local all all trust\nhostssl all all 127.0.0.0/8 trust\n"
		writeCert(t, data, uid, gid)
		extra = []string{"-c", "ssl=on"}
	}
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = os.Chown(filepath.Join(data, "pg_hba.conf"), uid, gid)

	s := &pgServer{addr: testenv.AddrWithPort(t, port), port: port, dir: dir}
	if port == 0 {
		s.addr = testenv.Addr(t)
		s.port = testenv.FreePort(t, s.addr)
	}
	enc := "scram-sha-256"
	if hba == "md5" {
		enc = "md5"
	}
	cmd = exec.Command(postgres, "-D", data,
		"-c", "listen_addresses="+s.addr.String(),
		"-c", "port="+strconv.Itoa(s.port),
		"-c", "unix_socket_directories="+dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=16MB", "-c", "max_connections=20", "-c", "autovacuum=off",
		"-c", "password_encryption="+enc)
	cmd.Args = append(cmd.Args, extra...)
	cmd.SysProcAttr = cred
	testenv.StartAndWait(t, "postgres", cmd, s.addr, s.port, 30*time.Second)
	s.waitReady(t)
	if password != "" {
		s.exec(t, "postgres", fmt.Sprintf("ALTER ROLE postgres PASSWORD '%s'", password))
	}
	return s
}

// local connects over the unix socket (trust), for seeding and digests.
func (s *pgServer) local(ctx context.Context, db string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", s.dir, s.port, db))
}

func (s *pgServer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := s.local(ctx, "postgres")
		if err == nil {
			c.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			t.Fatalf("postgres not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// exec runs statements in db over the unix socket.
func (s *pgServer) exec(t *testing.T, db string, stmts ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := s.local(ctx, db)
	if err != nil {
		t.Fatalf("connect %s: %v", db, err)
	}
	defer c.Close(ctx)
	for _, st := range stmts {
		if _, err := c.Exec(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

// seed creates databases and tables with personal-data-shaped values and
// analyzes them (except public.fresh), so reltuples is exact.
func (s *pgServer) seed(t *testing.T) {
	t.Helper()
	s.exec(t, "postgres", "CREATE DATABASE shop")
	s.exec(t, "shop",
		`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text, password_hash text, created timestamptz DEFAULT now())`,
		`INSERT INTO users (email, name, password_hash)
		 SELECT 'user' || i || '@example.com', 'Alice Example ' || i,
		        '$2b$12$' || md5(i::text) || 'abcdefghijklmnopqrstu'
		 FROM generate_series(1, 25) i`,
		`CREATE TABLE orders (id int, user_id int, total numeric(10,2), note text)`,
		`INSERT INTO orders SELECT i, i % 25, i * 1.5, NULL FROM generate_series(1, 40) i`,
		`ANALYZE users`, `ANALYZE orders`)
	s.exec(t, "postgres",
		`CREATE SCHEMA crm`,
		`CREATE TABLE crm.contacts (full_name text, phone text, email text)`,
		`INSERT INTO crm.contacts SELECT 'Bob Person ' || i, '+1-202-555-01' || lpad(i::text, 2, '0'), 'bob' || i || '@example.org' FROM generate_series(1, 7) i`,
		`CREATE TABLE sessions (token text, user_email text)`,
		`INSERT INTO sessions SELECT 'tok_' || md5(i::text), 'user' || i || '@example.com' FROM generate_series(1, 10) i`,
		`CREATE TABLE fresh (note text)`,
		`INSERT INTO fresh VALUES ('a'), ('b'), ('c')`,
		`ANALYZE crm.contacts`, `ANALYZE sessions`)
}

// digest hashes every database's catalog of tables, their contents, and the
// roles, so a test can prove a probe changed nothing.
func (s *pgServer) digest(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := sha256.New()
	c, err := s.local(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	var dbs []string
	rows, _ := c.Query(ctx, `SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1`)
	dbs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var roles string
	if err := c.QueryRow(ctx, `SELECT string_agg(rolname || ':' || coalesce(rolpassword, ''), ',' ORDER BY rolname) FROM pg_authid`).Scan(&roles); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(h, dbs, roles)
	c.Close(ctx)
	for _, db := range dbs {
		fmt.Fprintln(h, db, s.dbDigest(ctx, t, db))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *pgServer) dbDigest(ctx context.Context, t *testing.T, db string) string {
	c, err := s.local(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, tb := range tables {
		var sum string
		q := fmt.Sprintf(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %s x`, tb)
		if err := c.QueryRow(ctx, q).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, tb, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeCert writes a self-signed server.crt/server.key into the data dir
// (PostgreSQL's default ssl_cert_file/ssl_key_file).
func writeCert(t *testing.T, data string, uid, gid int) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "leakwatch-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	}
	for name, b := range files {
		p := filepath.Join(data, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}
