package clickhouse

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the ClickHouse access evidence counts.
const accessMethod = "clickhouse system.events read last in the probe over HTTP: queries = Query (every query the server " +
	"started, any client and interface, this reading included), select_queries = SelectQuery, insert_queries = InsertQuery; " +
	"own = the queries this probe sent up to and including the reading; gauges = system.metrics HTTPConnection and " +
	"TCPConnection (open connections, leakwatch's own included); clients = addresses of other clients' queries running " +
	"at the reading (system.processes; idle connections are not listed). system.query_log is not read: it is off by " +
	"default and flushed late; connections accepted are not counted by this server"

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
	// system.processes first: one more own query, counted before the
	// reading below.
	if procs, err := c.rows(ctx, processesSQL, nil, c.env.Budget.MaxResponseBytes); err == nil {
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
	a.Missing = []string{probe.CounterConnections}
	res.SetAccess(a)
}
