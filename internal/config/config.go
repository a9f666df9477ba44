// Package config reads leakwatch.yaml, the one file that configures
// `leakwatch serve`: the scopes to watch (targets, exclusions, ports,
// cadence, owner/team tags, notifier routing), probe budgets and rate
// limits, notifiers (webhook, Slack, email, PagerDuty), the history store,
// the API and the installation key.
//
// Decoding is strict: an unknown key, a duplicate key, a value of the wrong
// type or a rule broken by a section's Validate is an error that names the
// file, the line and the key (`leakwatch.yaml:12: scopes[0]: unknown key
// "cadense"`).
//
// Secrets (webhook URLs and secrets, the Slack URL, SMTP password, PagerDuty
// routing key, the PostgreSQL DSN, API tokens) are of type Secret: in those
// values, and only in those, ${NAME} is replaced by the environment variable
// NAME, which must be set ("$${" writes a literal "${"). Secrets print as
// "***".
package config

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/limits"
)

// Defaults used when a key is absent.
const (
	DefaultFile       = "leakwatch.yaml"
	DefaultListen     = "127.0.0.1:8787"
	DefaultCadence    = 15 * time.Second
	DefaultRecheck    = 10 * time.Second
	DefaultJitter     = 0.1
	DefaultCloseAfter = 2
	DefaultSQLite     = "leakwatch.db"
	DefaultKeyFile    = "leakwatch.key"
)

// The probe section's defaults are limits.DefaultProbe, shared with
// `leakwatch scan`'s flags.

// Config is the whole leakwatch.yaml.
type Config struct {
	// KeyFile is the per-installation secret key (keyed hashes, canaries);
	// created if missing. Relative paths are relative to the config file.
	KeyFile   string     `yaml:"key_file"`
	Store     Store      `yaml:"store"`
	API       API        `yaml:"api"`
	Monitor   Monitor    `yaml:"monitor"`
	Probe     Probe      `yaml:"probe"`
	Notifiers []Notifier `yaml:"notifiers"`
	Scopes    []Scope    `yaml:"scopes"`
	// Report holds the free-text parts of incident reports (`leakwatch
	// report`): who the controller and the DPO are, the measures taken.
	Report Report `yaml:"report"`
	// Cluster, if set, makes serve a coordinator of scan workers
	// (`leakwatch worker`) over NATS JetStream; see Cluster.
	Cluster *Cluster `yaml:"cluster"`

	// File is where the config was read from ("" if parsed from bytes).
	File string `yaml:"-"`
}

// Store says where history is kept: exactly one of SQLite and Postgres.
type Store struct {
	// SQLite is a database file path (default leakwatch.db next to the
	// config file).
	SQLite string `yaml:"sqlite"`
	// Postgres is a PostgreSQL DSN (postgres://user:pass@host/db).
	Postgres Secret `yaml:"postgres"`
}

// API is the HTTP API and /metrics.
type API struct {
	// Listen is host:port (default 127.0.0.1:8787). A non-loopback
	// address must be asked for explicitly.
	Listen string `yaml:"listen"`
	// Disable turns the API off.
	Disable bool `yaml:"disable"`
	// Tokens are the accepted bearer tokens (at least one, ≥16 chars).
	Tokens []Secret `yaml:"tokens"`
	// PublicMetrics serves /metrics without a token (default: a token is
	// needed, as for the API).
	PublicMetrics bool `yaml:"public_metrics"`
}

// Monitor holds scheduling defaults; scopes may override cadence and
// recheck.
type Monitor struct {
	// Cadence is how often each scope is swept (default 15s).
	Cadence Duration `yaml:"cadence"`
	// Recheck is how often known open services are re-probed (default 10s).
	Recheck Duration `yaml:"recheck"`
	// Jitter spreads sweeps by up to this fraction of the cadence (0..0.5,
	// default 0.1).
	Jitter *float64 `yaml:"jitter"`
	// CloseAfter is how many consecutive gone/protected checks close a
	// finding (default 2).
	CloseAfter int `yaml:"close_after"`
	// MaxHosts caps the addresses of one scope (default 65536).
	MaxHosts int `yaml:"max_hosts"`
}

// Probe holds probe budgets and the rate limits shared by all scopes.
type Probe struct {
	// Rate caps new connections per second across all scopes (default 2000).
	Rate *float64 `yaml:"rate"`
	// Concurrency is TCP connects in flight during a sweep (default 512).
	Concurrency int `yaml:"concurrency"`
	// Workers is how many endpoints are probed at once, all scopes
	// together (default 512).
	Workers int `yaml:"workers"`
	// ConnectTimeout bounds each discovery connect (default 1.5s).
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// Timeout bounds probing one host:port (default 60s).
	Timeout Duration `yaml:"timeout"`
	// IOTimeout bounds each read or write while probing (default 5s).
	IOTimeout Duration `yaml:"io_timeout"`
	// SampleRecords per dataset (default 200; 0 keeps the default, use
	// metadata_only for none).
	SampleRecords int `yaml:"sample_records"`
	// MetadataOnly samples no records at all.
	MetadataOnly bool `yaml:"metadata_only"`
	// SampleBytes per dataset (default 1MiB).
	SampleBytes Size `yaml:"sample_bytes"`
	// MaxDatasets sampled per service, largest first (default 20).
	MaxDatasets int `yaml:"max_datasets"`
	// MemoryCeiling bounds the bytes the concurrent probes of one scope
	// may hold of what they read (default 128MiB; 1MiB to 64GiB).
	MemoryCeiling Size `yaml:"memory_ceiling"`
	// Probers restricts the probers used (default: all).
	Probers []string `yaml:"probers"`
	// PortProbersOnly tries only the probers that claim a port.
	PortProbersOnly bool `yaml:"port_probers_only"`
	// NoDefaultCreds never tries well-known factory credentials.
	NoDefaultCreds bool `yaml:"no_default_creds"`
}

// Notifier is one alert destination: a name and exactly one of the kinds.
type Notifier struct {
	Name string `yaml:"name"`
	// Events filters the lifecycle events sent (default all: opened,
	// changed, closed, reopened).
	Events []string `yaml:"events"`
	// MinSeverity drops alerts about findings below it (default: none).
	MinSeverity string `yaml:"min_severity"`
	// Timeout bounds one delivery attempt (default 10s).
	Timeout Duration `yaml:"timeout"`

	Webhook   *Webhook   `yaml:"webhook"`
	Slack     *Slack     `yaml:"slack"`
	Email     *Email     `yaml:"email"`
	PagerDuty *PagerDuty `yaml:"pagerduty"`
}

// Kind is "webhook", "slack", "email" or "pagerduty" ("" if none is set).
func (n *Notifier) Kind() string {
	switch {
	case n.Webhook != nil:
		return "webhook"
	case n.Slack != nil:
		return "slack"
	case n.Email != nil:
		return "email"
	case n.PagerDuty != nil:
		return "pagerduty"
	}
	return ""
}

// Webhook posts a signed JSON body.
type Webhook struct {
	URL Secret `yaml:"url"`
	// Secret keys the X-Leakwatch-Signature HMAC-SHA256 header.
	Secret Secret `yaml:"secret"`
}

// Slack posts to an incoming webhook.
type Slack struct {
	URL Secret `yaml:"url"`
}

// Email sends mail over SMTP.
type Email struct {
	Host     string   `yaml:"host"`
	Port     int      `yaml:"port"`
	From     string   `yaml:"from"`
	To       []string `yaml:"to"`
	Username string   `yaml:"username"`
	Password Secret   `yaml:"password"`
	// TLS: "starttls" (default: when offered), "require-starttls",
	// "tls" (implicit TLS) or "none".
	TLS string `yaml:"tls"`
}

// PagerDuty sends Events API v2 events.
type PagerDuty struct {
	RoutingKey Secret `yaml:"routing_key"`
	// URL is the Events API v2 enqueue endpoint (required; PagerDuty's is
	// https://events.pagerduty.com/v2/enqueue).
	URL Secret `yaml:"url"`
}

// Scope is one monitored network.
type Scope struct {
	Name    string   `yaml:"name"`
	Targets []string `yaml:"targets"`
	Exclude []string `yaml:"exclude"`
	// Ports to sweep (default: every prober's well-known ports).
	Ports PortList `yaml:"ports"`
	// Cadence and Recheck override the monitor defaults.
	Cadence Duration `yaml:"cadence"`
	Recheck Duration `yaml:"recheck"`
	Owner   string   `yaml:"owner"`
	Team    string   `yaml:"team"`
	// Tags are free-form labels copied into alerts.
	Tags map[string]string `yaml:"tags"`
	// Notify names the notifiers for this scope (default: all).
	Notify []string `yaml:"notify"`
	// Sites are the vantage points (worker sites) that sweep this scope
	// when a cluster is configured (default: cluster.sites).
	Sites []string `yaml:"sites"`
}

// EventKinds are the lifecycle events a notifier may filter on: the
// transitions, and the evidence events (destroyed: datasets vanished or
// records dropped sharply; extortion: a ransom note appeared; canary: a
// canary of this installation was found), which are always critical, and
// accessed (the store's own counters show requests by clients other than
// leakwatch between two checks).
var EventKinds = []string{"opened", "changed", "closed", "reopened", "out-of-scope", "destroyed", "extortion", "canary", "accessed"}

// DefaultEventKinds are the events a notifier sends when its config lists
// none. "out-of-scope" (a finding's endpoint left the scope and is no
// longer monitored; it is not a close) is opt-in, and so is "accessed":
// an exposed store's own application is a client other than leakwatch
// too, so on a busy store it would fire at every check.
var DefaultEventKinds = []string{"opened", "changed", "closed", "reopened", "destroyed", "extortion", "canary"}

// Report is the `report:` section: free text copied into incident reports
// (GDPR Art. 33(3)(b) and (d)). `leakwatch report --dpo/--measure/
// --controller` override or add to it.
type Report struct {
	// Controller names the data controller ("Example GmbH, Berlin").
	Controller string `yaml:"controller"`
	// DPO is the data-protection officer's name and contact.
	DPO string `yaml:"dpo"`
	// Measures are the measures taken or proposed, one a line.
	Measures []string `yaml:"measures"`
}

// MaxReportText bounds each free-text report value.
const MaxReportText = 2000

// Severities in ascending order.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Load reads, decodes, defaults and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path)
}

// ApplyDefaults fills absent keys. Relative paths become relative to the
// config file's folder.
func (c *Config) ApplyDefaults() {
	dir := ""
	if c.File != "" {
		dir = filepath.Dir(c.File)
	}
	rel := func(p string) string {
		if p == "" || filepath.IsAbs(p) || dir == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	if c.KeyFile == "" {
		c.KeyFile = DefaultKeyFile
	}
	c.KeyFile = rel(c.KeyFile)
	if c.Store.SQLite == "" && c.Store.Postgres.Value == "" {
		c.Store.SQLite = DefaultSQLite
	}
	c.Store.SQLite = rel(c.Store.SQLite)
	if c.API.Listen == "" {
		c.API.Listen = DefaultListen
	}
	c.Monitor.defaults()
	c.Probe.defaults()
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		if len(n.Events) == 0 {
			n.Events = append([]string(nil), DefaultEventKinds...)
		}
		if n.Timeout.D == 0 {
			n.Timeout.D = 10 * time.Second
		}
		if n.Email != nil {
			if n.Email.Port == 0 {
				n.Email.Port = 25
			}
			if n.Email.TLS == "" {
				n.Email.TLS = "starttls"
			}
		}
	}
	c.Cluster.defaults()
	for i := range c.Scopes {
		s := &c.Scopes[i]
		if c.Cluster != nil && len(s.Sites) == 0 {
			s.Sites = append([]string(nil), c.Cluster.Sites...)
		}
		if s.Cadence.D == 0 {
			s.Cadence = c.Monitor.Cadence
		}
		if s.Recheck.D == 0 {
			s.Recheck = c.Monitor.Recheck
		}
	}
}

func (m *Monitor) defaults() {
	if m.Cadence.D == 0 {
		m.Cadence.D = DefaultCadence
	}
	if m.Recheck.D == 0 {
		m.Recheck.D = DefaultRecheck
	}
	if m.Jitter == nil {
		j := DefaultJitter
		m.Jitter = &j
	}
	if m.CloseAfter == 0 {
		m.CloseAfter = DefaultCloseAfter
	}
	if m.MaxHosts == 0 {
		m.MaxHosts = limits.DefaultProbe.MaxHosts
	}
}

func (p *Probe) defaults() {
	d := limits.DefaultProbe
	if p.Rate == nil {
		r := d.Rate
		p.Rate = &r
	}
	if p.Concurrency == 0 {
		p.Concurrency = d.Concurrency
	}
	if p.Workers == 0 {
		p.Workers = d.Workers
	}
	if p.ConnectTimeout.D == 0 {
		p.ConnectTimeout.D = d.ConnectTimeout
	}
	if p.Timeout.D == 0 {
		p.Timeout.D = d.Timeout
	}
	if p.IOTimeout.D == 0 {
		p.IOTimeout.D = d.IOTimeout
	}
	if p.SampleRecords == 0 {
		p.SampleRecords = d.SampleRecords
	}
	if p.MetadataOnly {
		p.SampleRecords = 0
	}
	if p.SampleBytes == 0 {
		p.SampleBytes = Size(d.SampleBytes)
	}
	if p.MaxDatasets == 0 {
		p.MaxDatasets = d.MaxDatasets
	}
	if p.MemoryCeiling == 0 {
		p.MemoryCeiling = Size(d.MemoryCeiling)
	}
}

// Limits is the probe section as limits.Probe (after ApplyDefaults).
func (c *Config) Limits() limits.Probe {
	p := c.Probe
	return limits.Probe{
		Rate: *p.Rate, Concurrency: p.Concurrency, Workers: p.Workers,
		ConnectTimeout: p.ConnectTimeout.D, Timeout: p.Timeout.D, IOTimeout: p.IOTimeout.D,
		SampleRecords: p.SampleRecords, SampleBytes: int64(p.SampleBytes), MaxDatasets: p.MaxDatasets,
		MemoryCeiling: int64(p.MemoryCeiling), MaxHosts: c.Monitor.MaxHosts,
	}
}

// Scope returns the scope with this name, or nil.
func (c *Config) Scope(name string) *Scope {
	for i := range c.Scopes {
		if c.Scopes[i].Name == name {
			return &c.Scopes[i]
		}
	}
	return nil
}

// NotifiersFor returns the notifiers that get a scope's alerts.
func (c *Config) NotifiersFor(scope string) []*Notifier {
	s := c.Scope(scope)
	var out []*Notifier
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		if s == nil || len(s.Notify) == 0 || contains(s.Notify, n.Name) {
			out = append(out, n)
		}
	}
	return out
}

// Wants tells whether the notifier sends this event kind at this severity.
func (n *Notifier) Wants(kind, severity string) bool {
	if !contains(n.Events, kind) {
		return false
	}
	if n.MinSeverity == "" {
		return true
	}
	return rank(severity) >= rank(n.MinSeverity)
}

func rank(sev string) int {
	for i, s := range Severities {
		if s == sev {
			return i
		}
	}
	return -1
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ListenIsLoopback tells whether the API listens on loopback only.
func (a API) ListenIsLoopback() bool {
	host, _, err := net.SplitHostPort(a.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// StoreKind is "sqlite" or "postgres".
func (s Store) Kind() string {
	if s.Postgres.Value != "" {
		return "postgres"
	}
	return "sqlite"
}

// redactURL shows scheme://host/… of a URL secret for summaries.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return "***"
	}
	host, _, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = "***@" + host[at+1:]
	}
	return scheme + "://" + host + "/…"
}
