package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// hostilePostgres starts an open (trust) PostgreSQL on host:5432 whose
// databases hold tables with long incompressible names (md5s spelt in
// letters, in words of seven: names no scrubber takes for a token), each
// with cols such columns — what a hostile network sets up to make
// findings large.
func hostilePostgres(t *testing.T, net24 testenv.Net24, host byte, tables, cols int) {
	t.Helper()
	pg := testenv.StartPostgres(t, testenv.PostgresOptions{Addr: net24.Host(host), Port: 5432})
	// name is an SQL expression of an n-byte name from seed and i.
	name := func(seed string, n int) string {
		return fmt.Sprintf(`format('%%I', substr(regexp_replace(translate(md5('%s' || i) || md5('%d' || i), '0123456789', 'ghijklmnop'), '(.{7})', '\1_', 'g'), 1, %d))`, seed, host, n)
	}
	var defs []string
	for c := range cols { // field names up to 48 bytes are kept as they are
		defs = append(defs, name(fmt.Sprintf("c%d", c), 47)+" || ' text'")
	}
	create := func(db, seed string, n int) {
		pg.Exec(t, db, fmt.Sprintf(`DO $$ BEGIN
  FOR i IN 1..%d LOOP
    EXECUTE 'CREATE TABLE ' || %s || ' (' || %s || ')';
  END LOOP;
END $$`, n, name(seed, 63), strings.Join(defs, " || ', ' || ")))
	}
	pg.Exec(t, "postgres", "CREATE DATABASE lots")
	create("postgres", "t", tables)
	create("lots", "l", tables/2)
}

// TestClusterOversizedResults: a chunk whose result is far larger than
// the nats-server's max_payload (64 KiB here: three open PostgreSQL
// servers listing hundreds of tables with long random names) is sent in
// parts within the server's real limit, and a finding too large for a
// message even alone arrives reduced and flagged result-truncated —
// every finding the single-process serve records is recorded exactly
// once (one observation, one opened event, one alert), the ones that fit
// identical to serve's.
func TestClusterOversizedResults(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nats-server, 4 PostgreSQL servers and 2 processes")
	}
	net24 := testenv.Subnet24(t)
	hostilePostgres(t, net24, 10, 300, 1) // ≈ 25 KB a finding, gzip'd
	hostilePostgres(t, net24, 11, 300, 1)
	hostilePostgres(t, net24, 12, 500, 5) // ≈ 100 KB: over 64 KiB alone
	o := labOptions{Targets: []string{net24.CIDR()}, Ports: []int{5432}, Sites: []string{"dc-a"}, Chunk: 256, MaxPayload: 64 << 10}
	want, wantAlerts := baseline(t, o)
	if len(want) != 3 {
		t.Fatalf("baseline found %d findings, want the 3 PostgreSQL servers: %+v", len(want), want)
	}
	l := newClusterLab(t, o)
	l.coordinator("coord-1")
	w := l.worker("w1", "dc-a")
	st := openStore(t, l.url)
	waitSweep(t, st, 3*time.Minute)
	got, _, alerts := history(t, st)
	checkOnce(t, got, alerts)
	if alerts != wantAlerts {
		t.Errorf("%d alerts, serve %d", alerts, wantAlerts)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	truncated, cutShort := 0, 0
	for id, wnt := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("finding %s (%s) lost", id, wnt.Service)
			continue
		}
		d, err := st.GetFinding(ctx, id, store.TimelineQuery{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if last := d.Finding.Last; last != nil && !lifecycle.Complete(last) && g.Status == wnt.Status && g.Datasets <= wnt.Datasets {
			// The worker's check was cut short by the loaded target (an
			// i/o timeout listing a database): a lower bound, recorded
			// once like any other — not comparable with serve's count.
			t.Logf("finding %s: the cluster's check was cut short (%s, flags %v): %d of %d datasets", id, last.Error, last.Flags, g.Datasets, wnt.Datasets)
			if slices.Contains(last.Flags, cluster.FlagResultTruncated) {
				truncated++
			}
			cutShort++
			continue
		}
		if d.Finding.Last == nil || !slices.Contains(d.Finding.Last.Flags, cluster.FlagResultTruncated) {
			if g != wnt {
				t.Errorf("finding %s:\n cluster %+v\n  serve  %+v\n cluster flags %v error %q", id, g, wnt, d.Finding.Last.Flags, d.Finding.Last.Error)
			}
			continue
		}
		truncated++
		// Reduced, not dropped: what was proven is kept (the field lists
		// went first; datasets past a cut would be summed up in one).
		if g.Status != wnt.Status || g.Severity != wnt.Severity || g.Auth != wnt.Auth || g.Classes != wnt.Classes ||
			g.Records != wnt.Records || g.Datasets > wnt.Datasets || g.Datasets == 0 {
			t.Errorf("truncated finding %s:\n cluster %+v\n  serve  %+v", id, g, wnt)
		}
		ds := d.Finding.Last.Datasets
		if last := ds[len(ds)-1]; last.Kind == cluster.DatasetKindLeftOut {
			if !strings.Contains(last.Name, fmt.Sprintf("(%d datasets left out", wnt.Datasets-g.Datasets+1)) {
				t.Errorf("left-out dataset %+v", last)
			}
		} else if g.Datasets != wnt.Datasets {
			t.Errorf("%d of %d datasets, none left out", g.Datasets, wnt.Datasets)
		}
		for _, d := range ds {
			if len(d.Fields) != 0 {
				t.Errorf("truncated finding keeps the fields of %s", d.Name)
				break
			}
		}
	}
	if truncated != 1 && (cutShort == 0 || truncated > 1) {
		t.Errorf("%d findings truncated, want the one over the limit alone", truncated)
	}
	if n := l.results(t); n != 1 { // 256 endpoints in one chunk
		t.Errorf("%d work item results, want 1", n)
	}
	if n := l.query(t, `SELECT COUNT(*) FROM cluster_result_parts`); n != 0 {
		t.Errorf("%d result parts left after completion", n)
	}
	if log := w.logText(); !strings.Contains(log, "result sent in parts") {
		t.Errorf("no result was sent in parts:\n%s", tailString(log, 3000))
	}
}
