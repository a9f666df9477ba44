package testenv

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// DumpSite seeds root with what web servers leak (a .git folder, .env,
// cloud credentials, SQL dumps plain and gzipped, a Redis dump) and
// returns an nginx site serving it with autoindex, behind basic auth
// (admin, DumpSitePassword) when auth; the site listens on addr:port
// (zero: a fresh loopback address, a free port). Pass it to Nginx.
func DumpSite(tb testing.TB, root string, addr netip.Addr, port int, auth bool) NginxSite {
	tb.Helper()
	seedDumps(tb, root)
	s := NginxSite{Body: fmt.Sprintf("root %s; autoindex on;", root)}
	s.Addr, s.Port = Listen(tb, addr, port)
	if auth {
		pw := Htpasswd(tb, filepath.Dir(root), "admin", DumpSitePassword)
		s.Body += fmt.Sprintf(` auth_basic "staff"; auth_basic_user_file %s;`, pw)
	}
	return s
}

// DumpSitePassword guards a DumpSite with auth.
const DumpSitePassword = "s3cret-admin-pass"

// CatchAllSite returns an nginx site that answers the same index.html for
// every path (a single-page app), under root.
func CatchAllSite(tb testing.TB, root string, addr netip.Addr, port int) NginxSite {
	tb.Helper()
	WriteFile(tb, filepath.Join(root, "index.html"),
		"<!doctype html><html><head><title>App</title></head><body><div id=app>Welcome</div></body></html>\n")
	s := NginxSite{Body: fmt.Sprintf("root %s; location / { try_files /index.html =404; }", root)}
	s.Addr, s.Port = Listen(tb, addr, port)
	return s
}

// DumpSiteRecords are the record counts of a DumpSite's files, by path
// ("/" is the autoindex listing).
var DumpSiteRecords = map[string]int64{"/": 3, "/.env": 5, "/.aws/credentials": 2, "/db.sql": 2, "/backup.sql.gz": 3}

// DumpSiteSecrets are raw seeded values no leakwatch output may contain.
var DumpSiteSecrets = []string{"Winter2024!db", "IiosxfC6nH7/pTznyaaVJiRxtA9CdXiZlJZ9ILP2", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "AKIAXMAN5Y33PIHDNYAC", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "alice.martin@example.com", "dave@example.com"}

// NginxVersion is the installed nginx's version.
func NginxVersion(tb testing.TB) string {
	tb.Helper()
	out, _ := exec.Command(Binary(tb, "nginx"), "-v").CombinedOutput()
	if m := regexp.MustCompile(`nginx/(\S+)`).FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return ""
}

// DumpEnv is the .env file DumpSite serves.
const DumpEnv = `# production settings
APP_ENV=production
DB_PASSWORD="Winter2024!db"
ADMIN_EMAIL=alice.martin@example.com
export AWS_SECRET_ACCESS_KEY=IiosxfC6nH7/pTznyaaVJiRxtA9CdXiZlJZ9ILP2
STRIPE_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dc
`

// DumpAWS is the .aws/credentials file DumpSite serves.
const DumpAWS = `[default]
aws_access_key_id = AKIAXMAN5Y33PIHDNYAC
aws_secret_access_key = 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

[backup]
aws_access_key_id = AKIAZA54YXAUXVTVW646
aws_secret_access_key = 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
`

// DumpMySQL is the MySQL dump DumpSite serves gzipped.
const DumpMySQL = "-- MySQL dump 10.19  Distrib 10.11.6-MariaDB\n" +
	"/*!40101 SET NAMES utf8mb4 */;\n" +
	"DROP TABLE IF EXISTS `users`;\n" +
	"CREATE TABLE `users` (\n  `id` int(11) NOT NULL AUTO_INCREMENT,\n  `email` varchar(255) NOT NULL,\n" +
	"  `full_name` varchar(255) DEFAULT NULL,\n  `password_hash` char(60) DEFAULT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\n" +
	"LOCK TABLES `users` WRITE;\n" +
	"INSERT INTO `users` VALUES (1,'alice.martin@example.com','Alice Martin','$2y$10$abcdefghijklmnopqrstuv')," +
	"(2,'bob.o\\'neil@example.org','Bob O\\'Neil',NULL),(3,'carol@example.net','Carol, Jones','$2y$10$zyxwvutsrqponmlkjihgfe');\n" +
	"UNLOCK TABLES;\n-- Dump completed on 2026-11-28\n"

// DumpPG is the PostgreSQL dump DumpSite serves as db.sql.
const DumpPG = "--\n-- PostgreSQL database dump\n--\n" +
	"CREATE TABLE public.customers (\n    id integer NOT NULL,\n    email text,\n    phone text\n);\n" +
	"COPY public.customers (id, email, phone) FROM stdin;\n" +
	"1\tdave@example.com\t+1 555 0100\n2\teve@example.com\t\\N\n\\.\n"

func seedDumps(t testing.TB, root string) {
	t.Helper()
	WriteFile(t, filepath.Join(root, ".git/HEAD"), "ref: refs/heads/main\n")
	WriteFile(t, filepath.Join(root, ".git/config"), "[core]\n\trepositoryformatversion = 0\n\tbare = false\n"+
		"[remote \"origin\"]\n\turl = https://deploy:ghp_16C7e42F292c6912E7710c838347Ae178B4a@git.example.com/acme/shop.git\n"+
		"\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch \"main\"]\n\tremote = origin\n")
	WriteFile(t, filepath.Join(root, ".env"), DumpEnv)
	WriteFile(t, filepath.Join(root, ".aws/credentials"), DumpAWS)
	WriteFile(t, filepath.Join(root, "db.sql"), DumpPG)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(DumpMySQL))
	_ = zw.Close()
	WriteFile(t, filepath.Join(root, "backup.sql.gz"), gz.String())
	WriteFile(t, filepath.Join(root, "dump.rdb"), "REDIS0011\xfa\tredis-ver\x057.0.15\xfe\x00\xfb\x01\x00\x00\x05email\x18alice.martin@example.com\xff")
}

// treeDigest hashes every file under root (names and contents).
