package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/leakwatch/leakwatch/internal/cluster"
)

// TestClusterStatusInFlightParts: `leakwatch cluster status` (table and
// --json) and GET /api/v1/cluster's reader show each worker's items in
// flight from its heartbeat (an older heartbeat without the field as 0)
// and the result-part sets left incomplete in PostgreSQL with the oldest
// one's age (real nats-server and PostgreSQL; no members run).
func TestClusterStatusInFlightParts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, js, names, db, kv := statusLab(ctx, t)
	now := time.Now().UTC()
	busy, _ := json.Marshal(cluster.Heartbeat{Name: "busy", Sites: []string{"dc-a"}, At: now, WorkerStats: cluster.WorkerStats{Items: 5, InFlight: 2}})
	for k, v := range map[string]string{
		"busy": string(busy),
		"old":  `{"name":"old","sites":["dc-a"],"at":"` + now.Format(time.RFC3339) + `","items":7}`,
		// Anyone with NATS access can write a heartbeat: terminal
		// controls in it must reach the terminal as visible text.
		"evil": `{"name":"ev\u001b[31mil","sites":["dc-\u001b]0;pwned\u0007a"],"at":"` + now.Format(time.RFC3339) + `"}`,
	} {
		if _, err := kv.Put(ctx, k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	// Two parts of one attempt (a set of 3) that arrived 90s ago and one
	// part of another item's: two incomplete sets.
	if _, err := db.Exec(ctx, `INSERT INTO cluster_result_parts (item_id, attempt, part, parts, body, received_at) VALUES
		('run/0/dc-a', 1, 0, 3, 'x', now() - interval '90 seconds'), ('run/0/dc-a', 1, 1, 3, 'x', now() - interval '80 seconds'),
		('run/64/dc-a', 2, 0, 2, 'x', now())`); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		var out syncBuf
		a := &app{stdin: strings.NewReader(""), stdout: &out, stderr: &out}
		if code := a.run(ctx, append([]string{"cluster", "status", "--config", l.file}, args...)); code != exitOK {
			t.Fatalf("cluster status %v: exit %d\n%s", args, code, out.String())
		}
		return out.String()
	}
	table := run()
	if strings.ContainsAny(table, "\x1b\x07") {
		t.Errorf("cluster status wrote terminal controls from a heartbeat:\n%q", table)
	}
	for _, re := range []string{
		`(?m)^incomplete parts:\s+2 \(oldest 1m(29|[3-5]\d)s\)$`,
		`(?m)^WORKER\s+SITE\s+IN FLIGHT\s+ITEMS\s`,
		`(?m)^busy\s+dc-a\s+2\s+5\s`,
		`(?m)^old\s+dc-a\s+0\s+7\s`,
	} {
		if !regexp.MustCompile(re).MatchString(table) {
			t.Errorf("cluster status: no line matching %s in\n%s", re, table)
		}
	}

	type worker struct {
		Name     string `json:"name"`
		InFlight *int64 `json:"in_flight"`
	}
	type status struct {
		Workers    []worker `json:"workers"`
		Incomplete *int64   `json:"incomplete_part_sets"`
		Oldest     float64  `json:"oldest_incomplete_part_set_seconds"`
	}
	check := func(what string, b []byte) {
		t.Helper()
		var st status
		if err := json.Unmarshal(b, &st); err != nil {
			t.Fatalf("%s: %v\n%s", what, err, b)
		}
		got := map[string]int64{}
		for _, w := range st.Workers {
			if w.InFlight != nil && (w.Name == "busy" || w.Name == "old") {
				got[w.Name] = *w.InFlight
			}
		}
		if len(got) != 2 || got["busy"] != 2 || got["old"] != 0 {
			t.Errorf("%s: workers' in_flight %v\n%s", what, got, b)
		}
		if st.Incomplete == nil || *st.Incomplete != 2 || st.Oldest < 89 || st.Oldest > 600 {
			t.Errorf("%s: incomplete part sets %v, oldest %.1fs\n%s", what, st.Incomplete, st.Oldest, b)
		}
	}
	check("--json", []byte(run("--json")))
	s := &server{cluster: &clusterParts{js: js, db: db, names: names}}
	v, err := s.clusterStatus()(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v) // what GET /api/v1/cluster answers
	if err != nil {
		t.Fatal(err)
	}
	check("API", b)
}

// statusLab is a cluster lab with no members running: its streams set up,
// the coordinator's tables migrated, and the workers bucket to write
// heartbeats into (real nats-server and PostgreSQL).
func statusLab(ctx context.Context, t *testing.T) (*clusterLab, jetstream.JetStream, cluster.Names, *pgxpool.Pool, jetstream.KeyValue) {
	t.Helper()
	l := newClusterLab(t, labOptions{Targets: []string{"127.0.0.1"}, Ports: []int{6379}, Sites: []string{"dc-a"}})
	js := l.js(t)
	names := cluster.Names{Prefix: "LEAKWATCH"}
	if err := cluster.Setup(ctx, js, names); err != nil {
		t.Fatal(err)
	}
	db, err := pgxpool.New(ctx, l.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	if err := cluster.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(ctx, names.WorkersBucket())
	if err != nil {
		t.Fatal(err)
	}
	return l, js, names, db, kv
}
