package mqtt

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
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

type server struct {
	addr       netip.Addr
	port       int
	user, pass string
}

// startMosquitto runs mosquitto on a fresh loopback address; port 0 picks
// a random port.
func startMosquitto(t *testing.T, port int, conf ...string) *server {
	t.Helper()
	bin := testenv.Binary(t, "mosquitto")
	var addr netip.Addr
	if port == 0 {
		addr = testenv.Addr(t)
		port = testenv.FreePort(t, addr)
	} else {
		addr = testenv.AddrWithPort(t, port)
	}
	dir := t.TempDir()
	lines := append([]string{
		fmt.Sprintf("listener %d %s", port, addr),
		"persistence false",
		"log_dest stderr",
		"user root", // stay root: the test's temp files are root's
		"sys_interval 1",
	}, conf...)
	path := filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	testenv.StartAndWait(t, "mosquitto", exec.Command(bin, "-c", path), addr, port, 10*time.Second)
	return &server{addr: addr, port: port}
}

func (s *server) args(extra ...string) []string {
	a := []string{"-h", s.addr.String(), "-p", strconv.Itoa(s.port)}
	if s.user != "" {
		a = append(a, "-u", s.user, "-P", s.pass)
	}
	return append(a, extra...)
}

// publish stores a retained message with mosquitto_pub.
func (s *server) publish(t *testing.T, topic, msg string) {
	t.Helper()
	out, err := exec.Command(testenv.Binary(t, "mosquitto_pub"), s.args("-t", topic, "-m", msg, "-r", "-q", "1")...).CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
}

// digest reads every retained message with mosquitto_sub.
func (s *server) digest(t *testing.T, n int) string {
	t.Helper()
	out, err := exec.Command(testenv.Binary(t, "mosquitto_sub"),
		s.args("-t", "#", "-v", "--retained-only", "-C", strconv.Itoa(n), "-W", "5")...).Output()
	if err != nil {
		t.Fatalf("mosquitto_sub: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

var seed = [][2]string{
	{"users/1001/profile", `{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`},
	{"users/1002/profile", `{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`},
	{"users/1003/profile", `{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`},
	{"devices/cam-7f3a9/status", `{"mac":"00:1A:2B:3C:4D:5E","ssid":"HomeWiFi-42","model":"CamPro X2","token":"dev_tok_8c1f2e"}`},
	{"config/broker", "admin_password=hunter2-Sup3rS3cret"},
}

func (s *server) seed(t *testing.T) {
	t.Helper()
	for _, kv := range seed {
		s.publish(t, kv[0], kv[1])
	}
}

func TestOpenBroker(t *testing.T) {
	t.Parallel()
	s := startMosquitto(t, 1883, "allow_anonymous true")
	s.seed(t)
	before := s.digest(t, len(seed))
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusExposed || res.Auth != finding.AuthNone || res.Error != "" {
		t.Fatalf("status %s auth %s error %q", res.Status, res.Auth, res.Error)
	}
	if want := brokerVersion(t); res.Product != "mosquitto" || res.Version != want {
		t.Errorf("product %q version %q, want mosquitto %q (evidence %v)", res.Product, res.Version, want, res.Evidence)
	}
	want := map[string]int64{"users/+/profile": 3, "devices/+/status": 1, "config/broker": 1}
	got := map[string]int64{}
	paths := map[string]bool{}
	for _, d := range res.Datasets {
		if d.Kind != "topic" || d.Records == nil {
			t.Fatalf("dataset %+v", d.Dataset)
		}
		got[d.Name] = *d.Records
		if int64(d.Sampled) != *d.Records {
			t.Errorf("%s: sampled %d of %d", d.Name, d.Sampled, *d.Records)
		}
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path] = true
			}
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || res.Datasets[0].Name != "users/+/profile" {
		t.Errorf("datasets %v, want %v", got, want)
	}
	for _, p := range []string{"email", "name", "phone", "mac", "ssid", "model", "token", "config/broker", "_topic"} {
		if !paths[p] {
			t.Errorf("sample lacks %q (have %v)", p, paths)
		}
	}
	if res.Evidence["retained_messages"] == nil {
		t.Errorf("evidence %v", res.Evidence)
	}
	if after := s.digest(t, len(seed)); after != before {
		t.Fatalf("retained messages changed:\n%s\n---\n%s", before, after)
	}
}

func brokerVersion(t *testing.T) string {
	out, _ := exec.Command(testenv.Binary(t, "mosquitto"), "-h").CombinedOutput()
	// "mosquitto version 2.0.11"
	first, _, _ := strings.Cut(string(out), "\n")
	_, v, _ := strings.Cut(first, "version ")
	return strings.TrimSpace(v)
}

func TestProtectedBroker(t *testing.T) {
	t.Parallel()
	pw := filepath.Join(t.TempDir(), "passwd")
	if out, err := exec.Command(testenv.Binary(t, "mosquitto_passwd"), "-b", "-c", pw, "iot", "iot-pass-123").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v %s", err, out)
	}
	s := startMosquitto(t, 0, "allow_anonymous false", "password_file "+pw)
	s.user, s.pass = "iot", "iot-pass-123"
	s.seed(t)
	before := s.digest(t, len(seed))
	res, err := probetest.Run(t, New(), s.addr, s.port)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != finding.StatusProtected || res.Auth != finding.AuthRequired || len(res.Datasets) != 0 {
		t.Fatalf("status %s auth %s datasets %v", res.Status, res.Auth, res.Datasets)
	}
	if res.Evidence["connack_rc"] != rcNotAuthorized {
		t.Errorf("evidence %v", res.Evidence)
	}
	if after := s.digest(t, len(seed)); after != before {
		t.Fatal("retained messages changed")
	}
}

func TestNotThisService(t *testing.T) {
	t.Parallel()
	for name, banner := range map[string]string{
		"http":  "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
		"redis": "-ERR unknown command\r\n",
		"ssh":   "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n",
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
