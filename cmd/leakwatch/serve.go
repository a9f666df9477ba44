package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/leakwatch/leakwatch/internal/alert"
	"github.com/leakwatch/leakwatch/internal/api"
	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/cluster"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/dashboard"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/metrics"
	"github.com/leakwatch/leakwatch/internal/monitor"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/report"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/storemetrics"
	"github.com/leakwatch/leakwatch/internal/store/storeopen"
)

const serveUsage = `Usage: leakwatch serve [--config FILE]

Watches the scopes of the config file continuously: sweeps each scope at its
cadence, re-checks known open data stores every few seconds, keeps the
history of every finding (open → changed → closed → reopened) in the store,
sends alerts through the configured notifiers, and serves the JSON API and
Prometheus metrics (on 127.0.0.1 unless configured otherwise).

At the default settings a data store that opens in a scope is noticed within
30 seconds. Stop with SIGINT or SIGTERM; a sweep interrupted by a crash
resumes where it was, and pending alerts are delivered after a restart.

Flags:
`

func (a *app) serve(ctx context.Context, args []string) error {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	file := fs.StringP("config", "c", config.DefaultFile, "configuration file (see leakwatch.example.yaml)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	format := fs.String("log-format", "text", "log format: text or json")
	fs.BoolP("help", "h", false, "show this help")
	if err := fs.Parse(args); err != nil {
		return usagef("serve: %v (see 'leakwatch serve --help')", err)
	}
	if h, _ := fs.GetBool("help"); h {
		fmt.Fprint(a.stdout, serveUsage+flagUsages(fs))
		return errHelp
	}
	if fs.NArg() > 0 {
		return usagef("serve takes no arguments (use --config FILE)")
	}
	logger, err := newLogger(a.stderr, *level, *format)
	if err != nil {
		return usagef("serve: %v", err)
	}
	cfg, err := config.Load(*file)
	if err != nil {
		return usagef("%v", err)
	}
	s, err := newServer(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer s.close()
	return s.run(ctx)
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, not %q", format)
}

// server is serve's wiring: store, monitor, dispatcher, API.
type server struct {
	cfg      *config.Config
	logger   *slog.Logger
	st       store.Store
	mon      *monitor.Monitor
	disp     *alert.Dispatcher
	metrics  *metrics.Metrics
	listener net.Listener
	dash     *dashboard.Dashboard
	cluster  *clusterParts // cfg.Cluster set: a coordinator
}

func newServer(ctx context.Context, cfg *config.Config, logger *slog.Logger) (_ *server, err error) {
	s := &server{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	registry := all.Registry()
	if len(cfg.Probe.Probers) > 0 {
		if registry, err = registry.Subset(cfg.Probe.Probers); err != nil {
			return nil, usagef("%s: probe.probers: %v", cfg.File, err)
		}
	}
	key, err := classify.LoadOrCreateKey(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	canaries, err := loadCanaries(canaryFile(cfg.KeyFile))
	if err != nil {
		return nil, err
	}
	clf, err := classify.New(classify.Options{Key: key, Canaries: canaries})
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	spec := cfg.Store.Postgres.Value
	if spec == "" {
		spec = "sqlite:" + cfg.Store.SQLite
	}
	s.st, err = storeopen.Open(ctx, spec, store.Options{
		Lifecycle: lifecycle.Policy{CloseAfter: cfg.Monitor.CloseAfter},
		Route:     alert.Route(cfg),
	})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s.metrics = metrics.New()
	s.metrics.Registry.MustRegister(storemetrics.Collector(s.st))
	notifiers, err := alert.FromConfig(cfg)
	if err != nil {
		return nil, err
	}
	s.disp, err = alert.NewDispatcher(alert.DispatcherOptions{
		Outbox: s.st, Notifiers: notifiers, Scope: alert.ScopeInfoFunc(cfg), Logger: logger,
		Worker: dispatcherName(cfg),
		OnDelivery: func(d alert.Delivery) {
			s.metrics.ObserveDelivery(d.Notifier, d.Result, time.Since(d.EventAt))
		},
	})
	if err != nil {
		return nil, err
	}
	mo := monitor.Options{
		Config: cfg, Store: s.st, Registry: registry, Classifier: clf,
		Metrics: s.metrics, OnEvents: s.onEvents, Logger: logger,
	}
	if cfg.Cluster != nil {
		if s.cluster, err = newClusterParts(ctx, cfg, s); err != nil {
			return nil, err
		}
		mo.Remote, mo.Chunk = s.cluster.coord, cfg.Cluster.Chunk
		s.metrics.Registry.MustRegister(cluster.Collector(s.cluster.js, s.cluster.names, s.cluster.db, s.cluster.coord, s.cluster.lease.Name))
	}
	s.mon, err = monitor.New(ctx, mo)
	if err != nil {
		return nil, usagef("%v", err)
	}
	if !cfg.API.Disable {
		if s.listener, err = api.Listen(cfg.API.Listen); err != nil {
			return nil, err
		}
		do := dashboard.Options{
			Store: s.st, Tokens: tokens(cfg), Scopes: s.scopeViews, Trigger: s.trigger, Logger: logger,
			Endpoints: func(name string) int { return int(s.mon.Endpoints(name)) },
		}
		if p := s.cluster; p != nil {
			do.Cluster = func(ctx context.Context) (cluster.Status, error) { return cluster.ReadStatus(ctx, p.js, p.names, p.db) }
			do.Chunk = cfg.Cluster.Chunk
		}
		s.dash, err = dashboard.New(do)
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

// workerName is stable across restarts of serve with the same config on
// the same host, so that a restart takes back its predecessor's alert
// leases at once.
func workerName(cfg *config.Config) string {
	host, _ := os.Hostname()
	abs, err := filepath.Abs(cfg.File)
	if err != nil {
		abs = cfg.File
	}
	h := sha256.Sum256([]byte(abs))
	return "serve@" + host + ":" + hex.EncodeToString(h[:4])
}

func (s *server) close() {
	if s.listener != nil {
		s.listener.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
	s.cluster.close()
}

// run serves until ctx ends.
func (s *server) run(ctx context.Context) error {
	var scopes []string
	for _, name := range s.mon.Scopes() {
		scopes = append(scopes, fmt.Sprintf("%s (%d endpoints)", name, s.mon.Endpoints(name)))
	}
	attrs := []any{"config", s.cfg.File, "scopes", strings.Join(scopes, ", "), "notifiers", len(s.cfg.Notifiers), "store", s.cfg.Store.Kind()}
	if s.listener != nil {
		attrs = append(attrs, "api", "http://"+s.listener.Addr().String())
	}
	s.logger.Info("leakwatch serve started", attrs...)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 3)
	start := func(name string, f func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(ctx); err != nil && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	if s.cluster != nil {
		// Every coordinator serves the API and delivers alerts (the outbox
		// leases them); only the lease holder plans sweeps and ingests.
		start("monitor", func(ctx context.Context) error { return s.cluster.lease.Run(ctx, s.cluster.runActive(s)) })
	} else {
		start("monitor", s.mon.Run)
	}
	start("alerts", s.disp.Run)
	if s.listener != nil {
		h := dashboard.Mount(api.New(api.Options{
			Store: s.st, Tokens: tokens(s.cfg), Metrics: s.metrics.Registry, PublicMetrics: s.cfg.API.PublicMetrics,
			Scopes: s.scopeViews, Trigger: s.trigger, Logger: s.logger, Session: s.dash.Session,
			Report:  report.Options{Controller: s.cfg.Report.Controller, DPO: s.cfg.Report.DPO, Measures: s.cfg.Report.Measures},
			Cluster: s.clusterStatus(),
		}), s.dash)
		start("api", func(ctx context.Context) error { return api.Serve(ctx, s.listener, h) })
		go s.dash.Warm(ctx)
	}
	wg.Wait()
	s.logger.Info("leakwatch serve stopped")
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// onEvents runs after observations produced lifecycle events: it wakes the
// alert dispatcher and the dashboard's live streams.
func (s *server) onEvents() {
	s.disp.Kick()
	if s.dash != nil {
		s.dash.Notify()
	}
}

func tokens(c *config.Config) []string {
	var out []string
	for _, t := range c.API.Tokens {
		out = append(out, t.Value)
	}
	return out
}

func (s *server) trigger(name string) (bool, error) {
	ok, err := s.mon.Trigger(name)
	if errors.Is(err, monitor.ErrUnknownScope) {
		return false, api.ErrUnknownScope
	}
	return ok, err
}

func (s *server) scopeViews() []api.ScopeView {
	var out []api.ScopeView
	for _, sc := range s.cfg.Scopes {
		out = append(out, api.ScopeView{
			Name: sc.Name, Targets: sc.Targets, Exclude: sc.Exclude, Ports: sc.Ports,
			Cadence: sc.Cadence.String(), Recheck: sc.Recheck.String(),
			Owner: sc.Owner, Team: sc.Team, Tags: sc.Tags, Notify: sc.Notify,
		})
	}
	return out
}

const checkConfigUsage = `Usage: leakwatch check-config [FILE]

Validates a configuration file (default leakwatch.yaml) without contacting
anything, and explains what 'leakwatch serve' would do with it: scopes,
cadences, alert routing, store and API. Secrets are never printed.

Exit codes: 0 valid, 2 invalid (the message names the file, line and key).
`

func (a *app) checkConfig(args []string) error {
	if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
		fmt.Fprint(a.stdout, checkConfigUsage)
		return errHelp
	}
	if len(args) > 1 {
		return usagef("check-config takes one file")
	}
	file := config.DefaultFile
	if len(args) == 1 {
		file = args[0]
	}
	cfg, err := config.Load(file)
	if err != nil {
		return usagef("%v", err)
	}
	cfg.Summary(a.stdout)
	return nil
}
