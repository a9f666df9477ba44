package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/store/storetest"
)

// seedHistory records an open → closed → reopened redis and an open
// elasticsearch into a fresh SQLite history.
func seedHistory(t *testing.T) (db string, redis, es storetest.Fixture) {
	t.Helper()
	db = filepath.Join(t.TempDir(), "lw.db")
	s, err := sqlite.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	redis = storetest.NewFixture("127.0.0.5", 6379)
	es = storetest.NewFixture("127.0.0.6", 9200)
	es.Service = "elasticsearch"
	t0 := storetest.T0
	m := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Minute) }
	for _, r := range []struct {
		scan string
		fx   storetest.Fixture
		kind string
		at   time.Time
	}{
		{"s1", redis, "exposed", m(0)},
		{"s1", es, "exposed", m(0)},
		{"s2", redis, "gone", m(10)},
		{"s3", redis, "protected", m(20)},
		{"s4", redis, "exposed", m(30)},
		{"s4", es, "exposed", m(30)},
	} {
		obs := r.fx.Exposed(r.at, "email", map[string]int64{"users": 2400})
		switch r.kind {
		case "gone":
			obs = r.fx.Gone(r.at)
		case "protected":
			obs = r.fx.Protected(r.at)
		}
		if _, err := s.RecordObservation(context.Background(), r.scan, obs); err != nil {
			t.Fatal(err)
		}
	}
	return db, redis, es
}

func TestFindingsCommand(t *testing.T) {
	db, redis, es := seedHistory(t)
	code, out, errOut := runCLI(t, "", "findings", "--db", db)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ID", "FIRST SEEN", "LAST SEEN OPEN", "CLOSED AT", redis.ID(), "reopened", es.ID(),
		"127.0.0.5:6379", "2026-11-28 15:00:00Z", "2026-11-28 15:30:00Z", "2,400", "email"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", "findings", "--db", db, "--status", "all", "--format", "jsonl")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("exit %d, %d lines:\n%s", code, len(lines), out)
	}
	var l findingLine
	if err := json.Unmarshal([]byte(lines[0]), &l); err != nil {
		t.Fatal(err)
	}
	if l.Schema != FindingStateSchema || l.Records != 2400 || l.FirstSeen.IsZero() || l.Observations == 0 {
		t.Errorf("jsonl line %+v", l)
	}
	code, out, _ = runCLI(t, "", "findings", "--db", db, "--status", "closed")
	if code != 0 || strings.TrimSpace(out) != "no findings" {
		t.Errorf("closed: exit %d\n%s", code, out)
	}
	for _, args := range [][]string{
		{"findings", "--db", db, "--status", "bogus"},
		{"findings", "--db", db, "--format", "xml"},
		{"findings", "--db", db, "--store", "postgres://127.0.0.1/x"},
		{"findings", "--db", db, "extra"},
	} {
		if code, _, errOut := runCLI(t, "", args...); code != exitUsage || errOut == "" {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.db")
	if code, _, errOut := runCLI(t, "", "findings", "--db", missing); code != exitFailed || !strings.Contains(errOut, "no history") {
		t.Errorf("missing db: exit %d %q", code, errOut)
	}
}

func TestShowCommand(t *testing.T) {
	db, redis, _ := seedHistory(t)
	code, out, errOut := runCLI(t, "", "show", "--db", db, redis.ID()[:8])
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	order := []string{
		"Finding " + redis.ID(), "Status:         reopened", "First seen:     2026-11-28 15:00:00Z",
		"2026-11-28 15:00:00Z  check  exposed", "EVENT  OPENED", "opened: redis on 127.0.0.5:6379",
		"2026-11-28 15:10:00Z  check  gone", "connection refused",
		"2026-11-28 15:20:00Z  check  protected", "EVENT  CLOSED", "after 2 checks",
		"2026-11-28 15:30:00Z  check  exposed", "EVENT  REOPENED",
	}
	rest := out
	for _, want := range order {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("timeline lacks %q (in order):\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
	code, out, _ = runCLI(t, "", "show", "--db", db, "--format", "json", redis.ID())
	var d store.FindingDetail
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil || len(d.Timeline) != 7 {
		t.Errorf("json: exit %d, %d entries", code, len(d.Timeline))
	}
	if code, _, errOut := runCLI(t, "", "show", "--db", db, "ffffffffff"); code != exitUsage || !strings.Contains(errOut, "no finding") {
		t.Errorf("unknown id: exit %d %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "show", "--db", db); code != exitUsage {
		t.Errorf("no id: exit %d", code)
	}
}
