package config

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Summary explains a valid config in plain words, secrets redacted: what
// `leakwatch check-config` prints.
func (c *Config) Summary(w io.Writer) {
	fmt.Fprintf(w, "%s: valid\n\n", c.File)
	for _, s := range c.Scopes {
		fmt.Fprintf(w, "scope %s\n", s.Name)
		fmt.Fprintf(w, "  targets:   %s\n", strings.Join(s.Targets, ", "))
		if len(s.Exclude) > 0 {
			fmt.Fprintf(w, "  exclude:   %s\n", strings.Join(s.Exclude, ", "))
		}
		if len(s.Ports) > 0 {
			fmt.Fprintf(w, "  ports:     %s\n", portsString(s.Ports))
		} else {
			fmt.Fprintf(w, "  ports:     every prober's well-known ports\n")
		}
		fmt.Fprintf(w, "  sweep:     every %s (±%g%% jitter); known services re-checked every %s\n",
			s.Cadence, *c.Monitor.Jitter*100, s.Recheck)
		if s.Owner != "" || s.Team != "" {
			fmt.Fprintf(w, "  owner:     %s  team: %s\n", dash(s.Owner), dash(s.Team))
		}
		var to []string
		for _, n := range c.NotifiersFor(s.Name) {
			to = append(to, n.Name)
		}
		if len(to) == 0 {
			to = []string{"(none: findings are only stored)"}
		}
		fmt.Fprintf(w, "  alerts to: %s\n", strings.Join(to, ", "))
		if c.Cluster != nil {
			fmt.Fprintf(w, "  sites:     %s (swept by their workers)\n", strings.Join(s.Sites, ", "))
		}
	}
	fmt.Fprintln(w)
	for _, n := range c.Notifiers {
		fmt.Fprintf(w, "notifier %s: %s %s; events %s", n.Name, n.Kind(), n.target(), strings.Join(n.Events, ","))
		if n.MinSeverity != "" {
			fmt.Fprintf(w, "; severity ≥ %s", n.MinSeverity)
		}
		fmt.Fprintln(w)
	}
	if len(c.Notifiers) == 0 {
		fmt.Fprintln(w, "notifiers: none")
	}
	switch c.Store.Kind() {
	case "postgres":
		fmt.Fprintf(w, "store:     postgres %s\n", c.Store.Postgres)
	default:
		fmt.Fprintf(w, "store:     sqlite %s\n", c.Store.SQLite)
	}
	if cl := c.Cluster; cl != nil {
		fmt.Fprintf(w, "cluster:   coordinator over NATS %s (streams %s_*), work items of %d endpoints, %d in flight per sweep, ack wait %s, parked after %d deliveries; one coordinator active (PostgreSQL lease)\n",
			cl.NATS, cl.Stream, cl.Chunk, cl.InFlight, cl.AckWait, cl.MaxDeliver)
	}
	if c.API.Disable {
		fmt.Fprintln(w, "api:       disabled")
	} else {
		where := "loopback only"
		if !c.API.ListenIsLoopback() {
			where = "NOT loopback: reachable from the network"
		}
		fmt.Fprintf(w, "api:       http://%s (%s), %d token(s)\n", c.API.Listen, where, len(c.API.Tokens))
	}
	rate := "no limit"
	if *c.Probe.Rate > 0 {
		rate = fmt.Sprintf("%g connections/s", *c.Probe.Rate)
	}
	fmt.Fprintf(w, "probing:   %s shared by all scopes; %d connects and %d probes at once; %d records/dataset, %d datasets\n",
		rate, c.Probe.Concurrency, c.Probe.Workers, c.Probe.SampleRecords, c.Probe.MaxDatasets)
	fmt.Fprintf(w, "lifecycle: closed after %d consecutive gone/protected checks\n", c.Monitor.CloseAfter)
	fmt.Fprintf(w, "key file:  %s\n", c.KeyFile)
}

func (n *Notifier) target() string {
	switch {
	case n.Webhook != nil:
		return redactURL(n.Webhook.URL.Value)
	case n.Slack != nil:
		return redactURL(n.Slack.URL.Value)
	case n.Email != nil:
		return fmt.Sprintf("via %s:%d to %s", n.Email.Host, n.Email.Port, strings.Join(n.Email.To, ", "))
	case n.PagerDuty != nil:
		return redactURL(n.PagerDuty.URL.Value)
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// portsString compacts runs: 8000-8010,9200.
func portsString(ports []int) string {
	var parts []string
	for i := 0; i < len(ports); {
		j := i
		for j+1 < len(ports) && ports[j+1] == ports[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, strconv.Itoa(ports[i])+"-"+strconv.Itoa(ports[j]))
		} else {
			parts = append(parts, strconv.Itoa(ports[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
