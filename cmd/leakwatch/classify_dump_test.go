package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// dumpRows seeds n users with an e-mail address and a phone number.
func dumpRows(n int) []string {
	var rows []string
	for i := 1; i <= n; i++ {
		rows = append(rows, fmt.Sprintf("(%d, 'user%d.o''neil@corp-mail.com', '+44 20 7946 %04d', 'plan %d')", i, i, i, i%3))
	}
	return rows
}

// checkDump classifies a real dump record by record: every seeded row is
// one record with its e-mail and phone under table.column.
func checkDump(t *testing.T, dump []byte, n int) {
	t.Helper()
	key := filepath.Join(t.TempDir(), "key")
	code, out, errOut := runCLI(t, string(dump), "classify", "--key-file", key, "--per-record", "--type", "sql", "-")
	if code != exitExposed {
		t.Fatalf("exit %d: %s\n--- dump:\n%s", code, errOut, dump)
	}
	lines := perRecordLines(t, out)
	if len(lines) != n {
		t.Fatalf("%d records for %d rows:\n%s\n--- dump:\n%s", len(lines), n, out, dump)
	}
	for _, pr := range lines {
		got := strings.Join(classesOf(pr), " ")
		if got != "email@users.email phone@users.phone" {
			t.Fatalf("record %d (line %d): %s", pr.Record, pr.Line, got)
		}
	}
	if strings.Contains(out, "corp-mail.com") {
		t.Error("output holds a seeded value")
	}
}

// TestClassifyRealPgDump: pg_dump of a real PostgreSQL, in its default
// COPY form and as INSERT statements with column lists.
func TestClassifyRealPgDump(t *testing.T) {
	pgDump := testenv.Binary(t, "pg_dump")
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{})
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, phone text, plan text)",
		"INSERT INTO users VALUES "+strings.Join(dumpRows(30), ", "))
	for _, extra := range [][]string{nil, {"--column-inserts"}, {"--inserts"}} {
		args := append([]string{"-h", pg.Dir, "-p", fmt.Sprint(pg.Port), "-U", "postgres", "--no-owner"}, extra...)
		out, err := exec.Command(pgDump, append(args, db)...).Output()
		if err != nil {
			t.Fatalf("pg_dump %v: %v", extra, err)
		}
		t.Run(fmt.Sprint(extra), func(t *testing.T) { checkDump(t, out, 30) })
	}
}

// TestClassifyRealMysqldump: mysqldump of a real MariaDB, with extended
// INSERTs (columns from CREATE TABLE) and with --complete-insert.
func TestClassifyRealMysqldump(t *testing.T) {
	dump := testenv.Binary(t, "mysqldump")
	my := testenv.StartMariaDB(t, testenv.MariaDBOptions{})
	my.Exec(t, "CREATE DATABASE shop",
		"CREATE TABLE shop.users (id int PRIMARY KEY, email varchar(200) NOT NULL, phone varchar(40), plan text, KEY by_email (email))",
		"INSERT INTO shop.users VALUES "+strings.Join(dumpRows(30), ", "))
	for _, extra := range [][]string{nil, {"--complete-insert"}, {"--skip-extended-insert"}} {
		args := append([]string{"-h", my.Addr.String(), "-P", fmt.Sprint(my.Port), "-u", "root", "--skip-ssl"}, extra...)
		out, err := exec.Command(dump, append(args, "shop")...).Output()
		if err != nil {
			var ee *exec.ExitError
			if ok := asExit(err, &ee); ok {
				t.Fatalf("mysqldump %v: %v: %s", extra, err, ee.Stderr)
			}
			t.Fatalf("mysqldump %v: %v", extra, err)
		}
		t.Run(fmt.Sprint(extra), func(t *testing.T) { checkDump(t, out, 30) })
	}
}

func asExit(err error, ee **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*ee = e
	return ok
}
