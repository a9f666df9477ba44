package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// HazelcastMember is one member of a test Hazelcast JVM.
type HazelcastMember struct {
	Addr netip.Addr
	Port int
	// Cluster is the cluster name a client must present; "dev" is
	// Hazelcast's default (what an unconfigured client sends).
	Cluster string
}

// Hazelcast is a JVM of real open-source Hazelcast 5.5.0 members started
// from Maven Central artifacts by testenv/hazelcastnode, each seeded with
// HazelcastSeedEntries.
type Hazelcast struct {
	Members []HazelcastMember
	Dir     string
}

// HazelcastSeedEntries are the entries every member's maps hold, by map.
var HazelcastSeedEntries = map[string]int64{"sessions": 30, "customers": 25, "inventory": 10}

// hazelcastSeed writes the seed file: breach-shaped JSON sessions and
// customers (HazelcastJsonValue), and plain string inventory entries.
func hazelcastSeed() string {
	var b strings.Builder
	for i, p := range People(31, int(HazelcastSeedEntries["sessions"])) {
		fmt.Fprintf(&b, "sessions\tjson\tsession:%s\t{\"email\":%q,\"name\":%q,\"session_token\":%q,\"wifi_ssid\":%q,\"seq\":%d}\n",
			p.SessionToken[len(p.SessionToken)-16:], p.Email, p.FullName, p.SessionToken, p.WifiSSID, i)
	}
	for i, c := range HazelcastCustomers() {
		fmt.Fprintf(&b, "customers\tjson\tcust-%03d\t{\"email\":%q,\"user_name\":%q,\"camera_model\":%q,\"device_id\":%q,\"wifi_ssid\":%q,\"account_token\":%q}\n",
			i, c.Email, c.UserName, c.CameraModel, c.DeviceID, c.WifiSSID, c.AccountToken)
	}
	for i, p := range Products(31, int(HazelcastSeedEntries["inventory"])) {
		fmt.Fprintf(&b, "inventory\tstring\t%s\t%s (%d)\n", p.SKU, p.Title, i)
	}
	return b.String()
}

// HazelcastCustomers are the customer records of map customers.
func HazelcastCustomers() []Customer { return Customers(31, int(HazelcastSeedEntries["customers"])) }

// HazelcastSecrets are raw seeded values no leakwatch output may contain.
func HazelcastSecrets() []string {
	var out []string
	for _, p := range People(31, int(HazelcastSeedEntries["sessions"])) {
		out = append(out, p.Email, p.SessionToken)
	}
	for _, c := range HazelcastCustomers() {
		out = append(out, c.Email, c.AccountToken)
	}
	return out
}

func startHazelcast(tb testing.TB, members []HazelcastMember) (*Hazelcast, error) {
	tb.Helper()
	return inTempDir("leakwatch-hazelcast-", func(dir string) (*Hazelcast, error) {
		seed := filepath.Join(dir, "seed.tsv")
		if err := os.WriteFile(seed, []byte(hazelcastSeed()), 0o600); err != nil {
			return nil, err
		}
		args := []string{dir, seed}
		for i := range members {
			m := &members[i]
			if !m.Addr.IsValid() {
				m.Addr = Addr(tb)
			}
			if !m.Addr.Is4() || !m.Addr.IsLoopback() {
				return nil, fmt.Errorf("testenv: hazelcast address %s is not IPv4 loopback", m.Addr)
			}
			if m.Port == 0 {
				m.Port = FreePort(tb, m.Addr)
			}
			if m.Cluster == "" {
				m.Cluster = "dev"
			}
			args = append(args, fmt.Sprintf("%s:%d:%s", m.Addr, m.Port, m.Cluster))
		}
		out, err := startJavaNode("hazelcastnode", "hazelcast", args...)
		if err != nil {
			return nil, err
		}
		tb.Logf("%s", strings.TrimSpace(tail(out, 300)))
		return &Hazelcast{Members: members, Dir: dir}, nil
	})
}

// Stop stops the JVM and removes its files.
func (h *Hazelcast) Stop() {
	stopJavaNode("hazelcastnode", h.Dir)
	os.RemoveAll(h.Dir)
}

// StartHazelcast boots members (zero Addr/Port: fresh ones; empty
// Cluster: "dev") in one JVM for this test (stopped when it ends), or
// skips (fails under CI) when it cannot.
func StartHazelcast(tb testing.TB, members ...HazelcastMember) *Hazelcast {
	tb.Helper()
	return forTest(tb, "hazelcast", func() (*Hazelcast, error) { return startHazelcast(tb, members) }, (*Hazelcast).Stop)
}

var hzShared sharedServers[*Hazelcast]

// SharedHazelcast returns the package's JVM of two members: [0] open
// (cluster "dev", a free port), [1] protected by another cluster name (on
// 5701). Call StopSharedHazelcast from TestMain after m.Run.
func SharedHazelcast(tb testing.TB) *Hazelcast {
	tb.Helper()
	return hzShared.must(tb, "", "hazelcast", func() (*Hazelcast, error) {
		return startHazelcast(tb, []HazelcastMember{
			{Cluster: "dev"},
			{Addr: AddrWithPort(tb, 5701), Port: 5701, Cluster: "lw-prod-7f3a"},
		})
	})
}

// StopSharedHazelcast stops the shared JVM.
func StopSharedHazelcast() { hzShared.stopAll((*Hazelcast).Stop) }

// Digest hashes member i's maps (names, sizes, every entry) as the real
// Hazelcast Java client reads them.
func (h *Hazelcast) Digest(i int) func(testing.TB) string {
	return func(tb testing.TB) string {
		tb.Helper()
		dir, err := JavaNode("hazelcastnode")
		if err != nil {
			tb.Fatal(err)
		}
		m := h.Members[i]
		out, err := exec.Command("bash", filepath.Join(dir, "digest.sh"),
			netip.AddrPortFrom(m.Addr, uint16(m.Port)).String(), m.Cluster).Output()
		if err != nil {
			tb.Fatalf("hazelcast digest of %s:%d: %v", m.Addr, m.Port, err)
		}
		lines := strings.Fields(string(out))
		if len(lines) == 0 {
			tb.Fatalf("hazelcast digest of %s:%d: no output", m.Addr, m.Port)
		}
		return lines[len(lines)-1]
	}
}
