package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
)

const findingsUsage = `Usage: leakwatch findings [flags]

Lists the findings in the history that 'leakwatch serve' keeps: every data
store that was seen exposed, with its lifecycle status (open, changed,
closed, reopened), when it was first seen, last seen open and closed.

Flags:
`

// storeFlags are shared by the commands that read the history.
type storeFlags struct {
	db    string
	store string
}

func (sf *storeFlags) register(fs *pflag.FlagSet) {
	def, err := storeopen.DefaultPath()
	if err != nil {
		def = ""
	}
	fs.StringVar(&sf.db, "db", def, "SQLite history file (env "+storeopen.EnvDB+" overrides the default)")
	fs.StringVar(&sf.store, "store", "", "history store URL instead of --db (postgres://user@127.0.0.1/leakwatch)")
}

// open opens the history for reading; a missing SQLite file is an error,
// not a new empty database.
func (sf *storeFlags) open(ctx context.Context, set *pflag.FlagSet) (store.Store, error) {
	spec := sf.store
	switch {
	case spec != "" && set.Changed("db"):
		return nil, usagef("--db and --store are exclusive")
	case spec == "" && !set.Changed("db") && os.Getenv(storeopen.EnvDB) != "":
		spec = os.Getenv(storeopen.EnvDB)
	case spec == "":
		spec = sf.db
	}
	if spec == "" {
		return nil, usagef("no history store: pass --db PATH or --store URL")
	}
	if !storeopen.IsPostgres(spec) {
		path := strings.TrimPrefix(spec, "sqlite:")
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no history at %s (run 'leakwatch serve' first, or pass --db/--store)", path)
		}
	}
	return storeopen.Open(ctx, spec, store.Options{})
}

func (a *app) findings(ctx context.Context, args []string) error {
	var (
		sf       storeFlags
		status   string
		format   string
		scope    string
		severity string
		limit    int
	)
	fs := pflag.NewFlagSet("findings", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sf.register(fs)
	fs.StringVar(&status, "status", "open", "open (open, changed, reopened), closed, out-of-scope, or all")
	fs.StringVar(&format, "format", "table", "table or jsonl")
	fs.StringVar(&scope, "scope", "", "only findings of this scope")
	fs.StringVar(&severity, "min-severity", "", "only findings at least this severe (low, medium, high, critical)")
	fs.IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("findings: %v (see 'leakwatch findings --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, findingsUsage+flagUsages(fs))
		return errHelp
	}
	if fs.NArg() > 0 {
		return usagef("findings: unexpected argument %q", fs.Arg(0))
	}
	flt := store.FindingFilter{Scope: scope, Limit: limit}
	switch status {
	case "open":
		flt.Status = store.FilterOpen
	case "closed":
		flt.Status = store.FilterClosed
	case "out-of-scope":
		flt.Status = store.FilterOutOfScope
	case "all":
	default:
		return usagef("findings: --status %q: want open, closed, out-of-scope or all", status)
	}
	if severity != "" {
		sev := finding.Severity(severity)
		if sev.Rank() == 0 && sev != finding.SeverityInfo {
			return usagef("findings: --min-severity %q: want info, low, medium, high or critical", severity)
		}
		flt.MinSeverity = sev
	}
	if format != "table" && format != "jsonl" {
		return usagef("findings: --format %q: want table or jsonl", format)
	}
	st, err := sf.open(ctx, fs)
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.ListFindings(ctx, flt)
	if err != nil {
		return err
	}
	if format == "jsonl" {
		return writeFindingsJSONL(a.stdout, list)
	}
	return writeFindingsTable(a.stdout, list)
}

// findingLine is one line of `findings --format jsonl`.
type findingLine struct {
	Schema       string            `json:"schema"`
	ID           string            `json:"id"`
	Status       lifecycle.Status  `json:"status"`
	Severity     finding.Severity  `json:"severity"`
	Scope        string            `json:"scope,omitempty"`
	Target       finding.Target    `json:"target"`
	Service      string            `json:"service"`
	FirstSeen    time.Time         `json:"first_seen"`
	LastSeen     time.Time         `json:"last_seen"`
	LastSeenOpen time.Time         `json:"last_seen_open"`
	ChangedAt    *time.Time        `json:"changed_at"`
	ClosedAt     *time.Time        `json:"closed_at"`
	ReopenCount  int               `json:"reopen_count"`
	Observations int               `json:"observations"`
	Records      int64             `json:"records"`
	Classes      []string          `json:"classes"`
	Last         *finding.Finding  `json:"last_finding,omitempty"`
	Closing      []lifecycle.Proof `json:"closing,omitempty"`
}

// FindingStateSchema tags the lines of `findings --format jsonl`.
const FindingStateSchema = "leakwatch.finding-state/v1"

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func writeFindingsJSONL(w io.Writer, list []store.Finding) error {
	for _, f := range list {
		l := findingLine{
			Schema: FindingStateSchema, ID: f.ID, Status: f.Status, Severity: f.Severity, Scope: f.Scope,
			Target: f.Target, Service: f.Service, FirstSeen: f.FirstSeen, LastSeen: f.LastSeen,
			LastSeenOpen: f.LastSeenOpen, ChangedAt: optTime(f.ChangedAt), ClosedAt: optTime(f.ClosedAt),
			ReopenCount: f.ReopenCount, Observations: f.Observations, Classes: []string{}, Last: f.Last,
		}
		if f.Status == lifecycle.StatusClosed {
			l.Closing = f.Closing
		}
		if f.Last != nil {
			l.Records = f.Last.TotalRecords()
			l.Classes = f.Last.Classes
		}
		if err := writeSafeJSON(w, l, false); err != nil {
			return err
		}
	}
	return nil
}

// stamp formats a time for tables ("-" for none).
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func writeFindingsTable(w io.Writer, list []store.Finding) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "no findings")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tSERVICE\tTARGET\tFIRST SEEN\tLAST SEEN OPEN\tCLOSED AT\tRECORDS\tCLASSES")
	for _, f := range list {
		records, classes := "-", "-"
		if f.Last != nil {
			records = lifecycle.Count(f.Last.TotalRecords())
			if len(f.Last.Classes) > 0 {
				classes = strings.Join(f.Last.Classes, ",")
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Status, f.Severity, f.Service,
			f.Target.Addr(), stamp(f.FirstSeen), stamp(f.LastSeenOpen), stamp(f.ClosedAt), records, classes)
	}
	return tw.Flush()
}
