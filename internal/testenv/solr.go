package testenv

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SolrOptions configure a test Solr node.
type SolrOptions struct {
	// Addr is the loopback address (zero: a fresh one).
	Addr netip.Addr
	// Port is the HTTP port (0: a free one; Solr's default is 8983).
	Port int
	// Password, if set, turns on the BasicAuthPlugin (blockUnknown, every
	// path needs the admin role) with user "solr" and this password.
	Password string
}

// Solr is a real standalone Apache Solr 9.10.1 node started from Maven
// Central artifacts by testenv/solrnode (a small Java launcher), with the
// cores of SolrSeedDocs created at start from the committed configset.
type Solr struct {
	Addr     netip.Addr
	Port     int
	Password string
	Dir      string
	client   *http.Client
}

// SolrCores are the cores every test node has (created at start, empty).
var SolrCores = []string{"customers", "products", "archive"}

// SolrSeedDocs are the documents Seed writes, by core.
var SolrSeedDocs = map[string]int64{"customers": 40, "products": 12, "archive": 0}

// SolrCustomers are the customer records Seed writes into core customers.
func SolrCustomers() []Customer { return Customers(14, int(SolrSeedDocs["customers"])) }

// startSolr boots a node; the caller stops it.
func startSolr(tb testing.TB, o SolrOptions) (*Solr, error) {
	tb.Helper()
	switch {
	case !o.Addr.IsValid() && o.Port != 0:
		o.Addr = AddrWithPort(tb, o.Port)
	case !o.Addr.IsValid():
		o.Addr = Addr(tb)
	}
	if !o.Addr.Is4() || !o.Addr.IsLoopback() {
		return nil, fmt.Errorf("testenv: solr address %s is not IPv4 loopback", o.Addr)
	}
	if o.Port == 0 {
		o.Port = FreePort(tb, o.Addr)
	}
	return inTempDir("leakwatch-solr-", func(dir string) (*Solr, error) {
		args := []string{o.Addr.String(), strconv.Itoa(o.Port), dir, strings.Join(SolrCores, ",")}
		if o.Password != "" {
			args = append(args, o.Password)
		}
		out, err := startJavaNode("solrnode", "solr", args...)
		if err != nil {
			return nil, err
		}
		tb.Logf("%s", strings.TrimSpace(tail(out, 300)))
		return &Solr{Addr: o.Addr, Port: o.Port, Password: o.Password, Dir: dir, client: &http.Client{Timeout: 60 * time.Second}}, nil
	})
}

// Stop stops the node, waits for it to exit and removes its files.
func (s *Solr) Stop() {
	stopJavaNode("solrnode", s.Dir)
	os.RemoveAll(s.Dir)
}

// StartSolr boots a node for this test (stopped when it ends), or skips
// (fails under CI) when it cannot.
func StartSolr(tb testing.TB, o SolrOptions) *Solr {
	tb.Helper()
	return forTest(tb, "solr node", func() (*Solr, error) { return startSolr(tb, o) }, (*Solr).Stop)
}

var solrNodes sharedServers[*Solr]

// SharedSolr returns a node shared by the tests of a package, one per key
// (a JVM boot costs seconds on a loaded machine). Call StopSharedSolr from
// TestMain after m.Run.
func SharedSolr(tb testing.TB, key string, o SolrOptions) *Solr {
	tb.Helper()
	return solrNodes.must(tb, key, "solr node", func() (*Solr, error) { return startSolr(tb, o) })
}

// StopSharedSolr stops every shared node.
func StopSharedSolr() { solrNodes.stopAll((*Solr).Stop) }

// do sends one request as the node's admin (when it has a password) and
// returns the body; any status but 200 fails the test.
func (s *Solr) do(tb testing.TB, method, path string, body []byte) []byte {
	tb.Helper()
	req, err := http.NewRequest(method, "http://"+netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()+"/solr"+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.Password != "" {
		req.SetBasicAuth("solr", s.Password)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		tb.Fatalf("solr %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("solr %s %s: %d %v: %s", method, path, resp.StatusCode, err, tail(string(b), 500))
	}
	return b
}

// Seed writes SolrSeedDocs: breach-shaped customer documents (fixed schema
// fields and dynamic *_s fields) into core customers, catalogue documents
// without personal data into core products; core archive stays empty.
func (s *Solr) Seed(tb testing.TB) {
	tb.Helper()
	var docs []map[string]any
	for i, c := range SolrCustomers() {
		docs = append(docs, map[string]any{
			"id": fmt.Sprintf("cust-%03d", i), "email": c.Email, "login_token": c.AccountToken,
			"wifi_ssid": c.WifiSSID, "device_model": c.CameraModel, "created": c.LastConnected,
			"user_name_s": c.UserName, "device_id_s": c.DeviceID, "camera_token_s": c.CameraToken,
			"firmware_s": c.Firmware, "tags": []string{"customer", "2019"},
		})
	}
	s.post(tb, "customers", docs)
	docs = nil
	for _, p := range Products(14, int(SolrSeedDocs["products"])) {
		docs = append(docs, map[string]any{"id": p.SKU, "title_t": p.Title, "category_s": p.Category, "in_stock_i": p.InStock})
	}
	s.post(tb, "products", docs)
}

func (s *Solr) post(tb testing.TB, core string, docs []map[string]any) {
	tb.Helper()
	b, err := json.Marshal(docs)
	if err != nil {
		tb.Fatal(err)
	}
	s.do(tb, http.MethodPost, "/"+core+"/update?commit=true&wt=json", b)
}

// Digest hashes the node's state as its admin sees it: every core's index
// status (documents, max doc, index version, segments), its schema fields
// and every stored document (with _version_) in id order.
func (s *Solr) Digest(tb testing.TB) string {
	tb.Helper()
	var st struct {
		Status map[string]struct {
			Index struct {
				NumDocs  int64 `json:"numDocs"`
				MaxDoc   int64 `json:"maxDoc"`
				Version  int64 `json:"version"`
				Segments int64 `json:"segmentCount"`
			} `json:"index"`
		} `json:"status"`
	}
	if err := json.Unmarshal(s.do(tb, http.MethodGet, "/admin/cores?action=STATUS&wt=json", nil), &st); err != nil {
		tb.Fatalf("solr digest: %v", err)
	}
	cores := make([]string, 0, len(st.Status))
	for c := range st.Status {
		cores = append(cores, c)
	}
	sort.Strings(cores)
	h := sha256.New()
	for _, c := range cores {
		fmt.Fprintf(h, "core %s %+v\n", c, st.Status[c].Index)
		h.Write(s.do(tb, http.MethodGet, "/"+c+"/schema/fields?wt=json&omitHeader=true", nil))
		q := url.Values{"q": {"*:*"}, "rows": {"10000"}, "sort": {"id asc"}, "fl": {"*,_version_"}, "wt": {"json"}, "omitHeader": {"true"}}
		h.Write(s.do(tb, http.MethodGet, "/"+c+"/select?"+q.Encode(), nil))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SetPassword gives user "solr" a new password through the Authentication
// API (a node started with a password only) and waits until the old one
// is refused.
func (s *Solr) SetPassword(tb testing.TB, password string) {
	tb.Helper()
	b, _ := json.Marshal(map[string]any{"set-user": map[string]string{"solr": password}})
	s.do(tb, http.MethodPost, "/admin/authentication", b)
	old := s.Password
	s.Password = password
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+netip.AddrPortFrom(s.Addr, uint16(s.Port)).String()+"/solr/admin/info/system", nil)
		req.SetBasicAuth("solr", old)
		resp, err := s.client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Fatal("solr: old password still accepted 15 s after set-user")
}

// SolrSecrets are raw seeded values no leakwatch output may contain.
func SolrSecrets() []string {
	var out []string
	for _, c := range SolrCustomers() {
		out = append(out, c.Email, c.AccountToken, c.CameraToken)
	}
	return out
}

// OpenReads turns a password-protected node into the half-done setup seen
// in the wild: blockUnknown off and the one permission left guarding only
// security edits, so anonymous requests read everything.
func (s *Solr) OpenReads(tb testing.TB) {
	tb.Helper()
	s.do(tb, http.MethodPost, "/admin/authentication", []byte(`{"set-property":{"blockUnknown":false}}`))
	s.do(tb, http.MethodPost, "/admin/authorization", []byte(`{"set-permission":{"name":"security-edit","role":"admin","before":1}}`))
	s.do(tb, http.MethodPost, "/admin/authorization", []byte(`{"delete-permission":2}`))
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := s.client.Get("http://" + netip.AddrPortFrom(s.Addr, uint16(s.Port)).String() + "/solr/admin/cores?action=STATUS&wt=json")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	tb.Fatal("solr: cores not readable anonymously 15 s after opening reads")
}
