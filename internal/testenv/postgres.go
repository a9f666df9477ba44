package testenv

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
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
	// Port to listen on (0: a free one on the fresh address).
	Port int
	// HBA is the pg_hba method for TCP connections from 127.0.0.0/8
	// ("trust" by default; "md5", "scram-sha-256", "reject").
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
	u, err := user.Lookup("postgres")
	if err != nil {
		Unavailable(tb, "system user postgres: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	if o.HBA == "" {
		o.HBA = "trust"
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = 50
	}

	// t.TempDir's parents are root-only; the server's user needs its own.
	dir, err := os.MkdirTemp("", "leakwatch-pg-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, uid, gid); err != nil {
		tb.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8")
	cmd.SysProcAttr = cred
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("initdb: %v\n%s", err, out)
	}
	hba := filepath.Join(data, "pg_hba.conf")
	if err := os.WriteFile(hba, []byte("local all all trust\nhost all all 127.0.0.0/8 "+o.HBA+"\n"), 0o600); err != nil {
		tb.Fatal(err)
	}
	_ = os.Chown(hba, uid, gid)

	p := &Postgres{Port: o.Port, Dir: dir}
	if o.Port == 0 {
		p.Addr = Addr(tb)
		p.Port = FreePort(tb, p.Addr)
	} else {
		p.Addr = AddrWithPort(tb, o.Port)
	}
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
	cmd = exec.Command(server, args...)
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
