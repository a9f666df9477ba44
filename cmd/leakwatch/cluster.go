package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
)

// clusterParts are serve's cluster wiring (cfg.Cluster set): the NATS
// connection, the history database pool, the coordinator and its lease.
type clusterParts struct {
	nc    *nats.Conn
	js    jetstream.JetStream
	db    *pgxpool.Pool
	coord *cluster.Coordinator
	lease *cluster.Lease
	names cluster.Names
}

func (p *clusterParts) close() {
	if p == nil {
		return
	}
	if p.nc != nil {
		p.nc.Close()
	}
	if p.db != nil {
		p.db.Close()
	}
}

// connectNATS connects to the cluster's NATS server; the connection
// reconnects for ever (a restarted nats-server is found again).
func connectNATS(c *config.Cluster, name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(c.NATS.Value, nats.Name(name), nats.MaxReconnects(-1),
		nats.ReconnectWait(500*time.Millisecond), nats.Timeout(5*time.Second), nats.RetryOnFailedConnect(true))
	if err != nil {
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("nats: %w", err)
	}
	return nc, js, nil
}

// newClusterParts connects a coordinator (serve with a cluster section).
func newClusterParts(ctx context.Context, cfg *config.Config, s *server) (*clusterParts, error) {
	c := cfg.Cluster
	p := &clusterParts{names: cluster.Names{Prefix: c.Stream}}
	name := coordinatorName(cfg)
	var err error
	if p.nc, p.js, err = connectNATS(c, name); err != nil {
		return nil, err
	}
	if p.db, err = pgxpool.New(ctx, cfg.Store.Postgres.Value); err != nil {
		p.close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	setupCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	p.coord, err = cluster.NewCoordinator(setupCtx, cluster.CoordinatorOptions{
		JS: p.js, Names: p.names, DB: p.db, InFlight: c.InFlight, AckWait: c.AckWait.D,
		MaxDeliver: c.MaxDeliver, Logger: s.logger,
	})
	if err != nil {
		p.close()
		return nil, err
	}
	p.lease = &cluster.Lease{DSN: cfg.Store.Postgres.Value, Name: name, Key: c.Stream, Logger: s.logger}
	return p, nil
}

// coordinatorName is LEAKWATCH_COORDINATOR_NAME, or serve's worker name.
func coordinatorName(cfg *config.Config) string {
	if n := os.Getenv("LEAKWATCH_COORDINATOR_NAME"); n != "" {
		return n
	}
	return workerName(cfg)
}

// dispatcherName names serve's alert dispatcher: a coordinator's own
// name in a cluster (two coordinators never share alert leases), else
// workerName.
func dispatcherName(cfg *config.Config) string {
	if cfg.Cluster != nil {
		return "coordinator:" + coordinatorName(cfg)
	}
	return workerName(cfg)
}

// runActive is what the coordinator holding the lease runs: result
// ingestion and the monitor (sweeps planned as work items).
func (p *clusterParts) runActive(s *server) func(ctx context.Context) {
	return func(ctx context.Context) {
		done := make(chan struct{})
		go func() { defer close(done); _ = p.coord.Ingest(ctx) }()
		if err := s.mon.Run(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("monitor", "err", err)
		}
		<-done
	}
}

const clusterUsage = `Usage: leakwatch cluster status [--config FILE] [--json]

Shows the cluster of a serve config with a cluster section: the active
coordinator, the workers by site (from their heartbeats), each site's queue
depth, items in flight and redeliveries, each worker's items in flight,
results not yet stored, results arriving in parts not yet complete (and
the oldest one's age), and the parked work items with their errors.

Flags:
`

func (a *app) clusterCmd(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "status" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprint(a.stdout, clusterUsage)
			return errHelp
		}
		return usagef("cluster: want 'cluster status' (see 'leakwatch cluster --help')")
	}
	fs := pflag.NewFlagSet("cluster status", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.StringP("config", "c", config.DefaultFile, "configuration file with a cluster section")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args[1:]); err != nil {
		return usagef("cluster status: %v", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, clusterUsage+flagUsages(fs))
		return errHelp
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return usagef("%v", err)
	}
	if cfg.Cluster == nil {
		return usagef("%s: no cluster section", cfg.File)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	nc, err := nats.Connect(cfg.Cluster.NATS.Value, nats.Name("leakwatch-cluster-status"), nats.Timeout(5*time.Second))
	if err != nil {
		return fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	db, err := pgxpool.New(ctx, cfg.Store.Postgres.Value)
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := cluster.ReadStatus(ctx, js, cluster.Names{Prefix: cfg.Cluster.Stream}, db)
	if err != nil {
		return err
	}
	scrubStatus(&st)
	if *asJSON {
		return writeSafeJSON(a.stdout, st, true)
	}
	// Names, sites, ids and errors come from heartbeats and messages anyone
	// with access to NATS can write: shown as visible text, never as
	// terminal controls.
	vis := finding.VisibleText
	active := vis(st.Active)
	if active == "" {
		active = "none (no coordinator holds the lease)"
	}
	fmt.Fprintf(a.stdout, "NATS:                %s\n", redactURL(cfg.Cluster.NATS.Value))
	fmt.Fprintf(a.stdout, "active coordinator:  %s\n", active)
	fmt.Fprintf(a.stdout, "queue depth:         %d work items\n", st.QueueDepth)
	fmt.Fprintf(a.stdout, "redeliveries:        %d\n", st.Redeliveries)
	fmt.Fprintf(a.stdout, "results pending:     %d\n", st.ResultsPending)
	fmt.Fprintf(a.stdout, "parked:              %d\n", st.ParkedTotal)
	incomplete := fmt.Sprint(st.IncompletePartSets)
	if st.IncompletePartSetsCapped {
		incomplete += "+"
	}
	if st.IncompletePartSets > 0 {
		incomplete += fmt.Sprintf(" (oldest %s)", (time.Duration(st.OldestIncompleteSeconds) * time.Second).String())
	}
	fmt.Fprintf(a.stdout, "incomplete parts:    %s\n\n", incomplete)
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SITE\tWORKERS\tPENDING\tIN FLIGHT\tREDELIVERED")
	for _, s := range st.Sites {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", vis(s.Site), s.Workers, s.Pending, s.InFlight, s.Redeliveries)
	}
	tw.Flush()
	fmt.Fprintln(a.stdout)
	tw = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tSITE\tIN FLIGHT\tITEMS\tREDELIVERED\tPARKED\tLAST HEARTBEAT")
	for _, w := range st.Workers {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%s ago\n", vis(w.Name), vis(strings.Join(w.Sites, ",")), w.InFlight, w.Items, w.Redelivered, w.Parked, time.Since(w.At).Round(time.Second))
	}
	tw.Flush()
	for _, p := range st.Parked {
		fmt.Fprintf(a.stdout, "parked %s (site %s, %d attempts, %s): %s\n", vis(p.ItemID), vis(p.Site), p.Attempts, p.At.Format(time.RFC3339), vis(p.Error))
	}
	return nil
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if u, err := url.Parse(part); err == nil {
			out = append(out, u.Redacted())
		} else {
			out = append(out, "?")
		}
	}
	return strings.Join(out, ",")
}

// clusterStatus is GET /api/v1/cluster's reader (nil without a cluster
// section).
func (s *server) clusterStatus() func(ctx context.Context) (any, error) {
	if s.cluster == nil {
		return nil
	}
	p := s.cluster
	return func(ctx context.Context) (any, error) {
		st, err := cluster.ReadStatus(ctx, p.js, p.names, p.db)
		if err != nil {
			return nil, err
		}
		scrubStatus(&st)
		return st, nil
	}
}

// scrubStatus masks what a parked item's error quotes of a target: like
// every string from a target, it reaches no output raw.
func scrubStatus(st *cluster.Status) {
	for i := range st.Parked {
		st.Parked[i].Error = classify.ScrubText(st.Parked[i].Error)
	}
}
