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

// Chroma server versions scripts/build-chroma.sh installs.
const (
	// ChromaVersion is today's release (the Rust server; it has no
	// server-side authentication). Its /api/v2/version says ChromaAPIVersion.
	ChromaVersion    = "1.5.9"
	ChromaAPIVersion = "1.0.0"
	// ChromaAuthVersion is the last release line whose (Python) server has
	// Chroma's own token authentication: the protected case.
	ChromaAuthVersion = "0.6.3"
)

// ChromaOptions configure StartChroma.
type ChromaOptions struct {
	// Addr and Port of the HTTP API (zero: a fresh loopback address, a
	// free port).
	Addr netip.Addr
	Port int
	// Version is ChromaVersion (default) or ChromaAuthVersion.
	Version string
	// Token turns on Chroma's token authentication (ChromaAuthVersion
	// only): every request but heartbeat and version needs
	// "Authorization: Bearer <Token>".
	Token string
}

// Chroma is a real Chroma server (chroma run) started for a test.
type Chroma struct {
	Addr    netip.Addr
	Port    int
	Version string
	Dir     string
	token   string
	proc    *Proc
}

// StartChroma runs `chroma run` on its address with a data directory of
// its own. Telemetry is off (ANONYMIZED_TELEMETRY=False,
// ORT_DISABLE_TELEMETRY=1): the server contacts nothing. It is stopped
// when the test ends.
func StartChroma(t testing.TB, o ChromaOptions) *Chroma {
	t.Helper()
	if o.Version == "" {
		o.Version = ChromaVersion
	}
	if o.Token != "" && o.Version != ChromaAuthVersion {
		t.Fatalf("testenv: chroma %s has no server-side authentication", o.Version)
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, ".cache", "chroma-"+o.Version, "bin", "chroma")
	if _, err := os.Stat(bin); err != nil {
		Unavailable(t, "chroma %s not installed (run scripts/build-chroma.sh)", o.Version)
	}
	s := &Chroma{Version: o.Version, Dir: t.TempDir(), token: o.Token}
	s.Addr, s.Port = Listen(t, o.Addr, o.Port)
	args := []string{"run", "--host", s.Addr.String(), "--port", strconv.Itoa(s.Port), "--path", filepath.Join(s.Dir, "data")}
	if o.Version == ChromaAuthVersion {
		args = append(args, "--log-path", filepath.Join(s.Dir, "chroma.log"))
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "ANONYMIZED_TELEMETRY=False", "ORT_DISABLE_TELEMETRY=1", "NO_COLOR=1")
	if o.Token != "" {
		cmd.Env = append(cmd.Env,
			"CHROMA_SERVER_AUTHN_PROVIDER=chromadb.auth.token_authn.TokenAuthenticationServerProvider",
			"CHROMA_SERVER_AUTHN_CREDENTIALS="+o.Token)
	}
	s.proc = StartAndWait(t, "chroma", cmd, s.Addr, s.Port, 120*time.Second)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := s.request(t, "GET", "/api/v2/heartbeat", nil); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("chroma: no heartbeat")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// Base is the server's URL.
func (s *Chroma) Base() string {
	return "http://" + net.JoinHostPort(s.Addr.String(), strconv.Itoa(s.Port))
}

// request sends one request (with the token, if any).
func (s *Chroma) request(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	return JSONRequest(t, method, s.Base()+path, body, func(r *http.Request) {
		if s.token != "" {
			r.Header.Set("Authorization", "Bearer "+s.token)
		}
	})
}

// do is request that fails the test unless the answer is 2xx, decoding
// the answer into out (if not nil).
func (s *Chroma) do(t testing.TB, method, path string, body, out any) {
	t.Helper()
	code, b := s.request(t, method, path, body)
	if code/100 != 2 {
		t.Fatalf("chroma %s %s: %d %s", method, path, code, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("chroma %s %s: %v: %s", method, path, err, b)
		}
	}
}

// ChromaSeedRecords are the record counts Seed writes, by dataset name
// ("database/collection").
var ChromaSeedRecords = map[string]int64{
	"default_database/support_tickets": 9,
	"default_database/product_faq":     4,
	"research/interview_notes":         3,
}

// chromaDim is the dimension of the seeded embeddings (given explicitly:
// no embedding model is loaded).
const chromaDim = 8

// chromaPeopleSeed seeds the people in the support tickets.
const chromaPeopleSeed = 5150

// ChromaSecrets are raw seeded values no leakwatch output may contain.
func ChromaSecrets() []string {
	return SensitiveValues(People(chromaPeopleSeed, int(ChromaSeedRecords["default_database/support_tickets"])))
}

type chromaDoc struct {
	id, text string
	meta     map[string]any
}

// chromaSeed are the seeded collections' documents: support tickets that
// quote customers (names, emails, phones, session tokens, API keys) in
// their text and metadata, FAQ entries without personal data, interview
// notes in a second database.
func chromaSeed() map[string][]chromaDoc {
	people := People(chromaPeopleSeed, int(ChromaSeedRecords["default_database/support_tickets"]))
	var tickets []chromaDoc
	for i, p := range people {
		tickets = append(tickets, chromaDoc{
			id: fmt.Sprintf("ticket-%03d", i),
			text: fmt.Sprintf("Ticket from %s <%s>, phone %s: cannot log in since the update. Session token %s, API key %s.",
				p.FullName, p.Email, p.Phone, p.SessionToken, p.APIKey),
			meta: map[string]any{"customer_email": p.Email, "customer_name": p.FullName, "priority": i % 3},
		})
	}
	faq := []chromaDoc{
		{id: "faq-1", text: "How do I reset the camera to factory settings? Hold the button for ten seconds.", meta: map[string]any{"topic": "reset"}},
		{id: "faq-2", text: "Which WiFi bands are supported? 2.4 GHz only.", meta: map[string]any{"topic": "wifi"}},
		{id: "faq-3", text: "How long are recordings kept? Fourteen days on the free plan.", meta: map[string]any{"topic": "storage"}},
		{id: "faq-4", text: "Can I share access with family members? Yes, from the app's sharing menu.", meta: map[string]any{"topic": "sharing"}},
	}
	var notes []chromaDoc
	for i := range int(ChromaSeedRecords["research/interview_notes"]) {
		notes = append(notes, chromaDoc{
			id:   fmt.Sprintf("note-%d", i),
			text: fmt.Sprintf("Interview %d: participant reachable at interviewee%d@research.example, prefers evening calls.", i, i),
			meta: map[string]any{"participant_email": fmt.Sprintf("interviewee%d@research.example", i)},
		})
	}
	return map[string][]chromaDoc{
		"default_database/support_tickets": tickets,
		"default_database/product_faq":     faq,
		"research/interview_notes":         notes,
	}
}

func chromaCollPath(db string) string {
	return "/api/v2/tenants/default_tenant/databases/" + url.PathEscape(db) + "/collections"
}

// Seed creates the database "research" and the collections of
// ChromaSeedRecords through the HTTP API, each record with an explicit
// embedding.
func (s *Chroma) Seed(t testing.TB) {
	t.Helper()
	s.do(t, "POST", "/api/v2/tenants/default_tenant/databases", map[string]any{"name": "research"}, nil)
	names := make([]string, 0, len(ChromaSeedRecords))
	for n := range ChromaSeedRecords {
		names = append(names, n)
	}
	sort.Strings(names)
	seed := chromaSeed()
	for _, full := range names {
		db, coll, _ := strings.Cut(full, "/")
		var c struct {
			ID string `json:"id"`
		}
		s.do(t, "POST", chromaCollPath(db), map[string]any{"name": coll, "metadata": map[string]any{"owner": "support"}}, &c)
		docs := seed[full]
		add := map[string]any{}
		var ids, texts []string
		var metas []map[string]any
		var embs [][]float64
		for i, d := range docs {
			ids, texts, metas = append(ids, d.id), append(texts, d.text), append(metas, d.meta)
			e := make([]float64, chromaDim)
			for j := range e {
				e[j] = float64((i+1)*(j+3)%17) / 17
			}
			embs = append(embs, e)
		}
		add["ids"], add["documents"], add["metadatas"], add["embeddings"] = ids, texts, metas, embs
		s.do(t, "POST", chromaCollPath(db)+"/"+c.ID+"/add", add, nil)
	}
}

// Digest hashes the databases, collections (name, metadata, count) and
// every record with its embedding, document and metadata.
func (s *Chroma) Digest(t testing.TB) string {
	t.Helper()
	h := sha256.New()
	var dbs []struct {
		Name string `json:"name"`
	}
	s.do(t, "GET", "/api/v2/tenants/default_tenant/databases", nil, &dbs)
	sort.Slice(dbs, func(i, j int) bool { return dbs[i].Name < dbs[j].Name })
	for _, db := range dbs {
		var colls []struct {
			ID       string         `json:"id"`
			Name     string         `json:"name"`
			Metadata map[string]any `json:"metadata"`
		}
		s.do(t, "GET", chromaCollPath(db.Name), nil, &colls)
		sort.Slice(colls, func(i, j int) bool { return colls[i].Name < colls[j].Name })
		for _, c := range colls {
			var n int64
			s.do(t, "GET", chromaCollPath(db.Name)+"/"+c.ID+"/count", nil, &n)
			var all any
			s.do(t, "POST", chromaCollPath(db.Name)+"/"+c.ID+"/get",
				map[string]any{"include": []string{"embeddings", "documents", "metadatas"}}, &all)
			b, _ := json.Marshal(all)
			fmt.Fprintln(h, db.Name, c.Name, c.Metadata, n, string(b))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Log is what the server logged: its output (the Rust server logs every
// request there) and, for ChromaAuthVersion, its log file.
func (s *Chroma) Log(t testing.TB) string {
	t.Helper()
	out := s.proc.Log()
	if b, err := os.ReadFile(filepath.Join(s.Dir, "chroma.log")); err == nil {
		out += string(b)
	}
	return out
}
