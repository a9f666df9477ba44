package mongodb

import (
	"context"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the MongoDB access evidence counts.
const accessMethod = "mongodb serverStatus read last in the probe: queries = opcounters query + getmore + command + " +
	"insert + update + delete (every operation the server received, any client; each counter also kept), " +
	"connections = connections.totalCreated; own = the operations and connections this probe made before the " +
	"reading (serverStatus itself is counted as own_after); gauges = connections.current; clients = currentOp " +
	"($all: idle connections too) client addresses other than this probe's own connections"

// opcounters are serverStatus.opcounters' fields, summed as queries.
var opcounters = []string{"query", "getmore", "command", "insert", "update", "delete"}

// readAccess reads the server's operation and connection counters as the
// probe's last commands. A server that refuses serverStatus, or answers
// it without opcounters (FerretDB reports only its own per-command
// metrics), gets a not-measurable statement saying which.
func readAccess(ctx context.Context, s *session, res *probe.Result) {
	if ctx.Err() != nil {
		return
	}
	lim := min(handshakeLimit, s.env.Budget.MaxResponseBytes)
	// currentOp first: one more own operation, counted before the reading.
	var clients []string
	clientsOK := false
	if doc, err := s.command(ctx, "admin", bson.D{{Key: "currentOp", Value: 1}, {Key: "$all", Value: true}}, s.env.Budget.MaxResponseBytes); err == nil {
		clients, clientsOK = currentOpClients(doc)
	}
	own := s.sent
	dials := int64(len(s.env.LocalAddrs()))
	doc, err := s.command(ctx, "admin", bson.D{{Key: "serverStatus", Value: 1}}, lim)
	if err != nil {
		res.SetAccess(probe.NotMeasurable("serverStatus: " + err.Error()))
		return
	}
	a := accessFromStatus(doc, own, dials)
	if a.Measurable && clientsOK {
		t := probe.NewClientTally(s.env)
		for _, c := range clients {
			t.Add(c)
		}
		t.Fill(&a)
	}
	res.SetAccess(a)
}

// accessFromStatus reads a serverStatus answer; own operations and dials
// are this probe's before the reading.
func accessFromStatus(doc bson.Raw, own, dials int64) probe.AccessEvidence {
	ops, ok := doc.Lookup("opcounters").DocumentOK()
	if !ok {
		why := "serverStatus has no opcounters"
		if v := stringOf(doc, "ferretdbVersion"); v != "" {
			why += " (FerretDB " + v + " reports neither opcounters nor connections)"
		}
		a := probe.NotMeasurable(why)
		a.Missing = []string{"opcounters", "connections"}
		return a
	}
	a := probe.AccessEvidence{Measurable: true, Method: accessMethod,
		Counters: map[string]int64{}, Own: map[string]int64{}, OwnAfter: map[string]int64{}}
	var sum int64
	var missing []string
	for _, k := range opcounters {
		n, ok := int64Of(ops, k)
		if !ok || n < 0 {
			missing = append(missing, "opcounters."+k)
			continue
		}
		a.Counters["op_"+k] = n
		sum += n
	}
	if len(missing) == len(opcounters) {
		a := probe.NotMeasurable("serverStatus opcounters are empty")
		a.Missing = missing
		return a
	}
	a.Counters[probe.CounterQueries] = sum
	// Every operation this probe sends is a command (find included: 3.2+
	// count it under query; before, OP_QUERY finds are queries): only the
	// sum is matched against own operations.
	a.Own[probe.CounterQueries] = own
	a.OwnAfter[probe.CounterQueries] = 1 // the serverStatus
	if conns, ok := doc.Lookup("connections").DocumentOK(); ok {
		if n, ok := int64Of(conns, "totalCreated"); ok && n >= 0 {
			a.Counters[probe.CounterConnections] = n
			a.Own[probe.CounterConnections] = dials
		} else {
			missing = append(missing, "connections.totalCreated")
		}
		if n, ok := int64Of(conns, "current"); ok && n >= 0 {
			a.Gauges = map[string]int64{"connections_current": n}
		}
	} else {
		missing = append(missing, "connections")
	}
	if n, ok := int64Of(doc, "uptime"); ok && n >= 0 {
		a.UptimeSeconds = &n
	}
	a.Missing = missing
	return a
}

// currentOpClients lists the client addresses ("ip:port") of currentOp's
// inprog entries; ok is false when the answer has no inprog array.
func currentOpClients(doc bson.Raw) (clients []string, ok bool) {
	arr, ok := doc.Lookup("inprog").ArrayOK()
	if !ok {
		return nil, false
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, false
	}
	for _, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			continue
		}
		c := stringOf(d, "client")
		if c == "" {
			c = stringOf(d, "client_s") // mongos
		}
		if c != "" && len(c) < 300 && !strings.ContainsAny(c, " \n") {
			clients = append(clients, c)
		}
	}
	return clients, true
}
