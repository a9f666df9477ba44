package testenv

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Breach-shaped test data: customer records of a camera maker, as in the
// December 2019 exposure — user names, emails, camera models, connection
// times, account and camera login tokens (JWT and opaque), WiFi SSIDs.

var (
	firstNames = []string{"anna", "ben", "carla", "deniz", "emil", "fatima", "georg", "hana", "ivan", "julia", "kofi", "lena", "marek", "nora", "omar", "paula", "quinn", "rosa", "sven", "tara", "uwe", "vera", "wen", "ximena", "yusuf", "zoe"}
	lastNames  = []string{"schmidt", "novak", "garcia", "okafor", "tanaka", "mueller", "rossi", "kowalski", "nguyen", "silva", "berg", "haddad", "ivanova", "lindqvist", "moreau", "patel"}
	domains    = []string{"mailbox.example", "post.example", "inbox.example.org", "webmail.example.net"}
	models     = []string{"WYZE Cam v2", "WYZE Cam Pan", "WYZE Cam v3", "WYZE Cam Outdoor", "WYZE Video Doorbell"}
	ssidStyles = []string{"%s-Home", "%s_WLAN", "%s-5G", "FRITZ!Box 7590 %s", "Vodafone-%s", "%s Family WiFi"}
)

// Customer is one generated breach record.
type Customer struct {
	UserName      string `json:"user_name"`
	Email         string `json:"email"`
	CameraModel   string `json:"camera_model"`
	DeviceID      string `json:"device_id"`
	LastConnected string `json:"last_connected"`
	AccountToken  string `json:"account_token"`
	CameraToken   string `json:"camera_token"`
	WifiSSID      string `json:"wifi_ssid"`
	Firmware      string `json:"firmware_version"`
}

// Customers generates n deterministic customer records from seed.
func Customers(seed uint64, n int) []Customer {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := time.Date(2019, 11, 1, 0, 0, 0, 0, time.UTC)
	out := make([]Customer, n)
	for i := range out {
		fn := firstNames[r.IntN(len(firstNames))]
		ln := lastNames[r.IntN(len(lastNames))]
		user := fmt.Sprintf("%s.%s%d", fn, ln, i)
		out[i] = Customer{
			UserName:      user,
			Email:         fmt.Sprintf("%s.%s.%d@%s", fn, ln, i, domains[r.IntN(len(domains))]),
			CameraModel:   models[r.IntN(len(models))],
			DeviceID:      fmt.Sprintf("%012X", r.Uint64()&0xffffffffffff),
			LastConnected: base.Add(time.Duration(r.IntN(30*24*3600)) * time.Second).Format(time.RFC3339),
			AccountToken:  fakeJWT(r, user),
			CameraToken:   randHex(r, 32),
			WifiSSID:      fmt.Sprintf(ssidStyles[r.IntN(len(ssidStyles))], strings.ToUpper(ln[:1])+ln[1:]),
			Firmware:      fmt.Sprintf("4.%d.%d.%d", 9+r.IntN(2), r.IntN(9), r.IntN(300)),
		}
	}
	return out
}

func randHex(r *rand.Rand, n int) string {
	b := make([]byte, n/2)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return hex.EncodeToString(b)
}

// fakeJWT makes a structurally valid HS256 JWT for user.
func fakeJWT(r *rand.Rand, user string) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":%q,"iat":%d,"scope":"camera:view"}`, user, 1570000000+r.IntN(5000000))))
	mac := hmac.New(sha256.New, []byte("fixture-secret"))
	mac.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + enc.EncodeToString(mac.Sum(nil))
}

// RawValues returns every field of every record (all nine: the seeding
// writes them all), for tests that prove no output ever contains one.
func RawValues(cs []Customer) []string { return SensitiveValues(cs) }

// Product is a record without personal data (a product catalogue).
type Product struct {
	SKU      string  `json:"sku"`
	Title    string  `json:"title"`
	Category string  `json:"category"`
	PriceEUR float64 `json:"price_eur"`
	InStock  int     `json:"in_stock"`
}

// Products generates n catalogue records.
func Products(seed uint64, n int) []Product {
	r := rand.New(rand.NewPCG(seed, 7))
	cats := []string{"indoor", "outdoor", "doorbell", "accessory", "storage"}
	out := make([]Product, n)
	for i := range out {
		out[i] = Product{
			SKU:      fmt.Sprintf("SKU-%05d", i),
			Title:    fmt.Sprintf("%s kit %d", cats[i%len(cats)], i),
			Category: cats[r.IntN(len(cats))],
			PriceEUR: float64(r.IntN(20000)) / 100,
			InStock:  r.IntN(500),
		}
	}
	return out
}

// SearchClient talks to a test search node (seeding and state checks only;
// tests may write, leakwatch never does).
type SearchClient struct {
	Base string
	HTTP *http.Client
}

// NewSearchClient makes a client for http://host:port.
func NewSearchClient(base string) *SearchClient {
	return &SearchClient{Base: strings.TrimRight(base, "/"), HTTP: &http.Client{Timeout: 120 * time.Second}}
}

// Do sends one request and returns the body, failing on HTTP errors.
func (c *SearchClient) Do(ctx context.Context, method, path string, body []byte, ctype string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return b, fmt.Errorf("%s %s: HTTP %d: %.300s", method, path, resp.StatusCode, b)
	}
	return b, nil
}

// CreateIndex creates a one-shard index; mappings is the JSON of the
// "mappings" object, or empty for dynamic mapping.
func (c *SearchClient) CreateIndex(ctx context.Context, index, mappings string) error {
	body := `{"settings":{"number_of_shards":1,"number_of_replicas":0,"refresh_interval":"30s"}`
	if mappings != "" {
		body += `,"mappings":` + mappings
	}
	body += "}"
	_, err := c.Do(ctx, http.MethodPut, "/"+index, []byte(body), "application/json")
	return err
}

// Bulk indexes docs into index in batches (two requests in flight) and
// refreshes it.
func Bulk[T any](ctx context.Context, c *SearchClient, index string, docs []T) error {
	const batch = 5000
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(docs)/batch+1) // never blocks a sender
	sem := make(chan struct{}, 2)
	var first error
	pending := 0
	for i := 0; i < len(docs); i += batch {
		var buf bytes.Buffer
		for _, d := range docs[i:min(i+batch, len(docs))] {
			buf.WriteString(`{"index":{}}` + "\n")
			b, err := json.Marshal(d)
			if err != nil {
				return err
			}
			buf.Write(b)
			buf.WriteByte('\n')
		}
		sem <- struct{}{}
		pending++
		go func(body []byte) {
			defer func() { <-sem }()
			errc <- c.bulkOnce(ctx, index, body)
		}(buf.Bytes())
		// collect finished results without blocking
		for drained := false; !drained; {
			select {
			case err := <-errc:
				pending--
				if err != nil && first == nil {
					first = err
					cancel()
				}
			default:
				drained = true
			}
		}
		if first != nil {
			break
		}
	}
	for ; pending > 0; pending-- {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	_, err := c.Do(ctx, http.MethodPost, "/"+index+"/_refresh", nil, "")
	return err
}

func (c *SearchClient) bulkOnce(ctx context.Context, index string, body []byte) error {
	resp, err := c.Do(ctx, http.MethodPost, "/"+index+"/_bulk", body, "application/x-ndjson")
	if err != nil {
		return err
	}
	var r struct {
		Errors bool `json:"errors"`
	}
	if json.Unmarshal(resp, &r) == nil && r.Errors {
		return fmt.Errorf("bulk %s: item errors: %.500s", index, resp)
	}
	return nil
}

// State is a digest of a node's indices, doc counts, mappings and the
// contents of every document (ContentDigest), for read-only checks.
func (c *SearchClient) State(ctx context.Context) (string, error) {
	cat, err := c.Do(ctx, http.MethodGet, "/_cat/indices?format=json&h=index,docs.count,docs.deleted&s=index&expand_wildcards=all", nil, "")
	if err != nil {
		return "", err
	}
	var rows []map[string]string
	if err := json.Unmarshal(cat, &rows); err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, r := range rows {
		if strings.HasPrefix(r["index"], ".") {
			continue // system indices change on their own (tasks, stats)
		}
		m, err := c.Do(ctx, http.MethodGet, "/"+r["index"]+"/_mapping", nil, "")
		if err != nil {
			return "", err
		}
		content, n, err := c.ContentDigest(ctx, r["index"])
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&sb, "%s docs=%s deleted=%s read=%d content=%s mapping=%s\n", r["index"], r["docs.count"], r["docs.deleted"], n, content, m)
	}
	return sb.String(), nil
}
