package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresOptions configure StartPostgres.
type PostgresOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// HBA is the pg_hba method for TCP connections from 127.0.0.0/8
	// ("trust" by default; "md5", "scram-sha-256", "reject"; "ssl-trust"
	// for trust over TLS only, with a self-signed certificate).
	HBA string
	// Password, if set, becomes the postgres role's password.
	Password string
	// Durable keeps fsync on (default off: test data is throw-away).
	Durable bool
	// MaxConnections (default 50).
	MaxConnections int
}

// Postgres is a real PostgreSQL server (Debian's binaries) started for a
// test: initdb in a temp dir as the "postgres" system user, listening on a
// fresh loopback address and on a unix socket in the temp dir (always
// trusted, for seeding). It is stopped when the test ends.
type Postgres struct {
	Addr netip.Addr
	Port int
	// Dir holds the data dir and the unix socket.
	Dir string
}

// StartPostgres starts a server, or skips (fails under CI) without the
// binaries or the postgres user.
func StartPostgres(tb testing.TB, o PostgresOptions) *Postgres {
	tb.Helper()
	initdb := Binary(tb, "initdb")
	server := Binary(tb, "postgres")
	uid, gid := SystemUser(tb, "postgres")
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if o.HBA == "" {
		o.HBA = "trust"
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 50
	}

	dir := ServerDir(tb, "leakwatch-pg-")
	if err := os.Chown(dir, uid, gid); err != nil {
		tb.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	cmd.SysProcAttr = cred
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	hbaConf := "local all all trust\nhost all all 127.0.0.0/8 " + o.HBA + "\n"
	var extra []string
	if o.HBA == "ssl-trust" {
		hbaConf = "local all all trust\nhostssl all all 127.0.0.0/8 trust\n"
		cert, key := SelfSignedCert(tb, data)
		for _, f := range []string{cert, key} {
			if err := os.Chown(f, uid, gid); err != nil {
				tb.Fatal(err)
			}
		}
		extra = []string{"-c", "ssl=on", "-c", "ssl_cert_file=" + cert, "-c", "ssl_key_file=" + key}
	}
	hba := filepath.Join(data, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte(hbaConf), 0o600); err != nil {
		tb.Fatal(err)
	}
	_ = os.Chown(hba, uid, gid)

	p := &Postgres{Dir: dir}
	p.Addr, p.Port = Listen(tb, o.Addr, o.Port)
	enc := "scram-sha-256"
	if o.HBA == "md5" {
		enc = "md5"
	}
	args := []string{"-D", data,
		"-c", "listen_addresses=" + p.Addr.String(),
		"-c", "port=" + strconv.Itoa(p.Port),
		"-c", "unix_socket_directories=" + dir,
		"-c", "shared_buffers=16MB", "-c", "max_connections=" + strconv.Itoa(o.MaxConnections),
		"-c", "autovacuum=off", "-c", "password_encryption=" + enc}
	if !o.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd = exec.Command(server, append(args, extra...)...)
	cmd.SysProcAttr = cred
	StartAndWait(tb, "postgres", cmd, p.Addr, p.Port, 30*time.Second)
	p.waitReady(tb)
	if o.Password != "" {
		p.Exec(tb, "postgres", fmt.Sprintf("ALTER ROLE postgres PASSWORD '%s'", o.Password))
	}
	return p
}

// LocalDSN is a keyword/value DSN over the unix socket (trusted).
func (p *Postgres) LocalDSN(db string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", p.Dir, p.Port, db)
}

// URL is a postgres:// URL over TCP on the loopback address.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", netip.AddrPortFrom(p.Addr, uint16(p.Port)), db)
}

// Local connects over the unix socket.
func (p *Postgres) Local(ctx context.Context, db string) (*pgx.Conn, error) {
	return pgx.Connect(ctx, p.LocalDSN(db))
}

func (p *Postgres) waitReady(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := p.Local(ctx, "postgres")
		if err == nil {
			c.Close(ctx)
			cancel()
			return
		}
		cancel()
		if time.Now().After(deadline) {
			tb.Fatalf("postgres not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Exec runs statements in db over the unix socket.
func (p *Postgres) Exec(tb testing.TB, db string, stmts ...string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := p.Local(ctx, db)
	if err != nil {
		tb.Fatalf("connect %s: %v", db, err)
	}
	defer c.Close(ctx)
	for _, st := range stmts {
		if _, err := c.Exec(ctx, st); err != nil {
			tb.Fatalf("%s: %v", st, err)
		}
	}
}

var pgDBSeq atomic.Int64

// NewDatabase creates a fresh, empty database and returns its name.
func (p *Postgres) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d_%d", os.Getpid(), pgDBSeq.Add(1))
	p.Exec(tb, "postgres", "CREATE DATABASE "+name)
	return name
}

// PostgresSeedRows are the row counts Seed leaves in its analyzed tables,
// by "database.schema.table"; postgres.public.fresh (3 rows) is never
// analyzed, so its estimate is unknown.
var PostgresSeedRows = map[string]int64{
	"shop.public.users":        25,
	"shop.public.orders":       40,
	"postgres.crm.contacts":    7,
	"postgres.public.sessions": 10,
}

// Seed creates databases and tables with personal-data-shaped values
// (PostgresSeedRows) and analyzes them (except public.fresh), so reltuples
// is exact.
func (p *Postgres) Seed(tb testing.TB) {
	tb.Helper()
	p.Exec(tb, "postgres", "CREATE DATABASE shop")
	p.Exec(tb, "shop",
		`CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text, password_hash text, created timestamptz DEFAULT now())`,
		`INSERT INTO users (email, name, password_hash)
		 SELECT 'user' || i || '@example.com', 'Alice Example ' || i,
		        '$2b$12$' || md5(i::text) || 'abcdefghijklmnopqrstu'
		 FROM generate_series(1, 25) i`,
		`CREATE TABLE orders (id int, user_id int, total numeric(10,2), note text)`,
		`INSERT INTO orders SELECT i, i % 25, i * 1.5, NULL FROM generate_series(1, 40) i`,
		`ANALYZE users`, `ANALYZE orders`)
	p.Exec(tb, "postgres",
		`CREATE SCHEMA crm`,
		`CREATE TABLE crm.contacts (full_name text, phone text, email text)`,
		`INSERT INTO crm.contacts SELECT 'Bob Person ' || i, '+1-202-555-01' || lpad(i::text, 2, '0'), 'bob' || i || '@example.org' FROM generate_series(1, 7) i`,
		`CREATE TABLE sessions (token text, user_email text)`,
		`INSERT INTO sessions SELECT 'tok_' || md5(i::text), 'user' || i || '@example.com' FROM generate_series(1, 10) i`,
		`CREATE TABLE fresh (note text)`,
		`INSERT INTO fresh VALUES ('a'), ('b'), ('c')`,
		`ANALYZE crm.contacts`, `ANALYZE sessions`)
}

// PostgresSecrets are raw seeded values no leakwatch output may contain.
var PostgresSecrets = []string{"user1@example.com", "bob1@example.org", "tok_c4ca4238a0b923820dcc509a6f75849b", "$2b$12$c4ca4238a0b923820dcc509a6f75849babcdefghijklmnopqrstu"}

// Digest hashes every database's catalog of tables, their contents, and
// the roles, so a test can prove a probe changed nothing.
func (p *Postgres) Digest(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := sha256.New()
	c, err := p.Local(ctx, "postgres")
	if err != nil {
		tb.Fatal(err)
	}
	rows, _ := c.Query(ctx, `SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1`)
	dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	var roles string
	if err := c.QueryRow(ctx, `SELECT string_agg(rolname || ':' || coalesce(rolpassword, ''), ',' ORDER BY rolname) FROM pg_authid`).Scan(&roles); err != nil {
		tb.Fatal(err)
	}
	fmt.Fprintln(h, dbs, roles)
	c.Close(ctx)
	for _, db := range dbs {
		fmt.Fprintln(h, db, p.dbDigest(ctx, tb, db))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (p *Postgres) dbDigest(ctx context.Context, tb testing.TB, db string) string {
	tb.Helper()
	c, err := p.Local(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close(ctx)
	rows, _ := c.Query(ctx, `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		tb.Fatal(err)
	}
	h := sha256.New()
	for _, t := range tables {
		var sum string
		q := fmt.Sprintf(`SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM %s x`, t)
		if err := c.QueryRow(ctx, q).Scan(&sum); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintln(h, t, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}
