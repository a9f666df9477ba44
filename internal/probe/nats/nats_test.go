package nats

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

type server struct {
	addr    netip.Addr
	port    int
	monitor int
	token   string
}

// startNATS runs nats-server on a fresh loopback address with its
// monitoring port on 8222 of the same address; port 0 picks a random
// client port.
func startNATS(t *testing.T, port int, conf ...string) *server {
	t.Helper()
	bin := testenv.Binary(t, "nats-server")
	addr := testenv.AddrWithPort(t, 8222)
	if port == 0 {
		port = testenv.FreePort(t, addr)
	} else if !testenv.PortFree(addr, port) {
		t.Fatalf("port %d busy on %s", port, addr)
	}
	dir := t.TempDir()
	lines := append([]string{
		fmt.Sprintf("listen: %q", fmt.Sprintf("%s:%d", addr, port)),
		fmt.Sprintf("http: %q", fmt.Sprintf("%s:8222", addr)),
	}, conf...)
	lines = append(lines, fmt.Sprintf("jetstream { store_dir: %q, max_memory_store: 16MB, max_file_store: 64MB }", filepath.Join(dir, "js")))
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartAndWait(t, "nats-server", exec.Command(bin, "-c", path), addr, port, 10*time.Second)
	return &server{addr: addr, port: port, monitor: 8222}
}

// client connects with nats.go (test-only seeding and digests).
func (s *server) client(t *testing.T) (*natsgo.Conn, natsgo.JetStreamContext) {
	t.Helper()
	opts := []natsgo.Option{natsgo.Timeout(5 * time.Second)}
	if s.token != "" {
		opts = append(opts, natsgo.Token(s.token))
	}
	nc, err := natsgo.Connect(fmt.Sprintf("nats://%s:%d", s.addr, s.port), opts...)
	if err != nil {
		t.Fatal(err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

var users = []string{
	`{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`,
	`{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`,
	`{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`,
}

func (s *server) seed(t *testing.T) {
	t.Helper()
	nc, js := s.client(t)
	defer nc.Close()
	for _, sc := range []*natsgo.StreamConfig{
		{Name: "USERS", Subjects: []string{"users.>"}, Storage: natsgo.FileStorage},
		{Name: "SESSIONS", Subjects: []string{"sessions.>"}, Storage: natsgo.MemoryStorage},
	} {
		if _, err := js.AddStream(sc); err != nil {
			t.Fatal(err)
		}
	}
	for i, u := range users {
		if _, err := js.Publish(fmt.Sprintf("users.%d.created", 1001+i), []byte(u)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish("sessions.login", []byte(`{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`)); err != nil {
		t.Fatal(err)
	}
}

// digest hashes every stream's state and stored messages.
func (s *server) digest(t *testing.T) string {
	t.Helper()
	nc, js := s.client(t)
	defer nc.Close()
	h := sha256.New()
	for info := range js.StreamsInfo() {
		st := info.State
		fmt.Fprintf(h, "%s %d %d %d %d %d\n", info.Config.Name, st.Msgs, st.Bytes, st.FirstSeq, st.LastSeq, st.Consumers)
		for seq := st.FirstSeq; seq <= st.LastSeq && seq > 0; seq++ {
			m, err := js.GetMsg(info.Config.Name, seq)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(h, "%s %s\n", m.Subject, m.Data)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestOpenServer(t *testing.T) {
	t.Parallel()
	s := startNATS(t, 4222)
	s.seed(t)
	before := s.digest(t)
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
	if want := serverVersion(t); res.Product != "nats-server" || res.Version != want {
		t.Errorf("product %q version %q, want %q", res.Product, res.Version, want)
	}
	if res.Evidence["jetstream"] != true || !contains(res.Flags, "monitoring-open") {
		t.Errorf("evidence %v flags %v", res.Evidence, res.Flags)
	}
	want := map[string]int64{"USERS": 3, "SESSIONS": 1}
	if len(res.Datasets) != 2 || res.Datasets[0].Name != "USERS" {
		t.Fatalf("datasets %+v", res.Datasets)
	}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		if d.Kind != "stream" || d.Records == nil || *d.Records != want[d.Name] || d.Sampled != int(want[d.Name]) || d.Bytes == nil {
			t.Errorf("dataset %+v", d.Dataset)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	for _, p := range []string{"email", "name", "phone", "login_token", "ip", "_subject"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
	if after := s.digest(t); after != before {
		t.Fatal("streams changed by probe")
	}
}

func serverVersion(t *testing.T) string {
	out, err := exec.Command(testenv.Binary(t, "nats-server"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// "nats-server: v2.9.10"
	return strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(string(out), "nats-server:")), "v")
}

func TestTokenAuth(t *testing.T) {
	t.Parallel()
	s := startNATS(t, 0, `authorization { token: "s3cret-token-123" }`)
	s.token = "s3cret-token-123"
	s.seed(t)
	before := s.digest(t)
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || len(res.Datasets) != 0 {
		t.Fatalf("status %s auth %s datasets %v (%s)", res.Status, res.Auth, res.Datasets, res.Error)
	}
	if res.Evidence["auth_required"] != true || res.Version != serverVersion(t) {
		t.Errorf("evidence %v version %q", res.Evidence, res.Version)
	}
	if after := s.digest(t); after != before {
		t.Fatal("streams changed by probe")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http":  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"smtp":  "220 mail.example.com ESMTP\r\n",
		"fake":  "INFO {\"version\":\"1\"}\r\n",
		"redis": "-ERR unknown command\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			b := probetest.Banner(t, banner)
			if _, err := probetest.Run(t, New(), b.Addr, b.Port); !errors.Is(err, probe.ErrNotThisService) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

func TestHostile(t *testing.T) {
	t.Parallel()
	probetest.Hostile(t, New(), 15*time.Second)
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
