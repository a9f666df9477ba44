package probetest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Decoy is a loopback listener that a scan must never reach: it counts the
// connections it accepts (and closes them at once).
type Decoy struct {
	Addr    netip.Addr
	Port    int
	accepts atomic.Int64
}

// AddrPort is the decoy's endpoint.
func (d *Decoy) AddrPort() netip.AddrPort { return netip.AddrPortFrom(d.Addr, uint16(d.Port)) }

// Accepts is how many connections reached the decoy.
func (d *Decoy) Accepts() int64 { return d.accepts.Load() }

// NewDecoy listens on addr:port (a fresh loopback address when addr is
// zero, a free port when port is 0) until the test ends.
func NewDecoy(tb testing.TB, addr netip.Addr, port int) *Decoy {
	tb.Helper()
	addr, port = testenv.Listen(tb, addr, port)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), strconv.Itoa(port)))
	if err != nil {
		tb.Fatalf("probetest: decoy: %v", err)
	}
	d := &Decoy{Addr: addr, Port: port}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d.accepts.Add(1)
			c.Close()
		}
	}()
	tb.Cleanup(func() { l.Close(); <-done })
	return d
}

// Steering is a hostile server that tries to steer a scanner outside its
// scope: to SameHost, a port on the server's own address that the scope
// excludes, and to OtherHost, an address outside the scope. A scope for it
// holds Server (address and port) and excludes SameHost; neither decoy may
// ever see a connection.
type Steering struct {
	// Name says what the server does ("ftp-pasv-epsv", ...).
	Name      string
	Server    netip.AddrPort
	SameHost  *Decoy
	OtherHost *Decoy
}

// Decoys are the endpoints the server steers to.
func (s *Steering) Decoys() []*Decoy { return []*Decoy{s.SameHost, s.OtherHost} }

// SteeringServers starts one of each steering server.
func SteeringServers(tb testing.TB) []*Steering {
	tb.Helper()
	return []*Steering{SteerFTP(tb), SteerNATS(tb), SteerHTTPRedirect(tb), SteerElasticsearch(tb)}
}

// steering makes the decoys for a server at addr (SameHost on samePort, 0:
// any free port).
func steering(tb testing.TB, name string, addr netip.Addr, samePort int) *Steering {
	return &Steering{Name: name, SameHost: NewDecoy(tb, addr, samePort), OtherHost: NewDecoy(tb, netip.Addr{}, 0)}
}

// SteerFTP is an FTP server that lets anyone in and answers EPSV with the
// excluded port of its own address, and PASV with the other address.
func SteerFTP(tb testing.TB) *Steering {
	tb.Helper()
	var st *Steering
	ready := make(chan struct{})
	srv := serve(tb, func(c net.Conn, quit chan struct{}) {
		<-ready
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		w := bufio.NewWriter(c)
		reply := func(s string) { _, _ = w.WriteString(s + "\r\n"); _ = w.Flush() }
		reply("220 steer FTP ready")
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			cmd, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(sc.Text())), " ")
			switch cmd {
			case "USER":
				reply("331 password please")
			case "PASS":
				reply("230 logged in")
			case "SYST":
				reply("215 UNIX Type: L8")
			case "FEAT":
				reply("211-Features:\r\n EPSV\r\n PASV\r\n211 End")
			case "PWD":
				reply(`257 "/" is the current directory`)
			case "TYPE", "OPTS", "CWD":
				reply("200 ok")
			case "EPSV":
				reply(fmt.Sprintf("229 Entering Extended Passive Mode (|||%d|)", st.SameHost.Port))
			case "PASV":
				a := st.OtherHost.Addr.As4()
				p := st.OtherHost.Port
				reply(fmt.Sprintf("227 Entering Passive Mode (%d,%d,%d,%d,%d,%d)", a[0], a[1], a[2], a[3], p>>8, p&255))
			case "LIST", "MLSD", "NLST", "RETR":
				reply("425 no data connection")
			case "QUIT":
				reply("221 bye")
				return
			default:
				reply("502 not implemented")
			}
		}
	})
	st = steering(tb, "ftp-epsv-pasv", srv.Addr, 0)
	st.Server = netip.AddrPortFrom(srv.Addr, uint16(srv.Port))
	close(ready)
	return st
}

// SteerNATS is a NATS server whose INFO advertises cluster members and
// client URLs outside the scope (the other address, and the excluded
// monitoring port 8222 of its own address).
func SteerNATS(tb testing.TB) *Steering {
	tb.Helper()
	var st *Steering
	ready := make(chan struct{})
	srv := serve(tb, func(c net.Conn, quit chan struct{}) {
		<-ready
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		info, _ := json.Marshal(map[string]any{
			"server_id": "NSTEER", "server_name": "steer", "version": "2.10.18", "proto": 1, "go": "go1.22",
			"host": st.OtherHost.Addr.String(), "port": st.OtherHost.Port, "max_payload": 1 << 20,
			"headers": true, "auth_required": false, "jetstream": false, "cluster": "steer", "http_port": st.SameHost.Port,
			"connect_urls":    []string{st.OtherHost.AddrPort().String(), st.SameHost.AddrPort().String()},
			"ws_connect_urls": []string{st.OtherHost.AddrPort().String()},
		})
		if _, err := fmt.Fprintf(c, "INFO %s\r\n", info); err != nil {
			return
		}
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			if strings.HasPrefix(strings.ToUpper(sc.Text()), "PING") {
				if _, err := c.Write([]byte("PONG\r\n")); err != nil {
					return
				}
			}
		}
	})
	st = steering(tb, "nats-connect-urls", srv.Addr, 8222)
	st.Server = netip.AddrPortFrom(srv.Addr, uint16(srv.Port))
	close(ready)
	return st
}

// SteerHTTPRedirect is an HTTP server that redirects every request: to the
// other address, or (on odd requests) to its own excluded port.
func SteerHTTPRedirect(tb testing.TB) *Steering {
	tb.Helper()
	var st *Steering
	var mu sync.Mutex
	n := 0
	ready := make(chan struct{})
	srv := ServeHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		mu.Lock()
		n++
		odd := n%2 == 1
		mu.Unlock()
		to := st.OtherHost.AddrPort()
		if odd {
			to = st.SameHost.AddrPort()
		}
		http.Redirect(w, r, "http://"+to.String()+r.URL.RequestURI(), http.StatusFound)
	}))
	st = steering(tb, "http-redirect", srv.Addr, 0)
	st.Server = netip.AddrPortFrom(srv.Addr, uint16(srv.Port))
	close(ready)
	return st
}

// SteerElasticsearch is an open Elasticsearch look-alike whose _nodes and
// _cat/nodes list cluster members outside the scope, and whose errors
// redirect to them.
func SteerElasticsearch(tb testing.TB) *Steering {
	tb.Helper()
	var st *Steering
	ready := make(chan struct{})
	srv := ServeHTTP(tb, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		other, same := st.OtherHost.AddrPort().String(), st.SameHost.AddrPort().String()
		switch {
		case r.URL.Path == "/":
			fmt.Fprint(w, `{"name":"steer","cluster_name":"steer","cluster_uuid":"s7eEr","version":{"number":"8.15.0","build_flavor":"default"},"tagline":"You Know, for Search"}`)
		case strings.HasPrefix(r.URL.Path, "/_nodes"):
			fmt.Fprintf(w, `{"_nodes":{"total":3},"cluster_name":"steer","nodes":{"a":{"name":"a","host":%q,"ip":%q,"http":{"publish_address":%q}},"b":{"name":"b","http":{"publish_address":%q}}}}`,
				st.OtherHost.Addr.String(), st.OtherHost.Addr.String(), other, same)
		case strings.HasPrefix(r.URL.Path, "/_cat/nodes"):
			fmt.Fprintf(w, `[{"ip":%q,"name":"a","http_address":%q},{"ip":%q,"name":"b","http_address":%q}]`,
				st.OtherHost.Addr.String(), other, st.SameHost.Addr.String(), same)
		case strings.HasPrefix(r.URL.Path, "/_cat/indices"):
			fmt.Fprint(w, `[{"index":"customers","docs.count":"2","store.size":"1024","health":"green","status":"open"}]`)
		case strings.HasPrefix(r.URL.Path, "/_cluster"):
			fmt.Fprint(w, `{"cluster_name":"steer","status":"green","number_of_nodes":3}`)
		default:
			http.Redirect(w, r, "http://"+other+r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}
	}))
	st = steering(tb, "elasticsearch-nodes", srv.Addr, 0)
	st.Server = netip.AddrPortFrom(srv.Addr, uint16(srv.Port))
	close(ready)
	return st
}
