package mongodb

import (
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestAccessNotMeasurableOnFerretDB: FerretDB answers serverStatus
// without opcounters or connections (checked on v1.24: host, version,
// uptime, metrics.commands, catalogStats). The access evidence says it
// cannot be measured and why, names what is missing, and two such
// readings give a not-measurable delta, never a number; the probe writes
// nothing.
func TestAccessNotMeasurableOnFerretDB(t *testing.T) {
	s := testenv.StartFerret(t, testenv.FerretOptions{})
	s.Seed(t)
	unchanged := probetest.Unchanged(t, s.Digest)
	var fs []*finding.Finding
	for range 2 {
		f := probetest.AccessFinding(t, New(), s.Addr, s.Port)
		a := lifecycle.ParseAccess(f)
		if a == nil || a.Measurable || !strings.Contains(a.Why, "opcounters") || !strings.Contains(a.Why, "FerretDB") ||
			len(a.Missing) != 2 {
			t.Fatalf("access evidence %+v", a)
		}
		fs = append(fs, f)
	}
	d := lifecycle.ForeignAccess(fs[0], fs[1], false)
	if d == nil || d.Measurable || d.ForeignQueries != nil || d.Seen() {
		t.Errorf("delta %+v", d)
	}
	unchanged()
}

// serverStatus is the part of a mongod answer the evidence reads.
func serverStatus(query, command, conns int64) bson.Raw {
	b, err := bson.Marshal(bson.D{
		{Key: "host", Value: "db1"}, {Key: "uptime", Value: 3600.5},
		{Key: "connections", Value: bson.D{{Key: "current", Value: int32(3)}, {Key: "totalCreated", Value: conns}}},
		{Key: "opcounters", Value: bson.D{{Key: "insert", Value: int64(5)}, {Key: "query", Value: query},
			{Key: "update", Value: int64(1)}, {Key: "delete", Value: int64(0)}, {Key: "getmore", Value: int64(2)},
			{Key: "command", Value: command}}},
		{Key: "ok", Value: 1.0},
	})
	if err != nil {
		panic(err)
	}
	return b
}

// TestAccessFromServerStatus: a mongod serverStatus (no mongod binary in
// this environment: the document is built here in mongod's shape) gives
// queries = the opcounters' sum and connections = totalCreated; between
// two readings, this probe's own operations (before the reading, plus the
// previous serverStatus) are subtracted, so 25 finds and 25 commands by
// another client show as 50 foreign queries and its one connection as 1.
func TestAccessFromServerStatus(t *testing.T) {
	a1 := accessFromStatus(serverStatus(10, 100, 7), 12, 1)
	if !a1.Measurable || a1.Counters[probe.CounterQueries] != 118 || a1.Counters[probe.CounterConnections] != 7 ||
		a1.Own[probe.CounterQueries] != 12 || a1.OwnAfter[probe.CounterQueries] != 1 || *a1.UptimeSeconds != 3600 ||
		a1.Gauges["connections_current"] != 3 || len(a1.Missing) != 0 {
		t.Fatalf("first reading %+v", a1)
	}
	// Ours: 12 before the reading, 1 serverStatus after; theirs: 25 + 25.
	a2 := accessFromStatus(serverStatus(10+25, 100+25+12+1, 7+1+1), 12, 1)
	now := time.Now().UTC()
	f1 := &finding.Finding{Evidence: map[string]any{probe.EvidenceAccess: a1}, ObservedAt: now.Add(-time.Hour)}
	f2 := &finding.Finding{Evidence: map[string]any{probe.EvidenceAccess: a2}, ObservedAt: now}
	d := lifecycle.ForeignAccess(f1, f2, false)
	if !d.Measurable || *d.ForeignQueries != 50 || *d.ForeignConnections != 1 {
		t.Errorf("delta %s %+v", d.Summary(), d.Counters)
	}

	var missing bson.Raw
	missing, _ = bson.Marshal(bson.D{{Key: "host", Value: "x"}, {Key: "ferretdbVersion", Value: "v1.24.2"}, {Key: "ok", Value: 1.0}})
	if a := accessFromStatus(missing, 3, 1); a.Measurable || !strings.Contains(a.Why, "FerretDB v1.24.2") {
		t.Errorf("no opcounters: %+v", a)
	}
}

// TestCurrentOpClients reads inprog client addresses, mongos' client_s,
// and skips entries without one.
func TestCurrentOpClients(t *testing.T) {
	doc, _ := bson.Marshal(bson.D{{Key: "inprog", Value: bson.A{
		bson.D{{Key: "client", Value: "127.0.0.9:50123"}},
		bson.D{{Key: "desc", Value: "WTCheckpointThread"}},
		bson.D{{Key: "client_s", Value: "10.0.0.1:4000"}},
	}}, {Key: "ok", Value: 1.0}})
	got, ok := currentOpClients(doc)
	if !ok || strings.Join(got, ",") != "127.0.0.9:50123,10.0.0.1:4000" {
		t.Errorf("clients %v %v", got, ok)
	}
	if _, ok := currentOpClients(bson.Raw(mustMarshal(bson.D{{Key: "ok", Value: 1.0}}))); ok {
		t.Error("no inprog read as measured")
	}
}

func mustMarshal(d bson.D) []byte {
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}
