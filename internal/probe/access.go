package probe

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// Access evidence: at every observation of an exposed store, a prober that
// can reads the store's own usage counters (read-only statistics calls) and
// counts the requests it made itself, so that a later observation can tell
// how many requests others made in between (lifecycle.ForeignAccess). The
// shape is shared by all probers and lives beside the diff in the domain
// layer; a prober stores it with Result.SetAccess under the evidence key
// "access". A store that offers no such counters gets
// {"measurable": false, "why": "..."}.
//
// Per store (see each prober's access.go for its method):
//
//	elasticsearch  _stats (search/get/indexing per index), _nodes/stats/http
//	redis          INFO stats/clients/server, CLIENT LIST
//	postgres       pg_stat_database, pg_stat_activity
//	mysql          GLOBAL_STATUS/SESSION_STATUS (Questions, Connections), PROCESSLIST
//	mongodb        serverStatus opcounters (summed) and connections.totalCreated,
//	               currentOp ($all) client addresses; FerretDB answers
//	               serverStatus without them: {"measurable": false} with why
//	clickhouse     system.events (Query, SelectQuery), system.metrics
//	               connection gauges; where system.query_log is on, others'
//	               logged queries (leakwatch's carry their own query_id) and
//	               their addresses, else system.processes client addresses; no
//	               connection counter (not offered)
//
// Every other prober records no access evidence; a finding without the
// key is "not measurable" (lifecycle.ForeignAccess returns nil for it).
type (
	// AccessEvidence is lifecycle.AccessEvidence.
	AccessEvidence = lifecycle.AccessEvidence
	// AccessClient is lifecycle.AccessClient.
	AccessClient = lifecycle.AccessClient
)

// Shared names (see lifecycle).
const (
	EvidenceAccess     = lifecycle.EvidenceAccess
	CounterQueries     = lifecycle.CounterQueries
	CounterConnections = lifecycle.CounterConnections
)

// MaxAccessClients bounds the other-client addresses kept per observation.
const MaxAccessClients = 100

// SetAccess stores the access evidence of this observation.
func (r *Result) SetAccess(a AccessEvidence) { r.AddEvidence(EvidenceAccess, a) }

// NotMeasurable is the access evidence of a store that cannot say why.
func NotMeasurable(why string) AccessEvidence { return lifecycle.NotMeasurable(why) }

// ClientTally sorts the client connections a store lists into leakwatch's
// own (by the local address and port of the env's connections) and
// others', grouped by address.
type ClientTally struct {
	own      map[netip.AddrPort]bool
	ownPorts map[uint16]bool
	others   map[string]int
	ownConns int
}

// NewClientTally makes a tally knowing env's connections so far.
func NewClientTally(env *Env) *ClientTally {
	t := &ClientTally{own: map[netip.AddrPort]bool{}, ownPorts: map[uint16]bool{}, others: map[string]int{}}
	for _, ap := range env.LocalAddrs() {
		t.own[ap] = true
		t.ownPorts[ap.Port()] = true
	}
	return t
}

// Add counts one client connection as the store names it: "ip:port",
// "[v6]:port", "host:port" (a resolved name), or a bare address. A
// connection whose address and port are one of leakwatch's own is own;
// a named host (not an address) is own when its port is.
func (t *ClientTally) Add(client string) {
	client = strings.TrimSpace(client)
	if client == "" {
		return
	}
	if ap, err := netip.ParseAddrPort(client); err == nil {
		t.AddAddrPort(netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()))
		return
	}
	host, port := client, ""
	if i := strings.LastIndexByte(client, ':'); i > 0 && !strings.Contains(client[:i], ":") {
		host, port = client[:i], client[i+1:]
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	if p, err := strconv.ParseUint(port, 10, 16); err == nil && t.ownPorts[uint16(p)] {
		if a, err := netip.ParseAddr(host); err != nil || t.own[netip.AddrPortFrom(a.Unmap(), uint16(p))] {
			t.ownConns++
			return
		}
	}
	t.others[host]++
}

// AddAddrPort counts one client connection by address and port.
func (t *ClientTally) AddAddrPort(ap netip.AddrPort) {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	if t.own[ap] {
		t.ownConns++
		return
	}
	t.others[ap.Addr().String()]++
}

// Fill writes the tally into a: other clients (most connections first, at
// most MaxAccessClients) and the number of own connections left out.
func (t *ClientTally) Fill(a *AccessEvidence) {
	a.ClientsMeasured = true
	a.OwnConnections = t.ownConns
	a.Clients = a.Clients[:0]
	for addr, n := range t.others {
		a.Clients = append(a.Clients, AccessClient{Addr: addr, Connections: n})
	}
	slices.SortFunc(a.Clients, func(x, y AccessClient) int {
		if x.Connections != y.Connections {
			return y.Connections - x.Connections
		}
		return strings.Compare(x.Addr, y.Addr)
	})
	if len(a.Clients) > MaxAccessClients {
		a.Clients, a.ClientsTruncated = a.Clients[:MaxAccessClients], true
	}
	if len(a.Clients) == 0 {
		a.Clients = nil
	}
}
