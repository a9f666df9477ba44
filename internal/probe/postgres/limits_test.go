package postgres

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// TestLimitsFlagged: rows left unread because the sample byte budget was
// reached flag the dataset sample-truncated, and tables past MaxListed
// flag the result datasets-truncated — a limit never drops data silently.
func TestLimitsFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "trust"})
	s.Seed(t)
	probetest.SampleCutFlagged(t, func() probe.Prober { return New() }, s.Addr, s.Port)
}

// TestDatabaseCapFlagged: a server with more databases than maxDatabases
// gets the first maxDatabases (by name) listed and the result flagged
// datasets-truncated; the databases past the cap were dropped silently
// before. With fewer databases there is no flag.
func TestDatabaseCapFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "trust"})
	s.Seed(t)
	before := s.Digest(t)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	if slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Fatalf("2 databases flagged %v", res.Flags)
	}

	// "postgres" and "shop" plus maxDatabases more: the last ones by name
	// ("zz_…") are past the cap; one of them holds a table.
	var stmts []string
	for i := range maxDatabases {
		stmts = append(stmts, fmt.Sprintf("CREATE DATABASE zz_%02d", i))
	}
	s.Exec(t, "postgres", stmts...)
	last := fmt.Sprintf("zz_%02d", maxDatabases-1)
	s.Exec(t, last, `CREATE TABLE hidden (email text)`, `INSERT INTO hidden VALUES ('x@example.com')`, `ANALYZE hidden`)
	before = s.Digest(t)

	res, err = probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	if !slices.Contains(res.Flags, probe.FlagDatasetsTruncated) {
		t.Errorf("%d databases listed without %s: flags %v", maxDatabases+2, probe.FlagDatasetsTruncated, res.Flags)
	}
	dbs, _ := res.Evidence["databases"].([]string)
	if len(dbs) != maxDatabases {
		t.Errorf("databases evidence %d entries, want %d", len(dbs), maxDatabases)
	}
	for _, d := range res.Datasets {
		if strings.HasPrefix(d.Name, last+".") {
			t.Errorf("%s listed past the cap", d.Name)
		}
	}
	if after := s.Digest(t); after != before {
		t.Fatalf("dataset changed by probe:\n%s\n%s", before, after)
	}
}

// TestLongValueCutFlagged: sampled values are cut on the server to the
// per-cell share of the byte budget (left(…, n)); a value longer than
// that lost its rest without a flag. Now the dataset is flagged
// sample-truncated; short values are not.
func TestLongValueCutFlagged(t *testing.T) {
	t.Parallel()
	s := testenv.StartPostgres(t, testenv.PostgresOptions{HBA: "trust"})
	s.Exec(t, "postgres",
		`CREATE TABLE notes (id int, body text)`,
		`INSERT INTO notes VALUES (1, repeat('a', 10000) || ' jane.doe@example.com')`,
		`CREATE TABLE short (id int, body text)`,
		`INSERT INTO short VALUES (1, 'x'), (2, 'y')`,
		`ANALYZE notes`, `ANALYZE short`)
	res, err := probetest.Run(t, New(), s.Addr, s.Port)
	if err != nil || res.Status != finding.StatusExposed {
		t.Fatalf("probe: %v %+v", err, res)
	}
	flags := map[string][]string{}
	for _, d := range res.Datasets {
		flags[d.Name] = d.Flags
	}
	if !slices.Contains(flags["postgres.public.notes"], probe.FlagSampleTruncated) {
		t.Errorf("10,000-character value cut without a flag: %v", flags)
	}
	if len(flags["postgres.public.short"]) != 0 {
		t.Errorf("short values flagged: %v", flags)
	}
}
