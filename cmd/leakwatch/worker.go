package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/all"
)

var siteRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

const workerUsage = `Usage: leakwatch worker --site SITE [--config FILE] [flags]

A scan worker of a cluster (see the cluster section of leakwatch.yaml): pulls
the work items of its site from NATS JetStream — chunks of the scopes that
name the site — sweeps and probes them with the probe section's budgets and
its own connection rate, and publishes the results for the coordinator. It
keeps no history and needs no database. Use the same config file (and key
file: keyed hashes must match) as the coordinators.

Stop with SIGINT or SIGTERM; an item in progress is redelivered to another
worker of the site.

Flags:
`

func (a *app) worker(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.StringP("config", "c", config.DefaultFile, "configuration file with a cluster section")
	sites := fs.StringSlice("site", nil, "this worker's site (vantage point label, e.g. internet, dc-fra); several comma-separated to serve more than one")
	name := fs.String("name", "", "worker name (default: site@hostname:pid)")
	reach := fs.StringSlice("reach", nil, "CIDRs this site can reach (default: everything in scope); a model of the site's network boundary")
	parallel := fs.Int("parallel", 2, "work items run at once")
	rate := fs.Float64("rate", 0, "new connections per second of this worker (default: probe.rate of the config; 0: no limit)")
	natsURL := fs.String("nats", "", "NATS URL (default: cluster.nats of the config)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("worker: %v (see 'leakwatch worker --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, workerUsage+flagUsages(fs))
		return errHelp
	}
	logger, err := newLogger(a.stderr, *level, *format)
	if err != nil {
		return usagef("worker: %v", err)
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return usagef("%v", err)
	}
	if cfg.Cluster == nil {
		return usagef("%s: no cluster section", cfg.File)
	}
	if len(*sites) == 0 {
		return usagef("worker: --site is required")
	}
	for _, s := range *sites {
		if !siteRE.MatchString(s) {
			return usagef("worker: --site %q: want a site label of a-z 0-9 . _ - (as in cluster.sites)", s)
		}
	}
	site := strings.Join(*sites, ",")
	if *parallel < 1 || *parallel > 256 {
		return usagef("worker: --parallel must be 1..256")
	}
	if fs.Changed("rate") && (*rate < 0 || math.IsNaN(*rate) || math.IsInf(*rate, 0)) {
		return usagef("worker: --rate %v: want connections per second ≥ 0 (0: no limit)", *rate)
	}
	if *natsURL != "" {
		cfg.Cluster.NATS.Value = *natsURL
	}
	var prefixes []netip.Prefix
	for _, r := range *reach {
		p, err := netip.ParsePrefix(strings.TrimSpace(r))
		if err != nil {
			return usagef("worker: --reach %q: %v", r, err)
		}
		prefixes = append(prefixes, p.Masked())
	}
	if *name == "" {
		host, _ := os.Hostname()
		*name = fmt.Sprintf("%s@%s:%d", site, host, os.Getpid())
	}
	registry := all.Registry()
	if len(cfg.Probe.Probers) > 0 {
		if registry, err = registry.Subset(cfg.Probe.Probers); err != nil {
			return usagef("%s: probe.probers: %v", cfg.File, err)
		}
	}
	key, err := classify.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return fmt.Errorf("key: %w", err)
	}
	canaries, err := loadCanaries(canaryFile(cfg.KeyFile))
	if err != nil {
		return err
	}
	clf, err := classify.New(classify.Options{Key: key, Canaries: canaries})
	if err != nil {
		return fmt.Errorf("classifier: %w", err)
	}
	nc, js, err := connectNATS(cfg.Cluster, "leakwatch-worker:"+*name)
	if err != nil {
		return err
	}
	defer nc.Close()
	p := cfg.Probe
	b := probe.DefaultBudget()
	b.Timeout, b.IOTimeout = p.Timeout.D, p.IOTimeout.D
	b.SampleRecords, b.SampleBytes, b.MaxDatasets = p.SampleRecords, int64(p.SampleBytes), p.MaxDatasets
	r := *p.Rate
	if fs.Changed("rate") {
		r = *rate
	}
	// Only the config's scopes are swept, whatever a work item names (items
	// come over NATS); their ports as the coordinator plans them.
	var specs []monitor.ScopeSpec
	for _, sc := range cfg.Scopes {
		ports := []int(sc.Ports)
		if len(ports) == 0 {
			ports = registry.Ports()
		}
		specs = append(specs, monitor.ScopeSpec{Targets: sc.Targets, Excludes: sc.Exclude, Ports: ports})
	}
	w, err := cluster.NewWorker(cluster.WorkerOptions{
		JS: js, Names: cluster.Names{Prefix: cfg.Cluster.Stream}, Name: *name, Sites: *sites, Reach: prefixes, Scopes: specs,
		Parallel: *parallel, Rate: r, Concurrency: p.Concurrency, ConnectTimeout: p.ConnectTimeout.D,
		ProbeWorkers: p.Workers, Registry: registry, Classifier: clf, Budget: b,
		AllProbers: !p.PortProbersOnly, DefaultCredentials: !p.NoDefaultCreds,
		Memory: probe.NewMemoryPool(int64(p.MemoryCeiling)), AckWait: cfg.Cluster.AckWait.D, Logger: logger,
	})
	if err != nil {
		return err
	}
	logger.Info("leakwatch worker started", "name", *name, "site", site, "nats", redactURL(cfg.Cluster.NATS.Value), "rate", r, "reach", *reach)
	err = w.Run(ctx)
	logger.Info("leakwatch worker stopped", "name", *name, "items", w.Stats().Items)
	return err
}
