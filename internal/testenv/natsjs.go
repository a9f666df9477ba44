package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATSJS is a real nats-server (Debian package) with JetStream on file
// storage for cluster tests: it can be stopped and started again on the
// same address, port and store directory (a restart keeps every stream).
type NATSJS struct {
	Addr netip.Addr
	Port int
	// Dir holds the config and the JetStream store.
	Dir  string
	conf string
	bin  string
	proc *Proc
	tb   testing.TB
}

// StartNATSJetStream runs nats-server -js with file storage on a fresh
// loopback address; it is stopped when the test ends.
func StartNATSJetStream(tb testing.TB) *NATSJS {
	tb.Helper()
	return StartNATSJetStreamWith(tb, NATSJSOptions{})
}

// NATSJSOptions shape StartNATSJetStreamWith's server.
type NATSJSOptions struct {
	// MaxPayload is the server's max_payload in bytes (0: its default,
	// 1 MiB).
	MaxPayload int
}

// StartNATSJetStreamWith is StartNATSJetStream with options.
func StartNATSJetStreamWith(tb testing.TB, o NATSJSOptions) *NATSJS {
	tb.Helper()
	bin := Binary(tb, "nats-server")
	addr, port := Listen(tb, netip.Addr{}, 0)
	dir := tb.TempDir()
	conf := filepath.Join(dir, "nats.conf")
	body := fmt.Sprintf("listen: %q\njetstream { store_dir: %q, max_memory_store: 64MB, max_file_store: 1GB }\n",
		netip.AddrPortFrom(addr, uint16(port)).String(), filepath.Join(dir, "js"))
	if o.MaxPayload > 0 {
		body += fmt.Sprintf("max_payload: %d\n", o.MaxPayload)
	}
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	s := &NATSJS{Addr: addr, Port: port, Dir: dir, conf: conf, bin: bin, tb: tb}
	s.Start()
	return s
}

// URL is the client URL.
func (s *NATSJS) URL() string {
	return "nats://" + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()
}

// Start (re)starts the server and waits until it accepts connections.
func (s *NATSJS) Start() {
	s.tb.Helper()
	s.proc = StartAndWait(s.tb, "nats-server", exec.Command(s.bin, "-c", s.conf), s.Addr, s.Port, 20*time.Second)
}

// JetStream connects a client (reconnecting for ever, so it survives a
// restart); the connection is closed when the test ends.
func (s *NATSJS) JetStream(tb testing.TB) jetstream.JetStream {
	tb.Helper()
	nc, err := natsgo.Connect(s.URL(), natsgo.MaxReconnects(-1))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return js
}

// Stop shuts the server down (SIGTERM; JetStream flushes its store).
func (s *NATSJS) Stop() { s.proc.Stop() }
