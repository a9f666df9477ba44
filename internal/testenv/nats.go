package testenv

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

// NATSOptions configure StartNATS.
type NATSOptions struct {
	// Addr and Port of the client port (zero: a fresh loopback address
	// whose port 8222 is free, a free port); monitoring listens on 8222 of
	// the same address.
	Addr netip.Addr
	Port int
	// Token, if set, is required from clients.
	Token string
}

// NATS is a real nats-server (Debian package) with JetStream and
// monitoring, started for a test.
type NATS struct {
	Addr    netip.Addr
	Port    int
	Monitor int
	token   string
}

// StartNATS runs nats-server with JetStream in a temp dir; it is stopped
// when the test ends.
func StartNATS(t testing.TB, o NATSOptions) *NATS {
	t.Helper()
	bin := Binary(t, "nats-server")
	addr := o.Addr
	if !addr.IsValid() {
		addr = AddrWithPort(t, 8222)
	}
	addr, port := Listen(t, addr, o.Port)
	dir := t.TempDir()
	lines := []string{
		fmt.Sprintf("listen: %q", fmt.Sprintf("%s:%d", addr, port)),
		fmt.Sprintf("http: %q", fmt.Sprintf("%s:8222", addr)),
	}
	if o.Token != "" {
		lines = append(lines, fmt.Sprintf("authorization { token: %q }", o.Token))
	}
	lines = append(lines, fmt.Sprintf("jetstream { store_dir: %q, max_memory_store: 16MB, max_file_store: 64MB }", filepath.Join(dir, "js")))
	path := filepath.Join(dir, "nats.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	StartAndWait(t, "nats-server", exec.Command(bin, "-c", path), addr, port, 10*time.Second)
	return &NATS{Addr: addr, Port: port, Monitor: 8222, token: o.Token}
}

// client connects with nats.go (test-only seeding and digests).
func (s *NATS) client(t testing.TB) (*natsgo.Conn, natsgo.JetStreamContext) {
	t.Helper()
	opts := []natsgo.Option{natsgo.Timeout(5 * time.Second)}
	if s.token != "" {
		opts = append(opts, natsgo.Token(s.token))
	}
	nc, err := natsgo.Connect(fmt.Sprintf("nats://%s:%d", s.Addr, s.Port), opts...)
	if err != nil {
		t.Fatal(err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// NATSSeedStreams are the message counts Seed publishes, by stream.
var NATSSeedStreams = map[string]int64{"USERS": 3, "SESSIONS": 1}

// NATSSecrets are raw seeded values no leakwatch output may contain.
var NATSSecrets = []string{"alice.smith@example.com", "+44 20 7946 0958", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"}

var natsUsers = []string{
	`{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`,
	`{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`,
	`{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`,
}

// Seed creates the streams USERS (file) and SESSIONS (memory) and
// publishes personal-data-shaped messages (NATSSeedStreams).
func (s *NATS) Seed(t testing.TB) {
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
	for i, u := range natsUsers {
		if _, err := js.Publish(fmt.Sprintf("users.%d.created", 1001+i), []byte(u)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.Publish("sessions.login", []byte(`{"login_token":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig","ip":"203.0.113.7"}`)); err != nil {
		t.Fatal(err)
	}
}

// Digest hashes every stream's state and stored messages.
func (s *NATS) Digest(t testing.TB) string {
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

// NATSVersion is the installed nats-server's version.
func NATSVersion(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(Binary(t, "nats-server"), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	// "nats-server: v2.9.10"
	return strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(string(out), "nats-server:")), "v")
}
