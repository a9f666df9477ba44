package postgres

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the PostgreSQL access evidence counts.
const accessMethod = "pg_stat_database summed over all databases, read last in the probe on a fresh session once " +
	"the probe's other sessions have ended (so their statistics are flushed): queries = xact_commit + xact_rollback " +
	"(transactions; each statement leakwatch sends is one), connections = sessions; own = the statements and " +
	"sessions this probe made (the session's start transaction included), own_after = the reading session's; " +
	"clients = pg_stat_activity client backends other than leakwatch's own (local address:port, backend pid). " +
	"Limits: the statistics collector counts a client's transactions when it goes idle or disconnects " +
	"(at most ~1s late for an active one, so some may fall into the next interval), and background workers' " +
	"transactions (autovacuum) count too"

// initXacts is the transactions a session counts before its first
// statement (the backend's start-up catalog transaction).
const initXacts = 1

// ownCount traces the statements of the probe's pgx sessions.
type ownCount struct {
	mu         sync.Mutex
	statements int64
	sessions   int64
	pids       []uint32
}

// TraceQueryStart counts a transaction per statement sent outside a
// transaction block (an implicit transaction, or the BEGIN of a block);
// statements inside a block, and its ROLLBACK/COMMIT, are that one
// transaction.
func (o *ownCount) TraceQueryStart(ctx context.Context, c *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if c != nil && c.PgConn().TxStatus() != 'I' {
		return ctx
	}
	o.mu.Lock()
	o.statements++
	o.mu.Unlock()
	return ctx
}

func (o *ownCount) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (o *ownCount) connected(c *pgx.Conn) {
	o.mu.Lock()
	o.sessions++
	o.pids = append(o.pids, c.PgConn().PID())
	o.mu.Unlock()
}

func (o *ownCount) snapshot() (statements, sessions int64, pids []uint32) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.statements, o.sessions, slices.Clone(o.pids)
}

// maxActivity bounds the pg_stat_activity rows read.
const maxActivity = 1000

// readAccess reads the server's transaction and session counters and its
// client backends on a session of its own, and stores them as the access
// evidence.
func readAccess(ctx context.Context, res *probe.Result, s *session) {
	if ctx.Err() != nil || s.own == nil {
		return
	}
	// The start-up probe's session counts too (it logged in and left).
	stmts, sessions, pids := s.own.snapshot()
	conn, err := s.connect(ctx, s.database)
	if err != nil {
		res.SetAccess(probe.NotMeasurable("no session for the statistics: " + err.Error()))
		return
	}
	defer conn.Close(ctx)
	a := probe.AccessEvidence{Method: accessMethod}
	// Wait (briefly) for the probe's earlier sessions to end: a backend
	// flushes its statistics before it leaves pg_stat_activity.
	polls := int64(0)
	for deadline := time.Now().Add(2 * time.Second); ; {
		var n int
		polls++
		err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", pids).Scan(&n)
		if err != nil || n == 0 || time.Now().After(deadline) {
			if n > 0 {
				a.Why = "some of leakwatch's own sessions had not ended at the reading"
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var xacts, sess, tupReturned, tupFetched, uptime *int64
	err = conn.QueryRow(ctx, `SELECT sum(xact_commit + xact_rollback)::bigint, sum(sessions)::bigint,
  sum(tup_returned)::bigint, sum(tup_fetched)::bigint,
  extract(epoch FROM now() - pg_postmaster_start_time())::bigint
FROM pg_stat_database`).Scan(&xacts, &sess, &tupReturned, &tupFetched, &uptime)
	if err != nil || xacts == nil {
		res.SetAccess(probe.NotMeasurable(fmt.Sprintf("pg_stat_database not readable: %v", err)))
		return
	}
	a.Measurable = true
	// The start-up probe (one session, no statement) plus the pgx sessions.
	a.Counters = map[string]int64{probe.CounterQueries: *xacts}
	a.Own = map[string]int64{probe.CounterQueries: stmts + initXacts*(sessions+1)}
	// The reading session: its start, its polls, the reading itself and the
	// client list after it.
	a.OwnAfter = map[string]int64{probe.CounterQueries: initXacts + polls + 2}
	if sess != nil {
		a.Counters[probe.CounterConnections] = *sess
		a.Own[probe.CounterConnections] = sessions + 1
		a.OwnAfter[probe.CounterConnections] = 1
	} else {
		a.Missing = append(a.Missing, "pg_stat_database.sessions")
	}
	if tupReturned != nil && tupFetched != nil {
		// Rows read by scans and fetched by index: leakwatch's own sample
		// reads are in them and not subtracted (reported, not diffed).
		a.Gauges = map[string]int64{"tup_returned": *tupReturned, "tup_fetched": *tupFetched}
	}
	a.UptimeSeconds = uptime
	readClients(ctx, conn, s, &a)
	res.SetAccess(a)
}

// readClients tallies pg_stat_activity's client backends by address,
// leaving out leakwatch's own (the reading session and any other of ours
// still listed).
func readClients(ctx context.Context, conn *pgx.Conn, s *session, a *probe.AccessEvidence) {
	_, _, pids := s.own.snapshot()
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT host(client_addr), COALESCE(client_port, -1), pid
FROM pg_stat_activity WHERE backend_type = 'client backend' LIMIT %d`, maxActivity+1))
	if err != nil {
		return
	}
	defer rows.Close()
	t := probe.NewClientTally(s.env)
	own, n := 0, 0
	for rows.Next() {
		var host *string
		var port int32
		var pid uint32
		if rows.Scan(&host, &port, &pid) != nil {
			continue
		}
		n++
		switch {
		case n > maxActivity:
			a.ClientsTruncated = true
		case slices.Contains(pids, pid):
			own++
		case host == nil:
			t.Add("local") // a unix-socket client
		default:
			if addr, err := netip.ParseAddr(*host); err == nil && port >= 0 {
				t.AddAddrPort(netip.AddrPortFrom(addr, uint16(port)))
			} else {
				t.Add(*host)
			}
		}
	}
	truncated := a.ClientsTruncated
	t.Fill(a)
	a.OwnConnections += own
	a.ClientsTruncated = a.ClientsTruncated || truncated
}
