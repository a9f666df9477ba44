package webdump

import (
	"testing"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

func TestParseSQLDump(t *testing.T) {
	d := parseSQLDump([]byte(testenv.DumpMySQL), 10)
	if !d.Valid() || d.RowCount != 3 || len(d.Tables["users"]) != 4 {
		t.Fatalf("mysql: %+v", d)
	}
	if got := d.Rows[2].Values[2]; got != "Carol, Jones" {
		t.Errorf("comma in string: %q", got)
	}
	if d.Rows[1].Values[3] != "" {
		t.Errorf("NULL: %q", d.Rows[1].Values[3])
	}
	d = parseSQLDump([]byte(testenv.DumpPG), 10)
	if d.RowCount != 2 || d.Rows[0].Columns[1] != "email" || d.Rows[1].Values[2] != "" {
		t.Fatalf("pg: %+v", d)
	}
	d = parseSQLDump([]byte("INSERT INTO t (a, b) VALUES ('x', 'it''s'), ('y', 'z');\nINSERT INTO t VALUES ('q',"), 1)
	if d.RowCount != 2 || len(d.Rows) != 1 || d.Rows[0].Values[1] != "x" && d.Rows[0].Values[1] != "it's" {
		t.Fatalf("inserts: %+v", d)
	}
	if d := parseSQLDump([]byte("<html><body>INSERT INTO x VALUES (1);</body></html>"), 10); d.Valid() {
		t.Error("html page taken for a dump")
	}
	if d := parseSQLDump([]byte("just some text; nothing here"), 10); d.Valid() {
		t.Error("prose taken for a dump")
	}
}

func TestParseSmall(t *testing.T) {
	if ref, ok := parseGitHEAD([]byte("ref: refs/heads/main\n")); !ok || ref != "refs/heads/main" {
		t.Errorf("git head %q %v", ref, ok)
	}
	if _, ok := parseGitHEAD([]byte("<html>ref: refs/heads/main</html>")); ok {
		t.Error("html git head")
	}
	if _, ok := parseGitHEAD([]byte("0123456789abcdef0123456789abcdef01234567\n")); !ok {
		t.Error("detached head")
	}
	if _, n, ok := parseEnv([]byte(testenv.DumpEnv), 10); !ok || n != 5 {
		t.Errorf("env n %d ok %v", n, ok)
	}
	if _, _, ok := parseEnv([]byte("<!doctype html>\n<p>A=B</p>"), 10); ok {
		t.Error("html env")
	}
	if _, _, ok := parseEnv([]byte("Hello world\nThis is a page\nA=B\n"), 10); ok {
		t.Error("prose env")
	}
	if es, ok := parseAWSCredentials([]byte(testenv.DumpAWS), 10); !ok || len(iniRecords(es, false)) != 2 {
		t.Errorf("aws %v %v", es, ok)
	}
	if _, ok := parseGitConfig([]byte("[core]\n\tbare = false\nnot ini\n"), 10); ok {
		t.Error("bad ini accepted")
	}
	if v, ok := parseRDB([]byte("REDIS0011\xfa")); !ok || v != "0011" {
		t.Errorf("rdb %q %v", v, ok)
	}
	if _, ok := parseRDB([]byte("REDISxxxx")); ok {
		t.Error("bad rdb")
	}
	apache := `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head><title>Index of /</title></head><body>
<table><tr><th><a href="?C=N;O=D">Name</a></th></tr><tr><td><a href="/">Parent Directory</a></td></tr>
<tr><td><a href="db%20backup.sql">db backup.sql</a></td></tr><tr><td><a href="files/">files/</a></td></tr></table></body></html>`
	if names, n, ok := parseAutoindex([]byte(apache), 10); !ok || n != 2 || names[0] != "db backup.sql" {
		t.Errorf("apache index %v %d %v", names, n, ok)
	}
	if _, _, ok := parseAutoindex([]byte("<html><title>Shop</title></html>"), 10); ok {
		t.Error("plain page taken for an index")
	}
}

func FuzzParseText(f *testing.F) {
	f.Add([]byte(testenv.DumpEnv))
	f.Add([]byte(testenv.DumpAWS))
	f.Add([]byte("[core]\n\tbare = false\n[remote \"o\\\"x\"]\nurl = u\n"))
	f.Add([]byte("ref: refs/heads/main\n"))
	f.Add([]byte("<title>Index of /</title><a href=\"%zz\">x</a><a href=\"\">"))
	f.Add([]byte("REDIS0011"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = parseGitHEAD(b)
		if es, ok := parseGitConfig(b, 3); ok && len(es) > 3 {
			t.Fatal("ini entries over limit")
		}
		_, _ = parseAWSCredentials(b, 3)
		if es, n, _ := parseEnv(b, 3); len(es) > 3 || n < len(es) {
			t.Fatal("env entries over limit")
		}
		if names, n, _ := parseAutoindex(b, 3); len(names) > 3 || n < len(names) {
			t.Fatal("index entries over limit")
		}
		_, _ = parseRDB(b)
		_, _, _ = gunzipPrefix(b, 1<<16)
	})
}
