package rabbitmq

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

const (
	adminUser = "ops-admin"
	adminPass = "Adm1n-s3cret"
)

// broker is a RabbitMQ node started by the test.
type broker struct {
	addr       netip.Addr
	amqpPort   int
	mgmtPort   int
	t          *testing.T
	user, pass string
}

func (b *broker) url(path string) string {
	return "http://" + net.JoinHostPort(b.addr.String(), strconv.Itoa(b.mgmtPort)) + path
}

// api calls the management API as the admin (the test's seeding client).
func (b *broker) api(method, path string, body any) []byte {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url(path), rd)
	if err != nil {
		b.t.Fatal(err)
	}
	req.SetBasicAuth(b.user, b.pass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		b.t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, out)
	}
	return out
}

// startBroker boots Debian's rabbitmq-server with the management plugin as
// the rabbitmq user: its own node name, loopback listeners on free
// (non-standard) ports, its own epmd on 127.0.0.1, Erlang distribution on
// 127.0.0.1 only, and every file in a temp dir. The only account is
// adminUser (default_user): guest does not exist until a test creates it.
func startBroker(t *testing.T) *broker {
	t.Helper()
	server := testenv.Binary(t, "rabbitmq-server")
	epmd := testenv.Binary(t, "epmd")
	ru, err := user.Lookup("rabbitmq")
	if err != nil {
		testenv.Unavailable(t, "no rabbitmq system user: %v", err)
	}
	uid, _ := strconv.Atoi(ru.Uid)
	gid, _ := strconv.Atoi(ru.Gid)

	addr := testenv.Addr(t)
	b := &broker{addr: addr, amqpPort: testenv.FreePort(t, addr), t: t, user: adminUser, pass: adminPass}
	for b.mgmtPort = testenv.FreePort(t, addr); b.mgmtPort == b.amqpPort; b.mgmtPort = testenv.FreePort(t, addr) {
	}
	lo := netip.MustParseAddr("127.0.0.1")
	epmdPort := testenv.FreePort(t, lo)
	distPort := testenv.FreePort(t, lo)

	dir, err := os.MkdirTemp("", "lw-rabbitmq-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, d := range []string{"home", "mnesia", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf(`listeners.tcp.1 = %s
management.tcp.ip = %s
management.tcp.port = %d
default_user = %s
default_pass = %s
collect_statistics_interval = 500
log.console = true
log.console.level = warning
log.file = false
`, net.JoinHostPort(addr.String(), strconv.Itoa(b.amqpPort)), addr, b.mgmtPort, adminUser, adminPass)
	files := map[string]string{
		"rabbitmq.conf":   conf,
		"enabled_plugins": "[rabbitmq_management].\n",
		"env.conf":        "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	}); err != nil {
		t.Fatal(err)
	}

	testenv.StartAndWait(t, "epmd", exec.Command(epmd, "-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1"), lo, epmdPort, 10*time.Second)

	cmd := exec.Command("runuser", "-u", "rabbitmq", "--", server)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"HOME=" + filepath.Join(dir, "home"),
		"LANG=C.UTF-8",
		fmt.Sprintf("RABBITMQ_NODENAME=lw%d@localhost", rand.IntN(1<<30)),
		"RABBITMQ_NODE_IP_ADDRESS=" + addr.String(),
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(b.amqpPort),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"ERL_EPMD_PORT=" + strconv.Itoa(epmdPort),
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "env.conf"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbitmq.pid"),
		"RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS=-kernel inet_dist_use_interface {127,0,0,1}",
	}
	start := time.Now()
	testenv.StartAndWait(t, "rabbitmq-server", cmd, addr, b.mgmtPort, 150*time.Second)
	if err := testenv.WaitTCP(addr, b.amqpPort, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("rabbitmq booted in %s", time.Since(start).Round(time.Millisecond))
	return b
}

type queueState struct {
	Vhost, Name            string
	Messages, MessageBytes int64
}

// queues reads every queue's name and counts through the admin account.
func (b *broker) queues() []queueState {
	b.t.Helper()
	var items []struct {
		Vhost        string `json:"vhost"`
		Name         string `json:"name"`
		Messages     int64  `json:"messages"`
		MessageBytes int64  `json:"message_bytes"`
	}
	if err := json.Unmarshal(b.api(http.MethodGet, "/api/queues?columns=vhost,name,messages,message_bytes", nil), &items); err != nil {
		b.t.Fatal(err)
	}
	var out []queueState
	for _, it := range items {
		out = append(out, queueState{it.Vhost, it.Name, it.Messages, it.MessageBytes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Vhost+out[i].Name < out[j].Vhost+out[j].Name })
	return out
}

// seed declares queues in "/" and "prod" and publishes personal-data-shaped
// messages, then waits until the management statistics show them.
func (b *broker) seed() map[string]int64 {
	b.t.Helper()
	b.api(http.MethodPut, "/api/vhosts/prod", map[string]any{})
	b.api(http.MethodPut, "/api/permissions/prod/"+adminUser, map[string]string{"configure": ".*", "write": ".*", "read": ".*"})
	want := map[string]int64{"/orders": 3, "/audit": 2, "prod/signups": 1}
	for name, n := range want {
		vhost, q, _ := strings.Cut(name, "/")
		if vhost == "" {
			vhost = "/"
		}
		vh := strings.ReplaceAll(vhost, "/", "%2F")
		b.api(http.MethodPut, "/api/queues/"+vh+"/"+q, map[string]any{"durable": true})
		for i := range n {
			payload := fmt.Sprintf(`{"email":"user%d@example.com","name":"Jane Doe","card":"4111111111111111"}`, i)
			b.api(http.MethodPost, "/api/exchanges/"+vh+"/amq.default/publish", map[string]any{
				"properties": map[string]any{}, "routing_key": q, "payload": payload, "payload_encoding": "string",
			})
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[string]int64{}
		for _, q := range b.queues() {
			got[strings.TrimSuffix(q.Vhost, "/")+"/"+q.Name] = q.Messages
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return want
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("queue statistics %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestBroker boots one node (boot dominates the test time) and probes it
// first without a guest account (protected), then with guest/guest
// created as RabbitMQ ships it (exposed with default credentials).
func TestBroker(t *testing.T) {
	b := startBroker(t)
	want := b.seed()
	before := fmt.Sprint(b.queues())
	checkState := func(t *testing.T) {
		if after := fmt.Sprint(b.queues()); after != before {
			t.Errorf("queues changed by the probe:\nbefore %s\nafter  %s", before, after)
		}
	}

	t.Run("protected", func(t *testing.T) {
		for name, port := range map[string]int{"management": b.mgmtPort, "amqp": b.amqpPort} {
			res, err := probetest.Run(t, New(), b.addr, port)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired {
				t.Errorf("%s: status %s/%s, want protected/required (error %q, evidence %v)", name, res.Status, res.Auth, res.Error, res.Evidence)
			}
			if len(res.Datasets) != 0 {
				t.Errorf("%s: datasets %v", name, res.Datasets)
			}
			if name == "amqp" && (res.Product != "rabbitmq" || res.Version != "3.10.8") {
				t.Errorf("amqp: product %q version %q", res.Product, res.Version)
			}
		}
		checkState(t)
	})

	b.api(http.MethodPut, "/api/users/guest", map[string]string{"password": defaultPass, "tags": "administrator"})
	for _, vh := range []string{"%2F", "prod"} {
		b.api(http.MethodPut, "/api/permissions/"+vh+"/guest", map[string]string{"configure": ".*", "write": ".*", "read": ".*"})
	}

	t.Run("default-credentials", func(t *testing.T) {
		res, err := probetest.Run(t, New(), b.addr, b.mgmtPort)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials {
			t.Fatalf("management: status %s/%s, want exposed/default-credentials (error %q)", res.Status, res.Auth, res.Error)
		}
		if res.Product != "rabbitmq" || res.Version != "3.10.8" {
			t.Errorf("product %q version %q", res.Product, res.Version)
		}
		got := map[string]int64{}
		for _, d := range res.Datasets {
			if d.Kind != "queue" || d.Records == nil || d.Bytes == nil || *d.Bytes == 0 {
				t.Errorf("dataset %s: kind %q records %v bytes %v", d.Name, d.Kind, d.Records, d.Bytes)
				continue
			}
			got[d.Name] = *d.Records
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("datasets %v, want %v", got, want)
		}

		res, err = probetest.Run(t, New(), b.addr, b.amqpPort)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != finding.StatusExposed || res.Auth != finding.AuthDefaultCredentials || res.Evidence["interface"] != "amqp" {
			t.Errorf("amqp: status %s/%s evidence %v, want exposed/default-credentials", res.Status, res.Auth, res.Evidence)
		}
		checkState(t)
	})
}

func TestNotThisService(t *testing.T) {
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="intranet"`)
		w.WriteHeader(http.StatusUnauthorized)
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })
	if res, err := probetest.Run(t, New(), addr, l.Addr().(*net.TCPAddr).Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("HTTP server: got %v, %v; want not-this-service", res, err)
	}
	// An AMQP 1.0-only broker answers the 0-9-1 header with its own.
	s := probetest.Banner(t, "AMQP\x00\x01\x00\x00")
	if res, err := probetest.Run(t, New(), s.Addr, s.Port); !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("AMQP 1.0 header: got %v, %v; want not-this-service", res, err)
	}
}

func TestHostile(t *testing.T) {
	probetest.Hostile(t, New(), 15*time.Second)
}
