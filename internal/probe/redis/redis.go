// Package redis probes Redis (and RESP-compatible forks such as Valkey):
// PING and INFO identify the server and tell whether it demands
// credentials; INFO keyspace lists the databases with their key counts; a
// bounded SCAN plus type-aware bounded reads sample each database.
//
// Only read-only commands are sent: PING, INFO, SELECT (connection state
// only), SCAN, TYPE, STRLEN/HLEN/LLEN/SCARD/ZCARD/XLEN, GET/GETRANGE,
// HGETALL/HSCAN, LRANGE, SMEMBERS/SSCAN, ZRANGE, XREVRANGE; and CLIENT LIST
// for the access evidence (access.go).
package redis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes Redis.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a Redis prober.
func New() *Prober { return &Prober{} }

// Name is the service name.
func (p *Prober) Name() string { return "redis" }

// Hint implements probe.Hinter: Redis answers each line of an HTTP request with a RESP error.
func (*Prober) Hint(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("-ERR")) || bytes.HasPrefix(reply, []byte("-NOAUTH")) || bytes.HasPrefix(reply, []byte("-DENIED"))
}

// DefaultPorts are Redis's client port and Redis Sentinel's port.
func (p *Prober) DefaultPorts() []int { return []int{6379, 26379} }

// infoEvidence are the INFO fields kept as evidence: facts about the
// server, never data.
var infoEvidence = []string{
	"redis_mode", "role", "os", "arch_bits", "tcp_port", "uptime_in_seconds",
	"connected_clients", "used_memory", "maxmemory", "cluster_enabled",
	"aof_enabled", "rdb_last_save_time", "connected_slaves", "master_host",
	"config_file", "executable",
}

// Probe identifies and measures the Redis server at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	s := newSession(env)
	defer s.close()
	metaLim := limits{maxBytes: env.Budget.MaxResponseBytes, maxElems: 1024, maxDepth: 4}

	pong, err := s.do(ctx, metaLim, "PING")
	if err != nil {
		return nil, firstReplyError(err)
	}
	res := &probe.Result{Product: "redis"}
	if done, err := classifyPing(res, pong); done || err != nil {
		return res, err
	}
	iv, err := s.do(ctx, metaLim, "INFO")
	if err != nil {
		if errors.Is(err, errProtocol) {
			return nil, probe.NotThisService("redis: INFO reply: %v", err)
		}
		return nil, fmt.Errorf("redis: read INFO: %w", err)
	}
	if iv.isError() {
		if authError(iv.text()) {
			protect(res, "INFO", iv.text())
			return res, nil
		}
		if pong.kind != kindSimple {
			return nil, probe.NotThisService("redis: INFO answered %q", trim(iv.text()))
		}
		return nil, probe.NotThisService("redis: PONG but INFO answered an error")
	}
	in := parseInfo(iv.text())
	if !identify(res, in) {
		return nil, probe.NotThisService("redis: INFO without a server version")
	}
	// Two signals: PING was answered without an auth challenge, and INFO
	// (metadata) was readable.
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if in["redis_mode"] == "sentinel" {
		// A sentinel stores no data; it is reported without datasets.
		res.AddFlag("sentinel")
		res.AddEvidence("sentinel_masters", in["sentinel_masters"])
		readAccess(ctx, s, env, res)
		return res, nil
	}
	sampleAll(ctx, s, env, res, in.keyspaces())
	readAccess(ctx, s, env, res)
	return res, nil
}

// firstReplyError maps a failed first exchange: bytes that are not RESP mean
// another service; a timeout or refusal is passed on.
func firstReplyError(err error) error {
	switch {
	case errors.Is(err, errProtocol), errors.Is(err, ErrTooLarge):
		return probe.NotThisService("redis: PING reply: %v", err)
	case isClosed(err):
		return probe.NotThisService("redis: connection closed without a reply")
	}
	return fmt.Errorf("redis: PING: %w", err)
}

// classifyPing decides what the PING reply says. done is true when the
// result is final (protected or busy).
func classifyPing(res *probe.Result, v value) (done bool, err error) {
	switch {
	case v.kind == kindSimple && v.text() == "PONG":
		return false, nil
	case v.kind == kindError && strings.HasPrefix(v.text(), "DENIED ") &&
		strings.Contains(v.text(), "protected mode"):
		// Protected mode: no password set, but remote clients are refused.
		protect(res, "PING", v.text())
		res.AddFlag("protected-mode")
		return true, nil
	case v.kind == kindError && authError(v.text()):
		protect(res, "PING", v.text())
		return true, nil
	case v.kind == kindError && strings.HasPrefix(v.text(), "LOADING "):
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("redis is loading its dataset")
		return true, nil
	case v.kind == kindError && strings.HasPrefix(v.text(), "ERR unknown command"):
		// PING renamed away; INFO decides.
		return false, nil
	}
	return true, probe.NotThisService("redis: PING answered %q", trim(v.text()))
}

// authError tells whether an error reply is an authentication or
// authorisation refusal.
func authError(msg string) bool {
	return strings.HasPrefix(msg, "NOAUTH ") || strings.HasPrefix(msg, "NOPERM ") ||
		strings.HasPrefix(msg, "WRONGPASS ") || msg == "ERR operation not permitted"
}

// protect marks res as protected, keeping the error code as evidence.
func protect(res *probe.Result, cmd, msg string) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	code, _, _ := strings.Cut(msg, " ")
	res.AddEvidence("auth_challenge", code)
	res.AddEvidence("challenged_command", cmd)
}

// identify fills product and version from INFO; false when INFO does not
// look like a Redis-family server.
func identify(res *probe.Result, in info) bool {
	switch {
	case in["valkey_version"] != "":
		res.Product, res.Version = "valkey", in["valkey_version"]
	case in["dragonfly_version"] != "":
		res.Product, res.Version = "dragonfly", strings.TrimPrefix(in["dragonfly_version"], "df-v")
	case in["redis_version"] != "":
		res.Version = in["redis_version"]
	default:
		return false
	}
	for _, k := range infoEvidence {
		if v, ok := in[k]; ok && v != "" {
			res.AddEvidence(k, v)
		}
	}
	return true
}

// sampleAll lists the keyspaces and samples the largest ones.
func sampleAll(ctx context.Context, s *session, env *probe.Env, res *probe.Result, kss []keyspace) {
	if len(kss) > env.Budget.MaxListed {
		res.AddFlag("datasets-truncated")
		kss = kss[:env.Budget.MaxListed]
	}
	start := len(res.Datasets)
	for _, ks := range kss {
		ds := probe.Dataset{}
		ds.Name, ds.Kind, ds.Records = ks.name(), "keyspace", finding.Int64(ks.keys)
		res.Datasets = append(res.Datasets, ds)
	}
	denied := 0
	probe.SampleLargest(ctx, res, env.Budget, res.Datasets[start:], func(ctx context.Context, i int, ds *probe.Dataset) error {
		if kss[i].keys <= 0 {
			return nil
		}
		err := sampleDB(ctx, s, env.Budget, kss[i], ds)
		if errors.Is(err, errDenied) {
			denied++
			return nil
		}
		if err != nil {
			return fmt.Errorf("redis: sample %s: %w", ds.Name, err)
		}
		return nil
	})
	if denied > 0 && denied == min(len(kss), env.Budget.MaxDatasets) {
		// ACLs let the default user see INFO but not read keys.
		res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
		res.AddFlag("keyspace-visible")
		res.AddEvidence("auth_challenge", "NOPERM")
	}
}

// dbArg is the SELECT argument for a keyspace.
func dbArg(ks keyspace) string { return strconv.Itoa(ks.db) }
