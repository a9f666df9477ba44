package config

import (
	"fmt"
	"net/url"
	"regexp"
	"time"
)

var streamRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// Cluster defaults.
const (
	DefaultClusterStream   = "LEAKWATCH"
	DefaultClusterChunk    = 256
	DefaultClusterInFlight = 32
	DefaultClusterAckWait  = 30 * time.Second
	DefaultClusterMaxTries = 5
)

// Cluster makes `leakwatch serve` a coordinator: sweeps are planned as
// work items on a NATS JetStream work queue, swept and probed by
// `leakwatch worker` processes at the scopes' sites, and their results
// recorded in the store, which must be PostgreSQL (shared by every
// coordinator). Several coordinators may run; one is active at a time
// (a PostgreSQL advisory lock), the others stand by.
type Cluster struct {
	// NATS is the server URL, nats://[user:pass@]host:port (several
	// comma-separated for a NATS cluster).
	NATS Secret `yaml:"nats"`
	// Stream is the prefix of the JetStream streams (default LEAKWATCH).
	Stream string `yaml:"stream"`
	// Sites are the default vantage points of a scope without its own
	// `sites` (at least one).
	Sites []string `yaml:"sites"`
	// Chunk is the number of endpoints in one work item (default 256).
	Chunk int `yaml:"chunk"`
	// InFlight caps the work items of one sweep waiting for results
	// (default 32).
	InFlight int `yaml:"in_flight"`
	// AckWait is how long a work item stays with a worker that stopped
	// reporting progress before it is redelivered (default 30s; a
	// worker extends it while it probes).
	AckWait Duration `yaml:"ack_wait"`
	// MaxDeliver is how many deliveries a work item gets before it is
	// parked with its last error (default 5).
	MaxDeliver int `yaml:"max_deliver"`
}

func (c *Cluster) defaults() {
	if c == nil {
		return
	}
	if c.Stream == "" {
		c.Stream = DefaultClusterStream
	}
	if c.Chunk == 0 {
		c.Chunk = DefaultClusterChunk
	}
	if c.InFlight == 0 {
		c.InFlight = DefaultClusterInFlight
	}
	if c.AckWait.D == 0 {
		c.AckWait.D = DefaultClusterAckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = DefaultClusterMaxTries
	}
}

// validateCluster checks the cluster section and the scopes' sites.
func (c *Config) validateCluster() error {
	cl := c.Cluster
	if cl == nil {
		for i, s := range c.Scopes {
			if len(s.Sites) > 0 {
				return fieldErr(fmt.Sprintf("scopes[%d].sites", i), "sites need a cluster section")
			}
		}
		return nil
	}
	if c.Store.Postgres.Value == "" {
		return fieldErr("cluster", "a cluster needs store.postgres (the history shared by coordinators)")
	}
	u, err := url.Parse(cl.NATS.Value)
	if cl.NATS.Value == "" || err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
		return fieldErr("cluster.nats", "want a nats:// or tls:// URL")
	}
	if !streamRE.MatchString(cl.Stream) {
		return fieldErr("cluster.stream", "%q: want 1-32 of A-Z a-z 0-9 _ -", cl.Stream)
	}
	if len(cl.Sites) == 0 {
		return fieldErr("cluster.sites", "at least one site is required")
	}
	if err := checkSites("cluster.sites", cl.Sites); err != nil {
		return err
	}
	if cl.Chunk < 1 || cl.Chunk > 65536 {
		return fieldErr("cluster.chunk", "must be 1..65536")
	}
	if cl.InFlight < 1 || cl.InFlight > 4096 {
		return fieldErr("cluster.in_flight", "must be 1..4096")
	}
	if cl.AckWait.D < time.Second {
		return fieldErr("cluster.ack_wait", "must be at least 1s")
	}
	if cl.MaxDeliver < 1 || cl.MaxDeliver > 100 {
		return fieldErr("cluster.max_deliver", "must be 1..100")
	}
	for i, s := range c.Scopes {
		if err := checkSites(fmt.Sprintf("scopes[%d].sites", i), s.Sites); err != nil {
			return err
		}
	}
	return nil
}

// checkSites checks site labels: names as for scopes, no duplicates.
func checkSites(path string, sites []string) error {
	seen := map[string]bool{}
	for i, s := range sites {
		if !nameRE.MatchString(s) {
			return fieldErr(fmt.Sprintf("%s[%d]", path, i), "%q: want a-z 0-9 . _ - (at most 63)", s)
		}
		if seen[s] {
			return fieldErr(fmt.Sprintf("%s[%d]", path, i), "duplicate site %q", s)
		}
		seen[s] = true
	}
	return nil
}
