package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/scope"
)

// Limits checked by Validate.
const (
	MinCadence     = time.Second
	MinRecheck     = time.Second
	MinTokenLength = 16
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Validate checks every section; the first broken rule is returned as a
// *FieldError naming its key path. Call it after ApplyDefaults.
func (c *Config) Validate() error {
	if err := c.Store.Validate(); err != nil {
		return under("store", err)
	}
	if err := c.API.Validate(); err != nil {
		return under("api", err)
	}
	if err := c.Monitor.Validate(); err != nil {
		return under("monitor", err)
	}
	if err := c.Probe.Validate(); err != nil {
		return under("probe", err)
	}
	names := map[string]bool{}
	for i := range c.Notifiers {
		n := &c.Notifiers[i]
		p := fmt.Sprintf("notifiers[%d]", i)
		if err := n.Validate(); err != nil {
			return under(p, err)
		}
		if names[n.Name] {
			return fieldErr(p+".name", "duplicate notifier name %q", n.Name)
		}
		names[n.Name] = true
	}
	if err := c.Report.Validate(); err != nil {
		return under("report", err)
	}
	if err := c.validateCluster(); err != nil {
		return err
	}
	if len(c.Scopes) == 0 {
		return fieldErr("scopes", "at least one scope is required (see leakwatch.example.yaml)")
	}
	scopes := map[string]bool{}
	for i := range c.Scopes {
		s := &c.Scopes[i]
		p := fmt.Sprintf("scopes[%d]", i)
		if err := s.Validate(); err != nil {
			return under(p, err)
		}
		if scopes[s.Name] {
			return fieldErr(p+".name", "duplicate scope name %q", s.Name)
		}
		scopes[s.Name] = true
		for j, nn := range s.Notify {
			if !names[nn] {
				return fieldErr(fmt.Sprintf("%s.notify[%d]", p, j), "no notifier named %q", nn)
			}
		}
	}
	return nil
}

// Validate checks the store section.
func (s Store) Validate() error {
	if s.SQLite != "" && s.Postgres.Value != "" {
		return fieldErr("", "set either sqlite or postgres, not both")
	}
	if s.Postgres.Value != "" {
		u, err := url.Parse(s.Postgres.Value)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fieldErr("postgres", "want a postgres://user:password@host:port/db URL")
		}
	}
	return nil
}

// Validate checks the API section.
func (a API) Validate() error {
	if a.Disable {
		return nil
	}
	host, port, err := net.SplitHostPort(a.Listen)
	if err != nil {
		return fieldErr("listen", "want host:port such as 127.0.0.1:8787, not %q", a.Listen)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fieldErr("listen", "invalid port %q", port)
	}
	if host == "" {
		return fieldErr("listen", "name the address to listen on (127.0.0.1 for loopback only); an empty host would listen on every interface")
	}
	if len(a.Tokens) == 0 {
		return fieldErr("tokens", "at least one bearer token is required (e.g. tokens: [\"${LEAKWATCH_API_TOKEN}\"]), or set disable: true")
	}
	for i, t := range a.Tokens {
		if len(t.Value) < MinTokenLength {
			return fieldErr(fmt.Sprintf("tokens[%d]", i), "token too short: want at least %d characters (e.g. openssl rand -hex 24)", MinTokenLength)
		}
	}
	return nil
}

// Validate checks the monitor section.
func (m Monitor) Validate() error {
	switch {
	case m.Cadence.D < MinCadence:
		return fieldErr("cadence", "%s is too short: at least %s", m.Cadence, MinCadence)
	case m.Recheck.D < MinRecheck:
		return fieldErr("recheck", "%s is too short: at least %s", m.Recheck, MinRecheck)
	case m.Jitter != nil && (*m.Jitter < 0 || *m.Jitter > 0.5):
		return fieldErr("jitter", "%g is out of range: want a fraction of the cadence from 0 to 0.5", *m.Jitter)
	case m.CloseAfter < 1 || m.CloseAfter > 1000:
		return fieldErr("close_after", "%d is out of range: want 1 to 1000 consecutive checks", m.CloseAfter)
	case m.MaxHosts < 1:
		return fieldErr("max_hosts", "must be positive")
	}
	return nil
}

// Validate checks the probe section.
func (p Probe) Validate() error {
	switch {
	case p.Rate != nil && *p.Rate < 0:
		return fieldErr("rate", "must not be negative (0: no limit)")
	case p.Concurrency < 1:
		return fieldErr("concurrency", "must be at least 1")
	case p.Workers < 1:
		return fieldErr("workers", "must be at least 1")
	case p.ConnectTimeout.D <= 0:
		return fieldErr("connect_timeout", "must be positive")
	case p.Timeout.D <= 0:
		return fieldErr("timeout", "must be positive")
	case p.IOTimeout.D <= 0:
		return fieldErr("io_timeout", "must be positive")
	case p.IOTimeout.D > p.Timeout.D:
		return fieldErr("io_timeout", "%s is longer than probe.timeout %s", p.IOTimeout, p.Timeout)
	case p.SampleRecords < 0:
		return fieldErr("sample_records", "must not be negative (metadata_only: true samples nothing)")
	case p.MaxDatasets < 0:
		return fieldErr("max_datasets", "must not be negative")
	}
	// The bounds of `leakwatch scan`'s flags (limits).
	if p.Rate != nil {
		if err := limits.CheckRate(*p.Rate); err != nil {
			return fieldErr("rate", "%v", err)
		}
	}
	for _, c := range []struct {
		key string
		v   int
		min int
	}{{"concurrency", p.Concurrency, 1}, {"workers", p.Workers, 1}, {"sample_records", p.SampleRecords, 0}, {"max_datasets", p.MaxDatasets, 0}} {
		if err := limits.CheckCount(c.v, c.min); err != nil {
			return fieldErr(c.key, "%v", err)
		}
	}
	for _, c := range []struct {
		key string
		v   Duration
	}{{"connect_timeout", p.ConnectTimeout}, {"timeout", p.Timeout}, {"io_timeout", p.IOTimeout}} {
		if err := limits.CheckDuration(c.v.D, false); err != nil {
			return fieldErr(c.key, "%v", err)
		}
	}
	if err := limits.CheckSampleBytes(int64(p.SampleBytes)); err != nil {
		return fieldErr("sample_bytes", "%v", err)
	}
	if err := limits.CheckMemoryCeiling(int64(p.MemoryCeiling)); err != nil {
		return fieldErr("memory_ceiling", "%v", err)
	}
	return nil
}

// Validate checks the report section: bounded single-purpose text.
func (r Report) Validate() error {
	check := func(key, v string) error {
		if len(v) > MaxReportText {
			return fieldErr(key, "longer than %d bytes", MaxReportText)
		}
		for _, c := range v {
			if c < 0x20 && c != '\t' {
				return fieldErr(key, "control characters are not allowed")
			}
		}
		return nil
	}
	if err := check("controller", r.Controller); err != nil {
		return err
	}
	if err := check("dpo", r.DPO); err != nil {
		return err
	}
	for i, m := range r.Measures {
		if m == "" {
			return fieldErr(fmt.Sprintf("measures[%d]", i), "empty")
		}
		if err := check(fmt.Sprintf("measures[%d]", i), m); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks one notifier.
func (n *Notifier) Validate() error {
	if !nameRE.MatchString(n.Name) {
		if n.Name == "" {
			return fieldErr("name", "required")
		}
		return fieldErr("name", "%q: use lower-case letters, digits, '.', '_' and '-'", n.Name)
	}
	for i, e := range n.Events {
		if !contains(EventKinds, e) {
			return fieldErr(fmt.Sprintf("events[%d]", i), "unknown event %q (want opened, changed, closed, reopened, out-of-scope, destroyed, extortion or canary)", e)
		}
	}
	if n.MinSeverity != "" && !contains(Severities, n.MinSeverity) {
		return fieldErr("min_severity", "unknown severity %q (want info, low, medium, high or critical)", n.MinSeverity)
	}
	if n.Timeout.D < 0 {
		return fieldErr("timeout", "must be positive")
	}
	set := 0
	for _, b := range []bool{n.Webhook != nil, n.Slack != nil, n.Email != nil, n.PagerDuty != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fieldErr("", "notifier %q needs exactly one of webhook, slack, email, pagerduty (has %d)", n.Name, set)
	}
	switch {
	case n.Webhook != nil:
		return under("webhook", n.Webhook.Validate())
	case n.Slack != nil:
		return under("slack", n.Slack.Validate())
	case n.Email != nil:
		return under("email", n.Email.Validate())
	}
	return under("pagerduty", n.PagerDuty.Validate())
}

// Validate checks a webhook.
func (w *Webhook) Validate() error {
	if err := checkURL("url", w.URL); err != nil {
		return err
	}
	if w.Secret.Value == "" {
		return fieldErr("secret", "required: receivers verify the X-Leakwatch-Signature HMAC with it")
	}
	return nil
}

// Validate checks a Slack notifier.
func (s *Slack) Validate() error { return checkURL("url", s.URL) }

// Validate checks a PagerDuty notifier.
func (p *PagerDuty) Validate() error {
	if p.RoutingKey.Value == "" {
		return fieldErr("routing_key", "required (the integration key of an Events API v2 service)")
	}
	return checkURL("url", p.URL)
}

// Validate checks an email notifier.
func (e *Email) Validate() error {
	switch {
	case e.Host == "":
		return fieldErr("host", "required (the SMTP server)")
	case e.Port < 1 || e.Port > 65535:
		return fieldErr("port", "%d is not a port", e.Port)
	case e.From == "":
		return fieldErr("from", "required")
	case len(e.To) == 0:
		return fieldErr("to", "at least one recipient is required")
	case e.Password.Value != "" && e.Username == "":
		return fieldErr("username", "required when a password is set")
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return fieldErr("from", "invalid address %q", e.From)
	}
	for i, to := range e.To {
		if _, err := mail.ParseAddress(to); err != nil {
			return fieldErr(fmt.Sprintf("to[%d]", i), "invalid address %q", to)
		}
	}
	switch e.TLS {
	case "starttls", "require-starttls", "tls", "none":
	default:
		return fieldErr("tls", "unknown mode %q (want starttls, require-starttls, tls or none)", e.TLS)
	}
	return nil
}

func checkURL(key string, s Secret) error {
	if s.Value == "" {
		return fieldErr(key, "required")
	}
	u, err := url.Parse(s.Value)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fieldErr(key, "want an http:// or https:// URL")
	}
	return nil
}

// Validate checks one scope: name, target and exclude specs, cadence.
func (s *Scope) Validate() error {
	if !nameRE.MatchString(s.Name) {
		if s.Name == "" {
			return fieldErr("name", "required")
		}
		return fieldErr("name", "%q: use lower-case letters, digits, '.', '_' and '-'", s.Name)
	}
	if len(s.Targets) == 0 {
		return fieldErr("targets", "at least one target is required (addresses, CIDRs, ranges, hostnames, host:port)")
	}
	for i, t := range s.Targets {
		if err := checkSpec(t); err != nil {
			return fieldErr(fmt.Sprintf("targets[%d]", i), "%v", err)
		}
	}
	for i, t := range s.Exclude {
		if err := checkSpec(t); err != nil {
			return fieldErr(fmt.Sprintf("exclude[%d]", i), "%v", err)
		}
	}
	// Unspecified, multicast and broadcast addresses are never targets
	// (unless a block's such part is excluded).
	for i, t := range s.Targets {
		if err := scope.CheckTargets([]string{t}, s.Exclude); err != nil {
			return fieldErr(fmt.Sprintf("targets[%d]", i), "%v", err)
		}
	}
	switch {
	case s.Cadence.D < MinCadence:
		return fieldErr("cadence", "%s is too short: at least %s", s.Cadence, MinCadence)
	case s.Recheck.D < MinRecheck:
		return fieldErr("recheck", "%s is too short: at least %s", s.Recheck, MinRecheck)
	}
	for k := range s.Tags {
		if !nameRE.MatchString(k) {
			return fieldErr("tags."+k, "tag names use lower-case letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

func checkSpec(t string) error {
	if t == "-" {
		return fmt.Errorf("\"-\" (stdin) cannot be used in a config file")
	}
	_, err := scope.Parse(t)
	return err
}
