package testenv

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// CassandraNode is a real single-node Apache Cassandra started from Maven
// Central artifacts by testenv/cassandranode (a small Java launcher).
type CassandraNode struct {
	Addr netip.Addr
	Port int    // CQL native transport port
	Auth string // "none" or "password" (default superuser cassandra/cassandra)
	Dir  string
}

// HostPort is "ip:port" of the CQL port.
func (n *CassandraNode) HostPort() string {
	return netip.AddrPortFrom(n.Addr, uint16(n.Port)).String()
}

// StartCassandra boots a node on addr:port (storage port 7000 on addr)
// with its files in dir; auth is "none" or "password".
func StartCassandra(addr netip.Addr, port int, dir, auth string) (*CassandraNode, error) {
	if !addr.Is4() || !addr.IsLoopback() {
		return nil, fmt.Errorf("testenv: cassandra address %s is not IPv4 loopback", addr)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("testenv: java not installed: %w", err)
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		if _, serr := os.Stat(filepath.Join(root, "testenv", "cassandranode", "target", ".cassandranode-built")); serr != nil {
			return nil, fmt.Errorf("testenv: mvn not installed: %w", err)
		}
	}
	script := filepath.Join(root, "testenv", "cassandranode", "start.sh")
	out, err := exec.Command("bash", script, addr.String(), strconv.Itoa(port), dir, auth).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("testenv: start cassandra: %w\n%s", err, tail(string(out), 4000))
	}
	return &CassandraNode{Addr: addr, Port: port, Auth: auth, Dir: dir}, nil
}

// Stop stops the node and waits for it to exit.
func (n *CassandraNode) Stop() {
	root, err := RepoRoot()
	if err != nil {
		return
	}
	_ = exec.Command("bash", filepath.Join(root, "testenv", "cassandranode", "stop.sh"), n.Dir).Run()
}

var (
	cassMu    sync.Mutex
	cassNodes = map[string]*sharedCassandra{}
)

type sharedCassandra struct {
	once sync.Once
	node *CassandraNode
	err  error
}

// SharedCassandra returns a node shared by the tests of a package, one per
// key; booting takes 10-20 s. port 0 means the default 9042. Call
// StopSharedCassandra from TestMain after m.Run.
func SharedCassandra(tb testing.TB, key string, port int, auth string) *CassandraNode {
	tb.Helper()
	cassMu.Lock()
	sn, ok := cassNodes[key]
	if !ok {
		sn = &sharedCassandra{}
		cassNodes[key] = sn
	}
	cassMu.Unlock()
	sn.once.Do(func() {
		if port == 0 {
			port = 9042
		}
		var addr netip.Addr
		for i := 0; i < 50; i++ {
			addr = AddrWithPort(tb, port)
			if PortFree(addr, 7000) {
				break
			}
		}
		dir, err := os.MkdirTemp("", "leakwatch-cassandra-")
		if err != nil {
			sn.err = err
			return
		}
		sn.node, sn.err = StartCassandra(addr, port, dir, auth)
		if sn.err != nil {
			os.RemoveAll(dir)
		}
	})
	if sn.err != nil {
		Unavailable(tb, "cassandra node: %v", sn.err)
	}
	return sn.node
}

// StopSharedCassandra stops every shared Cassandra node (in parallel: a
// clean shutdown drains for a few seconds) and removes its files.
func StopSharedCassandra() {
	cassMu.Lock()
	defer cassMu.Unlock()
	var wg sync.WaitGroup
	for _, sn := range cassNodes {
		if sn.node != nil {
			wg.Add(1)
			go func(n *CassandraNode) {
				defer wg.Done()
				n.Stop()
				os.RemoveAll(n.Dir)
			}(sn.node)
		}
	}
	wg.Wait()
	cassNodes = map[string]*sharedCassandra{}
}
