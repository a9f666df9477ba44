// Package cassandra probes Apache Cassandra (and CQL-compatible stores such
// as ScyllaDB) over the CQL native protocol (v4, falling back to v3).
//
// It identifies the server by its SUPPORTED answer to OPTIONS (a CQL
// frame carrying CQL_VERSION), learns from STARTUP whether the node demands
// authentication (AUTHENTICATE names the authenticator) and, if it does
// and default credentials are allowed, tries the factory superuser
// cassandra/cassandra. A node that let it in is exposed once system.local
// also answered. It then lists user tables from system_schema, their
// columns, partition estimates from system.size_estimates, and samples the
// largest tables with bounded SELECT * ... LIMIT n pages. It never writes.
package cassandra

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober is the Cassandra prober.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a Cassandra prober.
func New() *Prober { return &Prober{} }

// Name implements probe.Prober.
func (*Prober) Name() string { return "cassandra" }

// DefaultPorts implements probe.Prober.
func (*Prober) DefaultPorts() []int { return []int{9042} }

// defaultUser and defaultPassword are the superuser a Cassandra node with
// PasswordAuthenticator creates on first start.
const (
	defaultUser     = "cassandra"
	defaultPassword = "cassandra"
)

// startupCQLVersion is the CQL version asked for in STARTUP: every 3.x
// server accepts it.
const startupCQLVersion = "3.0.0"

// Probe implements probe.Prober.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	c, sup, err := handshake(ctx, env)
	if err != nil {
		var ce *cqlError
		if errors.As(err, &ce) {
			// A CQL ERROR frame is a CQL server that would not talk to us.
			res := &probe.Result{Product: "cassandra", Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
			res.AddEvidence("options_error", ce.Message)
			res.AddErrorf("cassandra: options: %v", err)
			return res, nil
		}
		if notCQL(err) {
			return nil, probe.NotThisService("cassandra: %v", err)
		}
		return nil, fmt.Errorf("cassandra: options: %w", err)
	}
	defer c.Close()
	res := &probe.Result{Product: product(sup), Status: finding.StatusUnknown, Auth: finding.AuthUnknown}
	noteSupported(res, sup)
	res.AddEvidence("protocol_version", int(c.version))

	if err := p.login(ctx, env, c, res); err != nil {
		res.AddError(err)
		return res, nil
	}
	if res.Status == finding.StatusProtected {
		return res, nil
	}
	// First signal: no authentication challenge (or the default login
	// succeeded). Second signal: system.local answers.
	if err := readLocal(c, res); err != nil {
		res.AddErrorf("cassandra: read system.local: %v", err)
		return res, nil
	}
	res.Status = finding.StatusExposed
	env.Provisional(res) // identified: reported even if a limit stops the rest
	measure(ctx, env, c, res)
	return res, nil
}

// handshake connects and sends OPTIONS with protocol v4, then v3 when the
// server refuses v4.
func handshake(ctx context.Context, env *probe.Env) (*conn, map[string][]string, error) {
	var last error
	for _, v := range []byte{4, 3} {
		c, err := dial(ctx, env, v)
		if err != nil {
			return nil, nil, err
		}
		sup, err := c.options()
		if err == nil {
			if len(sup["CQL_VERSION"]) == 0 {
				c.Close()
				return nil, nil, fmt.Errorf("%w: SUPPORTED without CQL_VERSION", errNotCQL)
			}
			return c, sup, nil
		}
		c.Close()
		var ce *cqlError
		if !errors.As(err, &ce) || ce.Code != errCodeProtocol {
			return nil, nil, err
		}
		last = err
	}
	return nil, nil, last
}

// notCQL tells whether err means the peer does not speak CQL.
func notCQL(err error) bool {
	return errors.Is(err, errNotCQL) || errors.Is(err, errMalformed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// product names the implementation from SUPPORTED options.
func product(sup map[string][]string) string {
	for k := range sup {
		if strings.HasPrefix(k, "SCYLLA_") {
			return "scylladb"
		}
	}
	if v := first(sup["PRODUCT_TYPE"]); v != "" {
		return strings.ToLower(v)
	}
	return "cassandra"
}

// noteSupported keeps the protocol facts of the SUPPORTED answer.
func noteSupported(res *probe.Result, sup map[string][]string) {
	res.AddEvidence("cql_version", sup["CQL_VERSION"])
	if v := sup["PROTOCOL_VERSIONS"]; len(v) > 0 {
		res.AddEvidence("protocol_versions", v)
	}
	if v := sup["COMPRESSION"]; len(v) > 0 {
		res.AddEvidence("compression", v)
	}
}

// login sends STARTUP and, when the server demands authentication, tries
// the default superuser if env allows it. It leaves res protected when the
// node stays closed, and sets res.Auth when it is open.
func (p *Prober) login(ctx context.Context, env *probe.Env, c *conn, res *probe.Result) error {
	rep, err := c.startup(startupCQLVersion)
	if err != nil {
		return fmt.Errorf("cassandra: startup: %w", err)
	}
	if rep.Ready {
		res.Auth = finding.AuthNone
		res.AddEvidence("authenticator", "none (READY without AUTHENTICATE)")
		return nil
	}
	res.AddEvidence("authenticator", rep.Authenticator)
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	if !env.DefaultCredentials {
		return nil
	}
	if err := c.login(defaultUser, defaultPassword); err != nil {
		if errors.Is(err, errAuthRefused) {
			res.AddEvidence("default_credentials", "rejected")
			return nil
		}
		return fmt.Errorf("cassandra: default credentials: %w", err)
	}
	res.Status, res.Auth = finding.StatusUnknown, finding.AuthDefaultCredentials
	res.AddFlag("default-credentials")
	res.AddEvidence("default_user", defaultUser)
	return nil
}

// readLocal reads the node's own facts from system.local.
func readLocal(c *conn, res *probe.Result) error {
	r, err := c.query("SELECT release_version, cluster_name, data_center, partitioner FROM system.local", 0, nil)
	if err != nil {
		return err
	}
	if len(r.Rows) == 0 {
		return fmt.Errorf("%w: system.local has no row", errMalformed)
	}
	row := r.Rows[0]
	if v := r.text(row, "release_version"); v != "" {
		res.Version = v
	}
	for _, k := range []string{"cluster_name", "data_center", "partitioner"} {
		if v := r.text(row, k); v != "" {
			res.AddEvidence(k, v)
		}
	}
	return nil
}

// systemKeyspace tells whether a keyspace belongs to the server itself.
func systemKeyspace(ks string) bool {
	return ks == "system" || strings.HasPrefix(ks, "system_") || strings.HasPrefix(ks, "dse_") ||
		ks == "solr_admin"
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// sortStrings returns a sorted copy.
func sortStrings(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
