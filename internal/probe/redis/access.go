package redis

import (
	"context"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// accessMethod says what the Redis access evidence counts.
const accessMethod = "redis INFO (stats, clients, server) read last in the probe: queries = total_commands_processed " +
	"(every command the server ran, any client), connections = total_connections_received; own = the commands and " +
	"connections this probe made before the reading (INFO itself is counted after it, as own_after); " +
	"clients = CLIENT LIST addresses other than this probe's own connections (matched by local address and port)"

// readAccess reads the server's command and connection counters and its
// client list, as the probe's last commands, and stores them as the
// access evidence. A server that refuses them (ACLs, renamed commands)
// gets a not-measurable statement.
func readAccess(ctx context.Context, s *session, env *probe.Env, res *probe.Result) {
	if ctx.Err() != nil {
		return
	}
	lim := limits{maxBytes: env.Budget.MaxResponseBytes, maxElems: 16, maxDepth: 2}
	a := probe.AccessEvidence{Method: accessMethod}
	// CLIENT LIST first: it is one more command of ours, counted before
	// the INFO that reads the counters.
	if v, err := s.do(ctx, lim, "CLIENT", "LIST"); err == nil && !v.isError() {
		fillClients(&a, probe.NewClientTally(env), v.text())
	}
	own := s.sent // commands before INFO, CLIENT LIST included
	iv, err := s.do(ctx, lim, "INFO")
	if err != nil || iv.isError() {
		why := "INFO refused"
		if err != nil {
			why = "INFO: " + err.Error()
		}
		res.SetAccess(probe.NotMeasurable(why))
		return
	}
	in := parseInfo(iv.text())
	q, okQ := counter(in, "total_commands_processed")
	c, okC := counter(in, "total_connections_received")
	if !okQ {
		res.SetAccess(probe.NotMeasurable("INFO has no total_commands_processed"))
		return
	}
	a.Measurable = true
	a.Counters = map[string]int64{probe.CounterQueries: q}
	a.Own = map[string]int64{probe.CounterQueries: own}
	a.OwnAfter = map[string]int64{probe.CounterQueries: 1} // the INFO
	if okC {
		a.Counters[probe.CounterConnections] = c
		a.Own[probe.CounterConnections] = int64(len(env.LocalAddrs()))
	} else {
		a.Missing = append(a.Missing, "total_connections_received")
	}
	if n, ok := counter(in, "connected_clients"); ok {
		a.Gauges = map[string]int64{"connected_clients": n}
	}
	if n, ok := counter(in, "uptime_in_seconds"); ok {
		a.UptimeSeconds = &n
	}
	res.SetAccess(a)
}

// counter reads a non-negative INFO integer.
func counter(in info, key string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(in[key]), 10, 64)
	return n, err == nil && n >= 0
}

// fillClients tallies the addr= field of each CLIENT LIST line (one line
// per connection: "id=3 addr=127.0.0.1:50712 laddr=... fd=8 name= ...").
func fillClients(a *probe.AccessEvidence, t *probe.ClientTally, list string) {
	for _, line := range strings.Split(list, "\n") {
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "addr="); ok {
				t.Add(v)
				break
			}
		}
	}
	t.Fill(a)
}
