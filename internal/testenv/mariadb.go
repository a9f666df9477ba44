package testenv

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
)

// MariaDBOptions configure StartMariaDB.
type MariaDBOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// RootPassword is the password of the root accounts TCP clients get
	// (empty: the classic password-less root).
	RootPassword string
}

// MariaDB is a real MariaDB server (Debian package) started for a test.
type MariaDB struct {
	Addr netip.Addr
	Port int
	sock string
}

// innodbSmall keeps a test server's files and memory small.
var mariadbSmall = []string{
	"--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M",
	"--innodb-doublewrite=0", "--innodb-flush-log-at-trx-commit=0",
}

// StartMariaDB initializes a data dir and runs mariadbd as root
// (--user=root) on its address and a unix socket in a temp dir.
// RootPassword is the password of root@127.0.0.1 and root@'127.%', the
// accounts TCP clients get; root@localhost over the socket stays
// password-less for seeding. It is stopped when the test ends.
func StartMariaDB(t testing.TB, o MariaDBOptions) *MariaDB {
	t.Helper()
	install := Binary(t, "mariadb-install-db")
	mariadbd := Binary(t, "mariadbd")
	dir, err := os.MkdirTemp("", "leakwatch-my-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	// A private tmpdir: servers installing at once in the shared /tmp
	// collide on their "#sql-temptable-…" files.
	tmp := filepath.Join(dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}, mariadbSmall...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s := &MariaDB{sock: filepath.Join(dir, "mysqld.sock")}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	args = append([]string{"--no-defaults", "--datadir=" + data, "--tmpdir=" + tmp, "--user=root",
		"--bind-address=" + s.Addr.String(), "--port=" + strconv.Itoa(s.Port), "--socket=" + s.sock,
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--skip-name-resolve", "--skip-log-bin",
		"--max-connections=20", "--performance-schema=0"}, mariadbSmall...)
	StartAndWait(t, "mariadbd", exec.Command(mariadbd, args...), s.Addr, s.Port, 30*time.Second)
	// mariadbd accepts on TCP a moment before it listens on its socket,
	// which seeding uses: under load a dial in between was refused.
	if err := waitUnix(s.sock, 30*time.Second); err != nil {
		t.Fatalf("mariadbd socket: %v", err)
	}
	// mariadb-install-db's "normal" root accounts include a password-less
	// root@127.0.0.1 (the classic open default); TCP clients from any
	// 127.x source get the same password here.
	s.Exec(t,
		fmt.Sprintf("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '%s'", o.RootPassword),
		fmt.Sprintf("CREATE USER 'root'@'127.%%' IDENTIFIED BY '%s'", o.RootPassword),
		"GRANT ALL ON *.* TO 'root'@'127.%' WITH GRANT OPTION")
	return s
}

// Local opens the server over its unix socket as root@localhost.
func (s *MariaDB) Local(t testing.TB) *sql.DB {
	t.Helper()
	cfg := mysqldrv.NewConfig()
	cfg.Net, cfg.Addr, cfg.User = "unix", s.sock, "root"
	cfg.MultiStatements = true
	c, err := mysqldrv.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db
}

// Exec runs statements over the unix socket as root@localhost.
func (s *MariaDB) Exec(t testing.TB, stmts ...string) {
	t.Helper()
	db := s.Local(t)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

// MariaDBSeedRows are the row counts Seed leaves, by "schema.table"
// (crm.contact_emails, a view, comes on top).
var MariaDBSeedRows = map[string]int64{"shop.users": 25, "shop.orders": 40, "crm.contacts": 7}

// MariaDBSecrets are raw seeded values no leakwatch output may contain.
var MariaDBSecrets = []string{"user1@example.com", "bob1@example.org", "$2y$10$00000000000000000000000000000001abcdefghijklmnopqrstu"}

// Seed creates two schemas with personal-data-shaped rows
// (MariaDBSeedRows) and analyzes them so TABLE_ROWS is exact.
func (s *MariaDB) Seed(t testing.TB) {
	t.Helper()
	var users, contacts string
	for i := 1; i <= 25; i++ {
		if i > 1 {
			users += ","
		}
		users += fmt.Sprintf("('user%d@example.com', 'Alice Example %d', '$2y$10$%032dabcdefghijklmnopqrstu')", i, i, i)
	}
	for i := 1; i <= 7; i++ {
		if i > 1 {
			contacts += ","
		}
		contacts += fmt.Sprintf("('Bob Person %d', '+1-202-555-01%02d', 'bob%d@example.org')", i, i, i)
	}
	s.Exec(t,
		"CREATE DATABASE shop",
		"CREATE TABLE shop.users (id INT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(200), password_hash CHAR(60), created TIMESTAMP DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB",
		"INSERT INTO shop.users (email, name, password_hash) VALUES "+users,
		"CREATE TABLE shop.orders (id INT PRIMARY KEY, user_id INT, total DECIMAL(10,2), note TEXT) ENGINE=InnoDB",
		"INSERT INTO shop.orders SELECT seq, seq % 25, seq * 1.5, NULL FROM shop.seq_1_to_40",
		"CREATE DATABASE crm",
		"CREATE TABLE crm.contacts (full_name VARCHAR(100), phone VARCHAR(40), email VARCHAR(100)) ENGINE=Aria",
		"INSERT INTO crm.contacts VALUES "+contacts,
		"CREATE VIEW crm.contact_emails AS SELECT email FROM crm.contacts",
		"ANALYZE TABLE shop.users, shop.orders, crm.contacts",
	)
}

// Digest hashes schemas, tables and their contents, and the accounts.
func (s *MariaDB) Digest(t testing.TB) string {
	t.Helper()
	db := s.Local(t)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h := sha256.New()
	rows, err := db.QueryContext(ctx, `SELECT CONCAT('`+"`"+`', TABLE_SCHEMA, '`+"`.`"+`', TABLE_NAME, '`+"`"+`'), TABLE_TYPE
		FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, name, typ)
		if typ == "BASE TABLE" {
			tables = append(tables, name)
		}
	}
	rows.Close()
	for _, tbl := range tables {
		var n int64
		var name string
		var sum sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tbl).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+tbl+" EXTENDED").Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, tbl, n, sum.String)
	}
	var users string
	if err := db.QueryRowContext(ctx, "SELECT GROUP_CONCAT(CONCAT(User, '@', Host, ':', authentication_string) ORDER BY 1) FROM mysql.user").Scan(&users); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(h, users)
	return hex.EncodeToString(h.Sum(nil))
}

// waitUnix waits until a unix socket accepts a connection.
func waitUnix(path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("unix", path, time.Second)
		if err == nil {
			return c.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting after %s: %w", path, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
