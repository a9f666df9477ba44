package testenv

import (
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
)

// MosquittoOptions configure StartMosquitto.
type MosquittoOptions struct {
	// Addr and Port to listen on (zero: a fresh loopback address, a free port).
	Addr netip.Addr
	Port int
	// User and Password, if set, are the only account (password file,
	// anonymous clients refused); otherwise anonymous clients are allowed.
	User, Password string
}

// Mosquitto is a real MQTT broker (Debian mosquitto) started for a test.
type Mosquitto struct {
	Addr       netip.Addr
	Port       int
	user, pass string
}

// StartMosquitto runs mosquitto without persistence; it is stopped when
// the test ends.
func StartMosquitto(t testing.TB, o MosquittoOptions) *Mosquitto {
	t.Helper()
	bin := Binary(t, "mosquitto")
	addr, port := Listen(t, o.Addr, o.Port)
	dir := t.TempDir()
	conf := []string{"allow_anonymous true"}
	if o.User != "" {
		pw := filepath.Join(dir, "passwd")
		if out, err := exec.Command(Binary(t, "mosquitto_passwd"), "-b", "-c", pw, o.User, o.Password).CombinedOutput(); err != nil {
			t.Fatalf("mosquitto_passwd: %v %s", err, out)
		}
		conf = []string{"allow_anonymous false", "password_file " + pw}
	}
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
	StartAndWait(t, "mosquitto", exec.Command(bin, "-c", path), addr, port, 10*time.Second)
	return &Mosquitto{Addr: addr, Port: port, user: o.User, pass: o.Password}
}

func (s *Mosquitto) args(extra ...string) []string {
	a := []string{"-h", s.Addr.String(), "-p", strconv.Itoa(s.Port)}
	if s.user != "" {
		a = append(a, "-u", s.user, "-P", s.pass)
	}
	return append(a, extra...)
}

// publish stores a retained message with mosquitto_pub.
func (s *Mosquitto) publish(t testing.TB, topic, msg string) {
	t.Helper()
	out, err := exec.Command(Binary(t, "mosquitto_pub"), s.args("-t", topic, "-m", msg, "-r", "-q", "1")...).CombinedOutput()
	if err != nil {
		t.Fatalf("mosquitto_pub: %v %s", err, out)
	}
}

// Digest reads every retained message on every topic with mosquitto_sub
// (topic filter "#": all topics but $SYS, which the broker itself updates
// every second), with its QoS and retain flag and the payload in hex, until
// no message has come for two seconds. It does not stop at the number of
// messages Seed published: a message added to any topic changes it.
func (s *Mosquitto) Digest(t testing.TB) string {
	t.Helper()
	cmd := exec.Command(Binary(t, "mosquitto_sub"),
		s.args("-t", "#", "-q", "1", "--retained-only", "-F", "%q %r %t %x", "-W", "2")...)
	out, err := cmd.Output()
	// -W ends the subscription with exit status 27 (timed out): expected.
	if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 27) {
		t.Fatalf("mosquitto_sub: %v %s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// MosquittoSeedTopics are the retained messages Seed publishes, by topic
// pattern.
var MosquittoSeedTopics = map[string]int64{"users/+/profile": 3, "devices/+/status": 1, "config/broker": 1}

// MosquittoSecrets are raw seeded values no leakwatch output may contain.
var MosquittoSecrets = []string{"alice.smith@example.com", "hunter2-Sup3rS3cret", "dev_tok_8c1f2e", "+44 20 7946 0958"}

var mosquittoSeed = [][2]string{
	{"users/1001/profile", `{"email":"alice.smith@example.com","name":"Alice Smith","phone":"+44 20 7946 0958"}`},
	{"users/1002/profile", `{"email":"bob.jones@example.org","name":"Bob Jones","phone":"+1 202 555 0143"}`},
	{"users/1003/profile", `{"email":"carol@example.net","name":"Carol White","phone":"+49 30 901820"}`},
	{"devices/cam-7f3a9/status", `{"mac":"00:1A:2B:3C:4D:5E","ssid":"HomeWiFi-42","model":"CamPro X2","token":"dev_tok_8c1f2e"}`},
	{"config/broker", "admin_password=hunter2-Sup3rS3cret"},
}

// Seed publishes personal-data-shaped retained messages
// (MosquittoSeedTopics).
func (s *Mosquitto) Seed(t testing.TB) {
	t.Helper()
	for _, kv := range mosquittoSeed {
		s.publish(t, kv[0], kv[1])
	}
}

// MosquittoVersion is the installed mosquitto's version.
func MosquittoVersion(t testing.TB) string {
	t.Helper()
	out, _ := exec.Command(Binary(t, "mosquitto"), "-h").CombinedOutput()
	// "mosquitto version 2.0.11"
	first, _, _ := strings.Cut(string(out), "\n")
	_, v, _ := strings.Cut(first, "version ")
	return strings.TrimSpace(v)
}
