package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the MySQL/MariaDB access evidence counts.
const accessMethod = "information_schema GLOBAL_STATUS and SESSION_STATUS read in one statement, last in the probe: " +
	"queries = global Questions (statements clients sent, any client), own = this probe's session Questions " +
	"(the same count for leakwatch's own connection, the reading included) plus its closing COM_QUIT after the reading; connections = global Connections " +
	"(connection attempts), own = the connections this probe opened; clients = PROCESSLIST hosts other than " +
	"this probe's own connection (CONNECTION_ID() and local address:port); needs the PROCESS privilege to see " +
	"other users' connections"

// maxProcesslist bounds the processlist rows read.
const maxProcesslist = 1000

// readAccess reads the server's statement and connection counters and its
// processlist hosts, and stores them as the access evidence.
func (s *session) readAccess(ctx context.Context, res *probe.Result) {
	if ctx.Err() != nil {
		return
	}
	a := probe.AccessEvidence{Method: accessMethod}
	// The processlist first: the statement reading it is our own, counted
	// in the session Questions the counters' statement reads.
	if rows, err := s.db.QueryContext(ctx, s.timed(fmt.Sprintf(
		"SELECT COALESCE(HOST, ''), ID = CONNECTION_ID() FROM information_schema.PROCESSLIST LIMIT %d", maxProcesslist+1))); err == nil {
		t := probe.NewClientTally(s.env)
		n := 0
		own := 0
		for rows.Next() {
			var host string
			var self bool
			if rows.Scan(&host, &self) != nil {
				continue
			}
			n++
			switch {
			case n > maxProcesslist:
				a.ClientsTruncated = true
			case self:
				own++
			case host != "" && strings.Contains(host, ":"):
				// Background threads (event scheduler, replication) have no
				// client address and port.
				t.Add(host)
			}
		}
		rows.Close()
		truncated := a.ClientsTruncated
		t.Fill(&a)
		a.OwnConnections += own
		a.ClientsTruncated = a.ClientsTruncated || truncated
	}
	rows, err := s.db.QueryContext(ctx, s.timed(`SELECT CONCAT('global.', VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS
  WHERE VARIABLE_NAME IN ('QUESTIONS', 'CONNECTIONS', 'THREADS_CONNECTED', 'UPTIME')
UNION ALL SELECT CONCAT('session.', VARIABLE_NAME), VARIABLE_VALUE FROM information_schema.SESSION_STATUS
  WHERE VARIABLE_NAME = 'QUESTIONS'`))
	if err != nil {
		res.SetAccess(probe.NotMeasurable("status counters not readable: " + err.Error()))
		return
	}
	vals := map[string]int64{}
	for rows.Next() {
		var k string
		var v sql.NullString
		if rows.Scan(&k, &v) != nil {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(v.String), 10, 64); err == nil && n >= 0 {
			vals[strings.ToLower(k)] = n
		}
	}
	rows.Close()
	q, okQ := vals["global.questions"]
	own, okOwn := vals["session.questions"]
	if !okQ || !okOwn {
		res.SetAccess(probe.NotMeasurable("the server reports no Questions counter"))
		return
	}
	a.Measurable = true
	a.Counters = map[string]int64{probe.CounterQueries: q}
	a.Own = map[string]int64{probe.CounterQueries: own}
	// The connection's COM_QUIT, sent after the reading, counts as one
	// more question in the global total.
	a.OwnAfter = map[string]int64{probe.CounterQueries: 1}
	if c, ok := vals["global.connections"]; ok {
		a.Counters[probe.CounterConnections] = c
		a.Own[probe.CounterConnections] = int64(len(s.env.LocalAddrs()))
	}
	if n, ok := vals["global.threads_connected"]; ok {
		a.Gauges = map[string]int64{"threads_connected": n}
	}
	if n, ok := vals["global.uptime"]; ok {
		a.UptimeSeconds = &n
	}
	res.SetAccess(a)
}
