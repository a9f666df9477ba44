package clickhouse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the ClickHouse access evidence counts.
const accessMethod = "clickhouse system.events read last in the probe over HTTP: queries = Query (every query the server " +
	"started, any client and interface, this reading included), select_queries = SelectQuery, insert_queries = InsertQuery; " +
	"own = the queries this probe sent up to and including the reading; gauges = system.metrics HTTPConnection and " +
	"TCPConnection (open connections, leakwatch's own included); clients = addresses of other clients' queries running " +
	"at the reading (system.processes; idle connections are not listed); connections accepted are not counted by this server"

// accessMethodLog is added where system.query_log is on and readable.
const accessMethodLog = "; where system.query_log is on (log_queries): logged_queries_others = initial queries started " +
	"(QueryStart) whose query_id is not leakwatch's (every leakwatch query carries a query_id starting " + idPrefixBase +
	"; a client may forge one), counted as the log was flushed (up to flush_interval_milliseconds late, then in the next " +
	"interval); clients = addresses of those queries in the last 10 minutes, connections = their distinct client ports"

// idPrefixBase starts every leakwatch query_id.
const idPrefixBase = "leakwatch-"

// newIDPrefix is this probe's query_id prefix: idPrefixBase, a random
// token, and a dash (the query number follows).
func newIDPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return idPrefixBase + hex.EncodeToString(b) + "-"
}

// queryLogCountSQL counts the logged initial queries that are not
// leakwatch's; queryLogClientsSQL lists their recent client addresses.
const (
	queryLogCountSQL = `SELECT count() AS n FROM system.query_log
WHERE type = 1 AND is_initial_query AND NOT startsWith(query_id, '` + idPrefixBase + `') FORMAT JSONEachRow`
	queryLogClientsSQL = `SELECT IPv6NumToString(address) AS address, uniqExact(port) AS ports FROM system.query_log
WHERE type = 1 AND is_initial_query AND NOT startsWith(query_id, '` + idPrefixBase + `') AND event_time > now() - 600
GROUP BY address ORDER BY ports DESC, address LIMIT 1000 FORMAT JSONEachRow`
)

// accessSQL reads the counters, the uptime and the connection gauges in
// one query, so that the reading counts itself exactly once.
const accessSQL = `SELECT event AS k, value AS v FROM system.events WHERE event IN ('Query', 'SelectQuery', 'InsertQuery')
UNION ALL SELECT concat('metric:', metric) AS k, toUInt64(greatest(value, 0)) AS v FROM system.metrics WHERE metric IN ('HTTPConnection', 'TCPConnection')
UNION ALL SELECT 'uptime' AS k, toUInt64(uptime()) AS v
FORMAT JSONEachRow`

// processesSQL lists the queries running now, by client address and port.
const processesSQL = `SELECT address, port FROM system.processes LIMIT 1000 FORMAT JSONEachRow`

// readAccess reads the server's query counters as the probe's last
// queries and stores them as the access evidence; a server that refuses
// (no access to system tables) gets a not-measurable statement.
func (c *client) readAccess(ctx context.Context, res *probe.Result) {
	if ctx.Err() != nil {
		return
	}
	a := probe.AccessEvidence{Method: accessMethod}
	// system.query_log where on and readable, else system.processes,
	// before the reading below (own queries counted before it).
	logged, loggedOK := c.queryLog(ctx, &a)
	if loggedOK {
		a.Method += accessMethodLog
	} else if procs, err := c.rows(ctx, processesSQL, nil, c.env.Budget.MaxResponseBytes); err == nil {
		t := probe.NewClientTally(c.env)
		for _, p := range procs {
			addr, err := netip.ParseAddr(str(p, "address"))
			port, ok := num(p, "port")
			if err != nil || !ok || port < 0 || port > 65535 {
				continue
			}
			t.AddAddrPort(netip.AddrPortFrom(addr.Unmap(), uint16(port)))
		}
		t.Fill(&a)
	}
	rows, err := c.rows(ctx, accessSQL, nil, 64<<10)
	own := c.own // the reading included: Query counts a query when it starts
	if err != nil {
		res.SetAccess(probe.NotMeasurable("system.events: " + err.Error()))
		return
	}
	vals := map[string]int64{}
	for _, r := range rows {
		if n, ok := num(r, "v"); ok && n >= 0 {
			vals[str(r, "k")] = n
		}
	}
	q, ok := vals["Query"]
	if !ok {
		res.SetAccess(probe.NotMeasurable(fmt.Sprintf("system.events has no Query counter (%d rows read)", len(rows))))
		return
	}
	a.Measurable = true
	a.Counters = map[string]int64{probe.CounterQueries: q}
	a.Own = map[string]int64{probe.CounterQueries: own}
	// Every query this probe sends is a SELECT.
	if n, ok := vals["SelectQuery"]; ok {
		a.Counters["select_queries"], a.Own["select_queries"] = n, own
	}
	// InsertQuery starts at 0 and appears once an insert ran.
	a.Counters["insert_queries"], a.Own["insert_queries"] = vals["InsertQuery"], 0
	for _, m := range []string{"HTTPConnection", "TCPConnection"} {
		if n, ok := vals["metric:"+m]; ok {
			if a.Gauges == nil {
				a.Gauges = map[string]int64{}
			}
			a.Gauges[m] = n
		}
	}
	if n, ok := vals["uptime"]; ok {
		a.UptimeSeconds = &n
	}
	if loggedOK {
		a.Counters["logged_queries_others"], a.Own["logged_queries_others"] = logged, 0
	}
	a.Missing = []string{probe.CounterConnections}
	res.SetAccess(a)
}

// queryLog reads the count of others' logged queries and fills a's
// clients from their recent addresses; ok is false where the query log is
// off, not readable, or does not answer.
func (c *client) queryLog(ctx context.Context, a *probe.AccessEvidence) (n int64, ok bool) {
	rows, err := c.rows(ctx, queryLogCountSQL, nil, 4096)
	if err != nil || len(rows) != 1 {
		return 0, false
	}
	if n, ok = num(rows[0], "n"); !ok || n < 0 {
		return 0, false
	}
	clients, err := c.rows(ctx, queryLogClientsSQL, nil, c.env.Budget.MaxResponseBytes)
	if err != nil {
		return n, true
	}
	// Ordered by ports, most first, on the server.
	a.ClientsMeasured, a.Clients = true, nil
	for _, r := range clients {
		addr, err := netip.ParseAddr(str(r, "address"))
		ports, okP := num(r, "ports")
		if err != nil || !okP || ports <= 0 {
			continue
		}
		if len(a.Clients) == probe.MaxAccessClients {
			a.ClientsTruncated = true
			break
		}
		a.Clients = append(a.Clients, probe.AccessClient{Addr: addr.Unmap().String(), Connections: int(min(ports, 1<<16))})
	}
	return n, true
}
