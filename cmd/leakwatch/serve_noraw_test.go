package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// capture is a loopback HTTP receiver that keeps every request whole
// (method, URL, headers, body) and answers with a fixed reply.
type capture struct {
	url  string
	mu   sync.Mutex
	reqs [][]byte
}

func newCapture(t *testing.T, status int, reply string) *capture {
	t.Helper()
	c := &capture{}
	l, err := net.Listen("tcp", net.JoinHostPort(testenv.Addr(t).String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dump, err := httputil.DumpRequest(r, true)
		if err != nil {
			t.Errorf("dump request: %v", err)
		}
		c.mu.Lock()
		c.reqs = append(c.reqs, dump)
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, reply)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

func (c *capture) requests() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reqs)
}

// artifacts are the bytes serve wrote, by where they were found.
type artifacts struct {
	names []string
	data  map[string][]byte
}

func (a *artifacts) add(name string, b []byte) {
	if a.data == nil {
		a.data = map[string][]byte{}
	}
	if _, dup := a.data[name]; !dup {
		a.names = append(a.names, name)
	}
	a.data[name] = b
}

// addDir adds every regular file under dir (the SQLite file with its WAL
// and SHM, the key, logs) as prefix/relative-path.
func (a *artifacts) addDir(t *testing.T, prefix, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		a.add(prefix+rel, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

const noRawSeed = 0x1ea4

// TestServeNoRawValues runs `leakwatch serve` as a real process against a
// Redis and a PostgreSQL seeded with people's personal data and secrets —
// in values and in key, hash-field, column and JSON-key names — with
// every notifier pointed at a loopback receiver (webhook, Slack and
// PagerDuty receivers that keep whole requests; a real Exim for email),
// debug logging on, a finding that opens, changes and closes, and every
// API endpoint fetched. Then every byte serve wrote — the history (SQLite
// file, WAL and SHM while running and after exit; or a pg_dump of the
// PostgreSQL history database), API responses, each notifier's requests,
// the delivered mails, stdout and stderr — is searched for every seeded
// value, as is and lower-cased, upper-cased, JSON-escaped and base64'd.
func TestServeNoRawValues(t *testing.T) {
	if testing.Short() {
		t.Skip("serve end to end with five real servers")
	}
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			serveNoRaw(t, backend)
		})
	}
}

func serveNoRaw(t *testing.T, backend string) {
	people := testenv.People(noRawSeed, 30)
	later := testenv.People(noRawSeed+1, 30) // written while serve watches
	values := append(testenv.SensitiveValues(people), testenv.SensitiveValues(later)...)
	raw := testenv.NewRawSet(values)
	if raw.Len() != len(values) {
		t.Fatalf("%d of %d seeded values are searchable (shorter than %d bytes?)", raw.Len(), len(values), testenv.RawMinLen)
	}

	// Targets.
	redisHost := testenv.AddrWithPort(t, 6379)
	rdProc := redisAt(t, redisHost, 6379, "--protected-mode", "no")
	rd := &testenv.Redis{Addr: redisHost, Port: 6379}
	rd.SeedPeople(t, people)
	// Positive control: the search finds what the store holds, in every
	// field of a record.
	if hits := raw.Find([]byte(rd.CLI(t, "", "HGETALL", "person:0")), 0); len(hits) != reflect.TypeFor[testenv.Person]().NumField() {
		t.Fatalf("the search finds %d seeded values in a stored record, want %d: %+v", len(hits), reflect.TypeFor[testenv.Person]().NumField(), hits)
	}
	target := testenv.StartPostgres(t, testenv.PostgresOptions{Port: 5432})
	target.SeedPeople(t, "postgres", people)

	// Receivers.
	hook := newCapture(t, http.StatusOK, "")
	slack := newCapture(t, http.StatusOK, "ok")
	pd := newCapture(t, http.StatusAccepted, `{"status":"success","message":"Event processed","dedup_key":"x"}`)
	mta := testenv.StartExim(t, testenv.EximOptions{})

	dir := t.TempDir()
	storeYAML, logFormat := "{sqlite: history.db}", "text"
	var history *testenv.Postgres
	var historyDB string
	if backend == "postgres" {
		history = testenv.StartPostgres(t, testenv.PostgresOptions{})
		historyDB = history.NewDatabase(t)
		storeYAML, logFormat = fmt.Sprintf("{postgres: %q}", history.URL(historyDB)), "json"
	}
	apiHost := testenv.Addr(t)
	api := net.JoinHostPort(apiHost.String(), strconv.Itoa(testenv.FreePort(t, apiHost)))
	cfg := fmt.Sprintf(`key_file: key
store: %s
api:
  listen: %s
  tokens: [%q]
monitor: {cadence: 2s, recheck: 1s}
notifiers:
  - name: hook
    webhook: {url: %q, secret: %q}
  - name: slack
    slack: {url: %q}
  - name: pd
    pagerduty: {routing_key: "R0UT1NGKEY0123456789abcdef012345", url: %q}
  - name: mail
    email: {host: %q, port: %d, from: "leakwatch@example.org", to: ["security@example.org"], tls: none}
scopes:
  - name: lab
    owner: alice@example.org
    targets: [%s, %s]
    ports: [6379, 5432]
`, storeYAML, api, serveToken, hook.url+"/hook", hookSecret, slack.url+"/slack", pd.url+"/v2/enqueue",
		mta.Addr, mta.Port, redisHost, target.Addr)
	file := filepath.Join(dir, "leakwatch.yaml")
	must(t, os.WriteFile(file, []byte(cfg), 0o600))

	outDir := t.TempDir()
	stdout, err := os.Create(filepath.Join(outDir, "stdout"))
	must(t, err)
	stderr, err := os.Create(filepath.Join(outDir, "stderr"))
	must(t, err)
	defer stdout.Close()
	defer stderr.Close()
	cmd := exec.Command(os.Args[0], "serve", "--config", file, "--log-level", "debug", "--log-format", logFormat)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			b, _ := os.ReadFile(stderr.Name())
			t.Logf("--- serve stderr (tail) ---\n%s", tailString(string(b), 6000))
		}
	})
	s := &served{}
	s.waitHealthy(t, "http://"+api)

	routes := []string{"hook", "slack", "pd", "mail"}
	redisTarget := fmt.Sprintf("%s:6379", redisHost)
	pgTarget := fmt.Sprintf("%s:5432", target.Addr)
	// delivered counts delivered alerts by route, event kind and target.
	delivered := func() map[string]int {
		var resp struct {
			Alerts []store.Alert `json:"alerts"`
		}
		s.get(t, "/api/v1/alerts?state=delivered&limit=1000", serveToken, &resp)
		n := map[string]int{}
		for _, a := range resp.Alerts {
			n[a.Route+" "+string(a.Event.Kind)+" "+a.Event.Target.Addr()]++
		}
		return n
	}
	waitAll := func(kind lifecycle.EventKind, targets ...string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			n := delivered()
			missing := []string{}
			for _, r := range routes {
				for _, tg := range targets {
					if n[r+" "+string(kind)+" "+tg] == 0 {
						missing = append(missing, r+" "+tg)
					}
				}
			}
			if len(missing) == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("no delivered %s alert after 60s for %v (delivered: %v)", kind, missing, n)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitAll(lifecycle.EventOpened, redisTarget, pgTarget)
	// The Redis grows by 60 keys (a material change), then closes.
	rd.SeedPeople(t, later)
	waitAll(lifecycle.EventChanged, redisTarget)
	rdProc.Stop()
	waitAll(lifecycle.EventClosed, redisTarget)

	var art artifacts
	// Every API endpoint, with and without the token.
	get := func(path, token string) []byte {
		var body string
		code := s.get(t, path, token, &body)
		return []byte(fmt.Sprintf("HTTP %d\n%s", code, body))
	}
	var list struct {
		Findings []store.Finding `json:"findings"`
	}
	if code := s.get(t, "/api/v1/findings", serveToken, &list); code != 200 || len(list.Findings) != 2 {
		t.Fatalf("GET /api/v1/findings: %d, %d findings (want 2)", code, len(list.Findings))
	}
	paths := []string{"/healthz", "/metrics", "/api/v1/findings", "/api/v1/findings?status=closed", "/api/v1/findings?service=redis",
		"/api/v1/scopes", "/api/v1/scans", "/api/v1/scans?scope=lab&status=finished", "/api/v1/alerts?limit=1000",
		"/api/v1/alerts?notifier=mail", "/no/such/endpoint"}
	for _, f := range list.Findings {
		paths = append(paths, "/api/v1/findings/"+f.ID, "/api/v1/alerts?finding="+f.ID)
		if f.Baseline == nil || !slices.Contains(f.Baseline.Classes, "email") {
			t.Errorf("finding %s (%s) holds no email class: the seeded people were not sampled (baseline %+v)", f.ID, f.Service, f.Baseline)
		}
	}
	for _, p := range paths {
		art.add("api GET "+p, get(p, serveToken))
	}
	art.add("api GET /api/v1/findings (no token)", get("/api/v1/findings", ""))
	req, _ := http.NewRequest("POST", s.api+"/api/v1/scans", strings.NewReader(`{"scope":"lab"}`))
	req.Header.Set("Authorization", "Bearer "+serveToken)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	art.add("api POST /api/v1/scans", b)
	time.Sleep(3 * time.Second) // the triggered sweep runs and is recorded

	// The store's files while serve runs (the SQLite WAL is checkpointed
	// and removed on a clean exit).
	art.addDir(t, "running:", dir)
	must(t, cmd.Process.Signal(syscall.SIGTERM))
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve exit: %v", err)
	}
	exited = true
	art.addDir(t, "stopped:", dir)
	art.addDir(t, "", outDir) // stdout, stderr
	if history != nil {
		dump, err := exec.Command(testenv.Binary(t, "pg_dump"), "--no-owner", history.LocalDSN(historyDB)).CombinedOutput()
		if err != nil {
			t.Fatalf("pg_dump: %v\n%s", err, dump)
		}
		if !bytes.Contains(dump, []byte("COPY public.observations")) || !bytes.Contains(dump, []byte(list.Findings[0].ID)) {
			t.Fatalf("pg_dump holds no history:\n%s", tailString(string(dump), 2000))
		}
		art.add("pg_dump", dump)
	}
	for name, c := range map[string]*capture{"webhook": hook, "slack": slack, "pagerduty": pd} {
		reqs := c.requests()
		if len(reqs) < 4 {
			t.Errorf("%s received %d requests, want ≥ 4 (2 opened, changed, closed)", name, len(reqs))
		}
		for i, r := range reqs {
			art.add(fmt.Sprintf("%s request %d", name, i), r)
		}
	}
	mbox, err := os.ReadFile(mta.Mailbox)
	must(t, err)
	art.add("mbox", mbox)
	msgs := 0
	for i, chunk := range bytes.Split(mbox, []byte("\nFrom ")) {
		msg, err := mail.ReadMessage(bytes.NewReader(chunk[bytes.IndexByte(chunk, '\n')+1:]))
		if err != nil {
			continue
		}
		msgs++
		var dec bytes.Buffer
		wd := new(mime.WordDecoder)
		for k, vs := range msg.Header {
			for _, v := range vs {
				if d, err := wd.DecodeHeader(v); err == nil {
					v = d
				}
				fmt.Fprintf(&dec, "%s: %s\n", k, v)
			}
		}
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		dec.Write(body)
		art.add(fmt.Sprintf("mail %d decoded", i), dec.Bytes())
	}
	if msgs < 4 {
		t.Errorf("%d mails delivered, want ≥ 4", msgs)
	}
	log := art.data["stderr"]
	if !bytes.Contains(log, []byte("DEBUG")) {
		t.Errorf("stderr holds no debug log:\n%s", tailString(string(log), 2000))
	}

	// LEAKWATCH_NORAW_DUMP=DIR keeps every artifact searched, for a look.
	if d := os.Getenv("LEAKWATCH_NORAW_DUMP"); d != "" {
		for i, name := range art.names {
			_ = os.WriteFile(filepath.Join(d, fmt.Sprintf("%s-%02d", backend, i)), append([]byte(name+"\n"), art.data[name]...), 0o600)
		}
	}
	total := 0
	for _, name := range art.names {
		b := art.data[name]
		total += len(b)
		for _, h := range raw.Find(b, 5) {
			t.Errorf("%s holds a seeded value (%s) %q in …%q…", name, h.Encoding, h.Text, h.Context)
		}
	}
	t.Logf("%s: searched %d artifacts (%d bytes: history, API, %d webhook, %d Slack, %d PagerDuty requests, %d mails, stdout, %d bytes of debug log) for %d seeded values in %d encodings",
		backend, len(art.names), total, len(hook.requests()), len(slack.requests()), len(pd.requests()), msgs, len(log), raw.Len(), len(testenv.RawEncodings))
}
