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

// SearchNode is a real OpenSearch or Elasticsearch node started from Maven
// Central artifacts by testenv/searchnode (a small Java launcher).
type SearchNode struct {
	Flavor string // "opensearch" or "elasticsearch7"
	Addr   netip.Addr
	Port   int
	Dir    string
	Client *SearchClient
}

// URL is the node's base URL.
func (n *SearchNode) URL() string {
	return "http://" + n.Addr.String() + ":" + strconv.Itoa(n.Port)
}

// RepoRoot finds the module root (the folder holding go.mod).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("testenv: go.mod not found above working directory")
		}
		dir = parent
	}
}

// StartSearchNode boots a node of flavor on addr:port with its home in dir.
func StartSearchNode(flavor string, addr netip.Addr, port int, dir string) (*SearchNode, error) {
	if !addr.Is4() || !addr.IsLoopback() {
		return nil, fmt.Errorf("testenv: search node address %s is not IPv4 loopback", addr)
	}
	if _, err := exec.LookPath("java"); err != nil {
		return nil, fmt.Errorf("testenv: java not installed: %w", err)
	}
	if _, err := exec.LookPath("mvn"); err != nil {
		return nil, fmt.Errorf("testenv: mvn not installed: %w", err)
	}
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(root, "testenv", "searchnode", "start.sh")
	cmd := exec.Command("bash", script, flavor, addr.String(), strconv.Itoa(port), dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("testenv: start %s: %w\n%s", flavor, err, tail(string(out), 4000))
	}
	n := &SearchNode{Flavor: flavor, Addr: addr, Port: port, Dir: dir}
	n.Client = NewSearchClient(n.URL())
	return n, nil
}

// Stop stops the node and waits for it to exit.
func (n *SearchNode) Stop() {
	root, err := RepoRoot()
	if err != nil {
		return
	}
	_ = exec.Command("bash", filepath.Join(root, "testenv", "searchnode", "stop.sh"), n.Dir).Run()
}

var (
	sharedMu    sync.Mutex
	sharedNodes = map[string]*sharedNode{}
)

type sharedNode struct {
	once sync.Once
	node *SearchNode
	err  error
}

// SharedSearchNode returns a node of flavor shared by all tests of the
// package (booting takes tens of seconds); StopShared stops them, call it
// from TestMain after m.Run.
func SharedSearchNode(tb testing.TB, flavor string) *SearchNode {
	tb.Helper()
	sharedMu.Lock()
	sn, ok := sharedNodes[flavor]
	if !ok {
		sn = &sharedNode{}
		sharedNodes[flavor] = sn
	}
	sharedMu.Unlock()
	sn.once.Do(func() {
		addr := AddrWithPort(tb, 9200)
		if !PortFree(addr, 9300) {
			addr = AddrWithPort(tb, 9200)
		}
		dir, err := os.MkdirTemp("", "leakwatch-"+flavor+"-")
		if err != nil {
			sn.err = err
			return
		}
		sn.node, sn.err = StartSearchNode(flavor, addr, 9200, dir)
	})
	if sn.err != nil {
		Unavailable(tb, "%s node: %v", flavor, sn.err)
	}
	return sn.node
}

// StopShared stops every shared node and removes its files.
func StopShared() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	for _, sn := range sharedNodes {
		if sn.node != nil {
			sn.node.Stop()
			os.RemoveAll(sn.node.Dir)
		}
	}
	sharedNodes = map[string]*sharedNode{}
}
