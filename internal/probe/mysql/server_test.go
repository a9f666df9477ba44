package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// myServer is a real MariaDB server started for one test.
type myServer struct {
	addr netip.Addr
	port int
	sock string
}

// innodbSmall keeps a test server's files and memory small.
var innodbSmall = []string{
	"--innodb-log-file-size=4M", "--innodb-buffer-pool-size=16M",
	"--innodb-doublewrite=0", "--innodb-flush-log-at-trx-commit=0",
}

// startMariaDB initializes a data dir and runs mariadbd as root (--user=root)
// on a fresh loopback address (port 0: a random one) and a unix socket in a
// temp dir. rootPassword is the password of root@127.0.0.1 and
// root@'127.%', the accounts TCP clients get; root@localhost over the socket
// stays password-less for seeding.
func startMariaDB(t *testing.T, port int, rootPassword string) *myServer {
	t.Helper()
	install := testenv.Binary(t, "mariadb-install-db")
	mariadbd := testenv.Binary(t, "mariadbd")
	dir, err := os.MkdirTemp("", "leakwatch-my-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	data := filepath.Join(dir, "data")
	args := append([]string{"--no-defaults", "--datadir=" + data, "--user=root",
		"--auth-root-authentication-method=normal", "--skip-test-db", "--skip-name-resolve"}, innodbSmall...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		t.Fatalf("mariadb-install-db: %v\n%s", err, out)
	}
	s := &myServer{port: port, sock: filepath.Join(dir, "mysqld.sock")}
	if port == 0 {
		s.addr = testenv.Addr(t)
		s.port = testenv.FreePort(t, s.addr)
	} else {
		s.addr = testenv.AddrWithPort(t, port)
	}
	args = append([]string{"--no-defaults", "--datadir=" + data, "--user=root",
		"--bind-address=" + s.addr.String(), "--port=" + strconv.Itoa(s.port), "--socket=" + s.sock,
		"--pid-file=" + filepath.Join(dir, "mysqld.pid"), "--skip-name-resolve", "--skip-log-bin",
		"--max-connections=20", "--performance-schema=0"}, innodbSmall...)
	testenv.StartAndWait(t, "mariadbd", exec.Command(mariadbd, args...), s.addr, s.port, 30*time.Second)
	// mariadb-install-db's "normal" root accounts include a password-less
	// root@127.0.0.1 (the classic open default); TCP clients from any
	// 127.x source get the same password here.
	s.exec(t,
		fmt.Sprintf("ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY '%s'", rootPassword),
		fmt.Sprintf("CREATE USER 'root'@'127.%%' IDENTIFIED BY '%s'", rootPassword),
		"GRANT ALL ON *.* TO 'root'@'127.%' WITH GRANT OPTION")
	return s
}

// local opens the server over its unix socket as root@localhost.
func (s *myServer) local(t *testing.T) *sql.DB {
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

func (s *myServer) exec(t *testing.T, stmts ...string) {
	t.Helper()
	db := s.local(t)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, st := range stmts {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
	}
}

// seed creates two schemas with personal-data-shaped rows and analyzes
// them so TABLE_ROWS is exact.
func (s *myServer) seed(t *testing.T) {
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
	s.exec(t,
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

// digest hashes schemas, tables and their contents, and the accounts.
func (s *myServer) digest(t *testing.T) string {
	t.Helper()
	db := s.local(t)
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
	for _, tb := range tables {
		var n int64
		var name string
		var sum sql.NullString
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+tb).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "CHECKSUM TABLE "+tb+" EXTENDED").Scan(&name, &sum); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(h, tb, n, sum.String)
	}
	var users string
	if err := db.QueryRowContext(ctx, "SELECT GROUP_CONCAT(CONCAT(User, '@', Host, ':', authentication_string) ORDER BY 1) FROM mysql.user").Scan(&users); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(h, users)
	return hex.EncodeToString(h.Sum(nil))
}
