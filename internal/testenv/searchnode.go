package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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
	// JavaNode takes an earlier build's stamp in testenv/searchnode/target for mvn; the flavors
	// stamp their own modules' target/, so mvn stays required here, as before.
	if _, err := startJavaNode("searchnode", flavor, flavor, addr.String(), strconv.Itoa(port), dir); err != nil {
		return nil, err
	}
	n := &SearchNode{Flavor: flavor, Addr: addr, Port: port, Dir: dir}
	n.Client = NewSearchClient(n.URL())
	return n, nil
}

// Stop stops the node and waits for it to exit.
func (n *SearchNode) Stop() { stopJavaNode("searchnode", n.Dir) }

var searchNodes sharedServers[*SearchNode]

// SharedSearchNode returns a node of flavor shared by all tests of the
// package (booting takes tens of seconds); StopShared stops them, call it
// from TestMain after m.Run.
func SharedSearchNode(tb testing.TB, flavor string) *SearchNode {
	tb.Helper()
	return searchNodes.must(tb, flavor, flavor+" node", func() (*SearchNode, error) {
		addr := AddrWithPort(tb, 9200)
		if !PortFree(addr, 9300) {
			addr = AddrWithPort(tb, 9200)
		}
		return inTempDir("leakwatch-"+flavor+"-", func(dir string) (*SearchNode, error) {
			return StartSearchNode(flavor, addr, 9200, dir)
		})
	})
}

// StopShared stops every shared node and removes its files.
func StopShared() {
	searchNodes.stopAll(func(n *SearchNode) {
		n.Stop()
		os.RemoveAll(n.Dir)
	})
}

// ContentDigest hashes every document of index: its _id and raw _source,
// in _id order. The test side may read everything (leakwatch must not): it
// walks the index with a scroll sorted by _doc, 1,000 documents a page, and
// clears the scroll when done. It also returns the number of documents.
func (c *SearchClient) ContentDigest(ctx context.Context, index string) (string, int, error) {
	type page struct {
		ScrollID string `json:"_scroll_id"`
		Hits     struct {
			Hits []struct {
				ID     string          `json:"_id"`
				Source json.RawMessage `json:"_source"`
			} `json:"hits"`
		} `json:"hits"`
	}
	var docs [][2]string
	b, err := c.Do(ctx, http.MethodPost, "/"+url.PathEscape(index)+"/_search?scroll=1m", []byte(`{"size":1000,"sort":["_doc"]}`), "application/json")
	var scrollID string
	defer func() {
		if scrollID != "" {
			body, _ := json.Marshal(map[string]string{"scroll_id": scrollID})
			_, _ = c.Do(context.WithoutCancel(ctx), http.MethodDelete, "/_search/scroll", body, "application/json")
		}
	}()
	for {
		if err != nil {
			return "", 0, fmt.Errorf("digest %s: %w", index, err)
		}
		var p page
		if err := json.Unmarshal(b, &p); err != nil {
			return "", 0, fmt.Errorf("digest %s: %w", index, err)
		}
		scrollID = p.ScrollID
		if len(p.Hits.Hits) == 0 {
			break
		}
		for _, h := range p.Hits.Hits {
			docs = append(docs, [2]string{h.ID, string(h.Source)})
		}
		body, _ := json.Marshal(map[string]string{"scroll": "1m", "scroll_id": scrollID})
		b, err = c.Do(ctx, http.MethodPost, "/_search/scroll", body, "application/json")
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i][0] < docs[j][0] })
	h := sha256.New()
	for _, d := range docs {
		fmt.Fprintf(h, "%d:%s%d:%s", len(d[0]), d[0], len(d[1]), d[1])
	}
	return hex.EncodeToString(h.Sum(nil)), len(docs), nil
}
