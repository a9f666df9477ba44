package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// PouchOptions configure StartPouch.
type PouchOptions struct {
	// Addr and Port of the HTTP API (zero: a fresh loopback address, a
	// free port).
	Addr netip.Addr
	Port int
	// Protected configures a server admin (no "admin party") and gives
	// every seeded database a _security document whose members list
	// admits one user only: anonymous reads of the databases are refused.
	Protected bool
}

// Pouch is a real pouchdb-server (a CouchDB-API server on Node.js and
// PouchDB, LevelDB storage), installed by scripts/build-pouchdb.sh and
// started for a test.
type Pouch struct {
	Addr netip.Addr
	Port int
	// Dir is the server's data directory; it holds log.txt, the server's
	// request log (one line a request).
	Dir        string
	user, pass string
	protected  bool
}

// PouchVersion is the pouchdb-server version scripts/build-pouchdb.sh
// installs (testenv/pouchdb/package.json).
const PouchVersion = "4.2.0"

const (
	pouchAdminUser = "admin"
	pouchAdminPass = "Pouch-admin-Pa55"
)

// pouchBinary finds pouchdb-server in .cache/pouchdb (or $LEAKWATCH_POUCHDB)
// or skips/fails the test.
func pouchBinary(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("LEAKWATCH_POUCHDB"); p != "" {
		return p
	}
	root, err := RepoRoot()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(root, ".cache", "pouchdb", "node_modules", ".bin", "pouchdb-server")
	if _, err := os.Stat(p); err != nil {
		Unavailable(tb, "pouchdb-server not installed (run scripts/build-pouchdb.sh)")
	}
	return p
}

// StartPouch runs pouchdb-server on its address with a data directory of
// its own: open ("admin party": every client is a server admin), or with
// o.Protected an admin configured in its config file. It runs in its data
// directory, where it writes its request log (log.txt). It is stopped when
// the test ends.
func StartPouch(t testing.TB, o PouchOptions) *Pouch {
	t.Helper()
	bin := pouchBinary(t)
	s := &Pouch{Dir: t.TempDir(), protected: o.Protected}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	conf := filepath.Join(s.Dir, "config.json")
	cfg := map[string]any{}
	if o.Protected {
		// pouchdb-server hashes admin passwords of its config file at start.
		cfg["admins"] = map[string]string{pouchAdminUser: pouchAdminPass}
		s.user, s.pass = pouchAdminUser, pouchAdminPass
	}
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--host", s.Addr.String(), "--port", strconv.Itoa(s.Port),
		"--dir", s.Dir, "--config", conf, "--no-stdout-logs", "--no-color")
	cmd.Dir = s.Dir
	StartAndWait(t, "pouchdb-server", cmd, s.Addr, s.Port, 60*time.Second)
	// It listens before its system databases exist: wait for them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, body := s.request(t, "GET", "/_all_dbs", nil); code == 200 && strings.Contains(body, "_users") && strings.Contains(body, "_replicator") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("pouchdb-server: system databases not created")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// Base is the server's URL.
func (s *Pouch) Base() string {
	return "http://" + net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.Port))
}

// request sends one request with the admin's credentials (if any) and
// returns the status and body.
func (s *Pouch) request(t testing.TB, method, path string, body any) (int, string) {
	t.Helper()
	code, b := JSONRequest(t, method, s.Base()+path, body, func(r *http.Request) {
		if s.user != "" {
			r.SetBasicAuth(s.user, s.pass)
		}
	})
	return code, string(b)
}

// do is request that fails the test unless the answer is 2xx.
func (s *Pouch) do(t testing.TB, method, path string, body any) string {
	t.Helper()
	code, b := s.request(t, method, path, body)
	if code/100 != 2 {
		t.Fatalf("pouchdb %s %s: %d %s", method, path, code, b)
	}
	return b
}

// PouchSeedDocs are the document counts (doc_count: design documents
// included) of every database after Seed.
var PouchSeedDocs = map[string]int64{"customers": 12, "devices": 5, "_users": 2, "_replicator": 1}

// pouchCustomerSeed seeds the customers database (Customers).
const pouchCustomerSeed = 1422

// PouchCustomers are the customers database's records.
func PouchCustomers() []Customer {
	return Customers(pouchCustomerSeed, int(PouchSeedDocs["customers"]))
}

// PouchSecrets are raw seeded values no leakwatch output may contain.
func PouchSecrets() []string {
	return append(RawValues(PouchCustomers()), "dev_tok_7Hq2LrXw9VbN4sKd", "couch-user-Pa55word")
}

// Seed creates the customers database (breach-shaped customer records)
// and devices (device tokens), and a user in _users (its password is
// stored hashed). With Protected every seeded database admits only the
// member "analyst".
func (s *Pouch) Seed(t testing.TB) {
	t.Helper()
	for _, db := range []string{"customers", "devices"} {
		s.do(t, "PUT", "/"+db, nil)
		if s.protected {
			s.do(t, "PUT", "/"+db+"/_security", map[string]any{
				"admins":  map[string]any{"names": []string{}, "roles": []string{}},
				"members": map[string]any{"names": []string{"analyst"}, "roles": []string{}},
			})
		}
	}
	for i, c := range PouchCustomers() {
		s.do(t, "PUT", fmt.Sprintf("/customers/cust-%03d", i), c)
	}
	for i := range int(PouchSeedDocs["devices"]) {
		s.do(t, "PUT", fmt.Sprintf("/devices/dev-%d", i), map[string]any{
			"serial": fmt.Sprintf("SN-%06d", 4000+i), "owner_email": fmt.Sprintf("owner%d@devices.example", i),
			"api_token": fmt.Sprintf("dev_tok_7Hq2LrXw9VbN4sK%d", i), "firmware": "2.1.0",
		})
	}
	s.do(t, "PUT", "/_users/org.couchdb.user:analyst", map[string]any{
		"name": "analyst", "type": "user", "roles": []string{}, "password": "couch-user-Pa55word",
	})
}

// Digest hashes (as the admin, where there is one) the database list and
// every database's info counters and documents with their revisions, and
// each seeded database's _security document.
func (s *Pouch) Digest(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	var dbs []string
	if err := json.Unmarshal([]byte(s.do(t, "GET", "/_all_dbs", nil)), &dbs); err != nil {
		t.Fatalf("pouchdb _all_dbs: %v", err)
	}
	sort.Strings(dbs)
	fmt.Fprintln(h, dbs)
	for _, db := range dbs {
		var info struct {
			DocCount  int64 `json:"doc_count"`
			UpdateSeq any   `json:"update_seq"`
		}
		p := "/" + url.PathEscape(db)
		if err := json.Unmarshal([]byte(s.do(t, "GET", p, nil)), &info); err != nil {
			t.Fatalf("pouchdb %s: %v", db, err)
		}
		fmt.Fprintln(h, db, info.DocCount, info.UpdateSeq)
		if code, docs := s.request(t, "GET", p+"/_all_docs?include_docs=true", nil); code == 200 {
			fmt.Fprintln(h, docs)
		} else {
			// pouchdb-server answers system databases' _all_docs with an
			// error once an admin exists: their update_seq stands for
			// them, and the seeded user is read by its id below.
			fmt.Fprintln(h, code)
		}
		if !strings.HasPrefix(db, "_") {
			fmt.Fprintln(h, s.do(t, "GET", p+"/_security", nil))
		}
	}
	fmt.Fprintln(h, s.do(t, "GET", "/_users/org.couchdb.user:analyst", nil))
	return hex.EncodeToString(h.Sum(nil))
}

// Log is the server's request log (log.txt).
func (s *Pouch) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Dir, "log.txt"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

// WaitLog waits until the request log (written behind the answers) holds
// substr, and returns the log.
func (s *Pouch) WaitLog(t testing.TB, substr string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l := s.Log(t)
		if strings.Contains(l, substr) {
			return l
		}
		if time.Now().After(deadline) {
			t.Fatalf("pouchdb-server log lacks %q after 20 s", substr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
