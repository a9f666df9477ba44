package testenv

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
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

const (
	rabbitAdminUser = "ops-admin"
	rabbitAdminPass = "Adm1n-s3cret"
)

// RabbitOptions configure StartRabbit.
type RabbitOptions struct {
	// Addr, AMQPPort and MgmtPort to listen on (zero: a fresh loopback
	// address, free ports).
	Addr     netip.Addr
	AMQPPort int
	MgmtPort int
}

// Rabbit is a real RabbitMQ node (Debian rabbitmq-server with the
// management plugin) started for a test.
type Rabbit struct {
	Addr     netip.Addr
	AMQPPort int
	MgmtPort int
}

func (b *Rabbit) url(path string) string {
	return "http://" + net.JoinHostPort(b.Addr.String(), strconv.Itoa(b.MgmtPort)) + path
}

// API calls the management API as the admin (the test's seeding client).
func (b *Rabbit) API(t testing.TB, method, path string, body any) []byte {
	t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(rabbitAdminUser, rabbitAdminPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, out)
	}
	return out
}

// StartRabbit boots Debian's rabbitmq-server with the management plugin as
// the rabbitmq user: its own node name, loopback listeners on its address,
// its own epmd on 127.0.0.1, Erlang distribution on 127.0.0.1 only, and
// every file in a temp dir. The only account is an admin (default_user):
// guest does not exist until CreateGuest. It is stopped when the test ends.
func StartRabbit(t testing.TB, o RabbitOptions) *Rabbit {
	t.Helper()
	server := Binary(t, "rabbitmq-server")
	epmd := Binary(t, "epmd")
	uid, gid := SystemUser(t, "rabbitmq")

	b := &Rabbit{MgmtPort: o.MgmtPort}
	b.Addr, b.AMQPPort = Listen(t, o.Addr, o.AMQPPort)
	addr := b.Addr
	for b.MgmtPort == 0 || b.MgmtPort == b.AMQPPort {
		b.MgmtPort = FreePort(t, addr)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	epmdPort := FreePort(t, lo)
	distPort := FreePort(t, lo)

	dir := ServerDir(t, "lw-rabbitmq-")
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
`, net.JoinHostPort(addr.String(), strconv.Itoa(b.AMQPPort)), addr, b.MgmtPort, rabbitAdminUser, rabbitAdminPass)
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

	StartAndWait(t, "epmd", exec.Command(epmd, "-port", strconv.Itoa(epmdPort), "-address", "127.0.0.1"), lo, epmdPort, 10*time.Second)

	cmd := exec.Command("runuser", "-u", "rabbitmq", "--", server)
	cmd.Env = []string{
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"HOME=" + filepath.Join(dir, "home"),
		"LANG=C.UTF-8",
		fmt.Sprintf("RABBITMQ_NODENAME=lw%d@localhost", rand.IntN(1<<30)),
		"RABBITMQ_NODE_IP_ADDRESS=" + addr.String(),
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(b.AMQPPort),
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
	StartAndWait(t, "rabbitmq-server", cmd, addr, b.MgmtPort, 150*time.Second)
	if err := WaitTCP(addr, b.AMQPPort, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("rabbitmq booted in %s", time.Since(start).Round(time.Millisecond))
	return b
}

// RabbitQueue is a queue and its counts.
type RabbitQueue struct {
	Vhost, Name            string
	Messages, MessageBytes int64
}

// Queues reads every queue's name and counts through the admin account.
func (b *Rabbit) Queues(t testing.TB) []RabbitQueue {
	t.Helper()
	var items []struct {
		Vhost        string `json:"vhost"`
		Name         string `json:"name"`
		Messages     int64  `json:"messages"`
		MessageBytes int64  `json:"message_bytes"`
	}
	if err := json.Unmarshal(b.API(t, http.MethodGet, "/api/queues?columns=vhost,name,messages,message_bytes", nil), &items); err != nil {
		t.Fatal(err)
	}
	var out []RabbitQueue
	for _, it := range items {
		out = append(out, RabbitQueue{it.Vhost, it.Name, it.Messages, it.MessageBytes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Vhost+out[i].Name < out[j].Vhost+out[j].Name })
	return out
}

// RabbitSeedMessages are the message counts Seed publishes, by
// "vhost/queue" (the default vhost "/" written as "").
var RabbitSeedMessages = map[string]int64{"/orders": 3, "/audit": 2, "prod/signups": 1}

// RabbitSecrets are raw seeded values no leakwatch output may contain.
var RabbitSecrets = []string{"user1@example.com", "4111111111111111"}

// Seed declares queues in "/" and "prod" and publishes personal-data-shaped
// messages (RabbitSeedMessages), then waits until the management
// statistics show them.
func (b *Rabbit) Seed(t testing.TB) map[string]int64 {
	t.Helper()
	b.API(t, http.MethodPut, "/api/vhosts/prod", map[string]any{})
	b.API(t, http.MethodPut, "/api/permissions/prod/"+rabbitAdminUser, map[string]string{"configure": ".*", "write": ".*", "read": ".*"})
	want := RabbitSeedMessages
	for name, n := range want {
		vhost, q, _ := strings.Cut(name, "/")
		if vhost == "" {
			vhost = "/"
		}
		vh := strings.ReplaceAll(vhost, "/", "%2F")
		b.API(t, http.MethodPut, "/api/queues/"+vh+"/"+q, map[string]any{"durable": true})
		for i := range n {
			payload := rabbitPayload(i)
			b.API(t, http.MethodPost, "/api/exchanges/"+vh+"/amq.default/publish", map[string]any{
				"properties": map[string]any{}, "routing_key": q, "payload": payload, "payload_encoding": "string",
			})
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := map[string]int64{}
		for _, q := range b.Queues(t) {
			got[strings.TrimSuffix(q.Vhost, "/")+"/"+q.Name] = q.Messages
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return want
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue statistics %v, want %v", got, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// CreateGuest creates guest/guest as RabbitMQ ships it (administrator, all
// permissions on "/" and "prod").
func (b *Rabbit) CreateGuest(t testing.TB) {
	t.Helper()
	b.API(t, http.MethodPut, "/api/users/guest", map[string]string{"password": "guest", "tags": "administrator"})
	for _, vh := range []string{"%2F", "prod"} {
		b.API(t, http.MethodPut, "/api/permissions/"+vh+"/guest", map[string]string{"configure": ".*", "write": ".*", "read": ".*"})
	}
}

// Digest fingerprints everything the broker holds, through the admin
// account: vhosts, users, permissions, exchanges, bindings, policies,
// every queue's settings and message counts, the message statistics that
// count writes and removals (published, delivered to consumers,
// acknowledged, fetched without ack), and every message of every queue —
// exchange, routing key, properties and payload, in queue order
// (Messages). Reading a message takes a basic.get with requeue: the
// message stays, marked redelivered (left out), and the get, get_empty,
// deliver_get and redeliver counters move — at a moment RabbitMQ chooses,
// sometimes tens of seconds later — so those four are left out too: the
// digest shows every message added, removed or changed, and any consume
// or destructive get, but not a get with requeue. Statistics are
// collected every 500 ms: Digest waits until two reads 1.2 s apart agree
// (at most 30 s).
func (b *Rabbit) Digest(t testing.TB) string {
	t.Helper()
	read := func() string {
		var sb strings.Builder
		for _, p := range []string{
			"/api/vhosts?columns=name",
			"/api/users?columns=name,tags,password_hash",
			"/api/permissions",
			"/api/exchanges?columns=vhost,name,type,durable,auto_delete,internal,arguments",
			"/api/bindings",
			"/api/policies",
			"/api/queues",
		} {
			var v any
			if err := json.Unmarshal(b.API(t, http.MethodGet, p, nil), &v); err != nil {
				t.Fatalf("digest %s: %v", p, err)
			}
			if p == "/api/queues" {
				v = rabbitQueueFacts(v)
			}
			j, _ := json.Marshal(v) // map keys sorted
			fmt.Fprintf(&sb, "%s %s\n", p, j)
		}
		msgs := b.Messages(t)
		qs := make([]string, 0, len(msgs))
		for q := range msgs {
			qs = append(qs, q)
		}
		sort.Strings(qs)
		for _, q := range qs {
			for _, m := range msgs[q] {
				fmt.Fprintf(&sb, "message %q %q %q %q %q\n", q, m.Exchange, m.RoutingKey, m.Properties, m.Payload)
			}
		}
		return sb.String()
	}
	deadline := time.Now().Add(30 * time.Second)
	prev := read()
	for {
		time.Sleep(1200 * time.Millisecond)
		cur := read()
		if cur == prev || time.Now().After(deadline) {
			return cur
		}
		prev = cur
	}
}

// rabbitQueueFacts keeps the settings, counts and cumulative message
// statistics of each queue of /api/queues, and drops what changes on its
// own (rates, memory, reductions, garbage collection, idle time).
func rabbitQueueFacts(v any) any {
	items, _ := v.([]any)
	keep := []string{"vhost", "name", "durable", "auto_delete", "exclusive", "arguments", "type", "policy",
		"messages", "messages_ready", "messages_unacknowledged", "message_bytes", "message_bytes_ready",
		"message_bytes_unacknowledged", "messages_persistent", "message_bytes_persistent", "consumers"}
	stats := []string{"publish", "deliver", "deliver_no_ack", "get_no_ack", "ack"}
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		q, _ := it.(map[string]any)
		m := map[string]any{}
		for _, k := range keep {
			m[k] = q[k]
		}
		// A counter appears (as 0) once the queue has any statistic of its
		// kind: a missing one counts as 0.
		ms, _ := q["message_stats"].(map[string]any)
		for _, k := range stats {
			n, _ := ms[k].(float64)
			m["message_stats."+k] = n
		}
		out = append(out, m)
	}
	return out
}

// RabbitMessage is one message of a queue, as basic.get returned it.
type RabbitMessage struct {
	Queue, Exchange, RoutingKey, Payload string
	Properties                           string
}

// Messages reads every message of every queue, in order, through the
// management API (basic.get with requeue: the messages stay, marked
// redelivered). Queues are by "vhost/queue", the default vhost written as
// "".
func (b *Rabbit) Messages(t testing.TB) map[string][]RabbitMessage {
	t.Helper()
	out := map[string][]RabbitMessage{}
	for _, q := range b.Queues(t) {
		vh := strings.ReplaceAll(q.Vhost, "/", "%2F")
		var msgs []struct {
			Exchange   string          `json:"exchange"`
			RoutingKey string          `json:"routing_key"`
			Payload    string          `json:"payload"`
			Properties json.RawMessage `json:"properties"` // [] when empty
		}
		body := map[string]any{"count": q.Messages + 1, "ackmode": "ack_requeue_true", "encoding": "base64"}
		if err := json.Unmarshal(b.API(t, http.MethodPost, "/api/queues/"+vh+"/"+url.PathEscape(q.Name)+"/get", body), &msgs); err != nil {
			t.Fatalf("get %s/%s: %v", q.Vhost, q.Name, err)
		}
		key := strings.TrimSuffix(q.Vhost, "/") + "/" + q.Name
		for _, m := range msgs {
			payload, err := base64.StdEncoding.DecodeString(m.Payload)
			if err != nil {
				t.Fatalf("get %s: payload: %v", key, err)
			}
			out[key] = append(out[key], RabbitMessage{Queue: key, Exchange: m.Exchange, RoutingKey: m.RoutingKey, Payload: string(payload), Properties: string(m.Properties)})
		}
	}
	return out
}

// RabbitSeedPayloads are the messages Seed publishes, by "vhost/queue", in
// queue order.
func RabbitSeedPayloads() map[string][]string {
	out := map[string][]string{}
	for name, n := range RabbitSeedMessages {
		for i := range n {
			out[name] = append(out[name], rabbitPayload(i))
		}
	}
	return out
}

func rabbitPayload(i int64) string {
	return fmt.Sprintf(`{"email":"user%d@example.com","name":"Jane Doe","card":"4111111111111111"}`, i)
}

// CheckMessages fails unless every queue holds exactly the messages Seed
// published, in order.
func (b *Rabbit) CheckMessages(t testing.TB) {
	t.Helper()
	if diff := b.messagesDiff(t); diff != "" {
		t.Errorf("queue contents changed: %s", diff)
	}
}

// messagesDiff compares every queue's messages with what Seed published.
func (b *Rabbit) messagesDiff(t testing.TB) string {
	t.Helper()
	got := map[string][]string{}
	for q, ms := range b.Messages(t) {
		for _, m := range ms {
			got[q] = append(got[q], m.Payload)
		}
	}
	if want := RabbitSeedPayloads(); fmt.Sprint(got) != fmt.Sprint(want) {
		return fmt.Sprintf("\ngot  %v\nwant %v", got, want)
	}
	return ""
}
