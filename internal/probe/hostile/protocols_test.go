package hostile

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// js is s as a JSON string (fmt's %q is Go syntax, not JSON).
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var testCert = sync.OnceValue(func() tls.Certificate {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hostile.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
})

// Planted values: raw strings a hostile store puts in names, keys and
// banners. None may appear in any output.
const (
	plantedEmail = "victim.person@corp-hostile.example"
	plantedToken = "tok_live_9f8e7d6c5b4a39281706f5e4"
	plantedBidi  = "\u202etxt.exe"
	plantedANSI  = "\x1b[31mred\x1b[0m"
)

// ---- Elasticsearch-shaped ---------------------------------------------------

// esNode is a search node with hostile content: names, numbers and shapes
// chosen by opts.
type esOpts struct {
	clusterName string
	indices     []string // index names
	docsCount   string   // docs.count of every index (a string in _cat)
	count       string   // _count answer number (raw JSON)
	mapping     string   // properties object (raw JSON)
	source      string   // one _source document (raw JSON)
	rows        int      // extra generated rows in _cat/indices
	rootExtra   string   // raw JSON members appended to GET /
}

func esNode(o esOpts) http.Handler {
	if o.docsCount == "" {
		o.docsCount = "3"
	}
	if o.count == "" {
		o.count = "3"
	}
	if o.mapping == "" {
		o.mapping = `{"email":{"type":"keyword"}}`
	}
	if o.source == "" {
		o.source = `{"email":"a@b.example"}`
	}
	if o.clusterName == "" {
		o.clusterName = "c"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := r.URL.Path
		switch {
		case p == "/":
			fmt.Fprintf(w, `{"name":%s,"cluster_name":%s,"cluster_uuid":"u1","version":{"number":"7.10.2"},"tagline":"You Know, for Search"%s}`, js(o.clusterName), js(o.clusterName), o.rootExtra)
		case p == "/_cat/indices":
			bw := bufio.NewWriter(w)
			bw.WriteString("[")
			for i, name := range o.indices {
				if i > 0 {
					bw.WriteString(",")
				}
				fmt.Fprintf(bw, `{"health":"green","status":"open","index":%s,"uuid":"x","docs.count":%s,"store.size":"100"}`, js(name), js(o.docsCount))
			}
			for i := range o.rows {
				if i > 0 || len(o.indices) > 0 {
					bw.WriteString(",")
				}
				fmt.Fprintf(bw, `{"health":"green","status":"open","index":"gen-%07d","uuid":"x","docs.count":"1","store.size":"%d"}`, i, i)
			}
			bw.WriteString("]")
			bw.Flush()
		case strings.HasSuffix(p, "/_count"):
			fmt.Fprintf(w, `{"count":%s}`, o.count)
		case strings.HasSuffix(p, "/_mapping"):
			idx := strings.TrimSuffix(strings.TrimPrefix(p, "/"), "/_mapping")
			fmt.Fprintf(w, `{%s:{"mappings":{"properties":%s}}}`, js(idx), o.mapping)
		case strings.HasSuffix(p, "/_search"):
			fmt.Fprintf(w, `{"hits":{"hits":[{"_source":%s},{"_source":%s}]}}`, o.source, o.source)
		case strings.HasPrefix(p, "/_stats"):
			fmt.Fprint(w, `{"_all":{"total":{"search":{"query_total":1,"fetch_total":1}}}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
}

// ---- Redis-shaped -------------------------------------------------------------

// redisServer answers commands by their first word.
func redisServer(answers map[string]string, fallback string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		br := bufio.NewReader(c)
		for {
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			cmd, err := readRESPCommand(br)
			if err != nil {
				return
			}
			ans, ok := answers[strings.ToUpper(cmd)]
			if !ok {
				ans = fallback
			}
			if _, err := c.Write([]byte(ans)); err != nil {
				return
			}
		}
	}
}

// readRESPCommand reads one RESP array command (or an inline line) and
// returns its first word.
func readRESPCommand(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "*") {
		f := strings.Fields(line)
		if len(f) == 0 {
			return "", nil
		}
		return f[0], nil
	}
	var n int
	fmt.Sscanf(line[1:], "%d", &n)
	first := ""
	for i := 0; i < n && i < 64; i++ {
		hdr, err := br.ReadString('\n')
		if err != nil {
			return "", err
		}
		var l int
		fmt.Sscanf(strings.TrimSpace(hdr)[1:], "%d", &l)
		if l < 0 || l > 1<<20 {
			return "", fmt.Errorf("bad bulk")
		}
		b := make([]byte, l+2)
		if _, err := ioReadFull(br, b); err != nil {
			return "", err
		}
		if i == 0 {
			first = string(b[:l])
		}
	}
	return first, nil
}

func bulk(s string) string { return fmt.Sprintf("$%d\r\n%s\r\n", len(s), s) }

func redisInfo(keyspace string) string {
	return bulk("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n# Keyspace\r\n" + keyspace + "\r\n")
}

// ---- MongoDB-shaped ------------------------------------------------------------

// mongoHeader answers any message with a header claiming length n.
func mongoHeader(n int32) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		req := readSome(c)
		var id uint32
		if len(req) >= 8 {
			id = binary.LittleEndian.Uint32(req[4:])
		}
		h := make([]byte, 16)
		binary.LittleEndian.PutUint32(h[0:], uint32(n))
		binary.LittleEndian.PutUint32(h[4:], 1)
		binary.LittleEndian.PutUint32(h[8:], id)
		binary.LittleEndian.PutUint32(h[12:], 1) // OP_REPLY
		_, _ = c.Write(h)
		writeLoop(c, quit, make([]byte, 4096))
	}
}

// mongoDeep answers the handshake with an OP_REPLY whose document nests
// embedded documents deeper than any parser stack should follow.
func mongoDeep(c net.Conn, quit <-chan struct{}) {
	req := readSome(c)
	var id uint32
	if len(req) >= 8 {
		id = binary.LittleEndian.Uint32(req[4:])
	}
	doc := deepBSON(50000)
	body := make([]byte, 20, 20+len(doc))
	binary.LittleEndian.PutUint32(body[16:], 1) // numberReturned
	body = append(body, doc...)
	h := make([]byte, 16)
	binary.LittleEndian.PutUint32(h[0:], uint32(16+len(body)))
	binary.LittleEndian.PutUint32(h[8:], id)
	binary.LittleEndian.PutUint32(h[12:], 1)
	_, _ = c.Write(append(h, body...))
	go drain(c)
	wait(quit)
}

func deepBSON(depth int) []byte {
	// Level k (1 = innermost wrapper) is 5+8k bytes: length, type 0x03,
	// key "a", the level below, terminator.
	out := make([]byte, 0, 5+9*depth)
	for k := depth; k >= 1; k-- {
		out = binary.LittleEndian.AppendUint32(out, uint32(5+8*k))
		out = append(out, 0x03, 'a', 0)
	}
	out = append(out, 5, 0, 0, 0, 0)
	for range depth {
		out = append(out, 0)
	}
	return out
}

// ---- Memcached-shaped -----------------------------------------------------------

func memcachedStats(items string) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		br := bufio.NewReader(c)
		for {
			_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
			b, err := br.Peek(1)
			if err != nil {
				return
			}
			if b[0] == 0x80 { // binary request: an ASCII-only server says ERROR
				hdr := make([]byte, 24)
				if _, err := ioReadFull(br, hdr); err != nil {
					return
				}
				bl := binary.BigEndian.Uint32(hdr[8:])
				if bl > 1<<16 {
					return
				}
				if _, err := ioReadFull(br, make([]byte, bl)); err != nil {
					return
				}
				fmt.Fprint(c, "ERROR\r\n")
				continue
			}
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.Fields(line + " x")[0] {
			case "version":
				fmt.Fprint(c, "VERSION 1.6.18\r\n")
			case "stats":
				fmt.Fprintf(c, "STAT pid 1\r\nSTAT version 1.6.18\r\nSTAT curr_items %s\r\nSTAT bytes %s\r\nSTAT total_items %s\r\nEND\r\n", items, items, items)
			default:
				fmt.Fprint(c, "END\r\n")
			}
		}
	}
}

// ---- Server-first greetings with hostile lengths --------------------------------

// mysqlGreeting is a protocol-10 greeting whose version string carries s.
func mysqlGreeting(version string) []byte {
	p := []byte{10}
	p = append(p, version...)
	p = append(p, 0)
	p = append(p, 1, 0, 0, 0)          // thread id
	p = append(p, "abcdefgh"...)       // auth data 1
	p = append(p, 0)                   // filler
	p = append(p, 0xff, 0xf7)          // caps low
	p = append(p, 33, 2, 0)            // charset, status
	p = append(p, 0xff, 0x81, 21)      // caps high, auth len
	p = append(p, make([]byte, 10)...) // reserved
	p = append(p, "ijklmnopqrst"...)
	p = append(p, 0)
	p = append(p, "mysql_native_password"...)
	p = append(p, 0)
	h := []byte{byte(len(p)), byte(len(p) >> 8), byte(len(p) >> 16), 0}
	return append(h, p...)
}

func greeting(b []byte) func(net.Conn, <-chan struct{}) {
	return func(c net.Conn, quit <-chan struct{}) {
		_, _ = c.Write(b)
		go drain(c)
		wait(quit)
	}
}

func ioReadFull(br *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := br.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
