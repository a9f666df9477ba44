// Package memcached probes memcached. A binary-protocol VERSION request
// (which an ASCII-only server also answers at once, with ERROR) tells the
// server's dialect; STAT / "stats" give version, item count and bytes, or
// reveal authentication (SASL on the binary protocol, the ASCII auth file's
// "CLIENT_ERROR unauthenticated"). The sample comes from a bounded read of
// "lru_crawler metadump all" and a "get" of a few small keys.
//
// Only read commands are sent: version, stats, lru_crawler metadump, get.
package memcached

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes memcached.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a memcached prober.
func New() *Prober { return &Prober{} }

// Name is the service name.
func (p *Prober) Name() string { return "memcached" }

// Hint implements probe.Hinter: memcached answers an unknown ASCII command with ERROR.
func (*Prober) Hint(reply []byte) bool {
	return bytes.HasPrefix(reply, []byte("ERROR")) || bytes.HasPrefix(reply, []byte("CLIENT_ERROR"))
}

// DefaultPorts is memcached's port.
func (p *Prober) DefaultPorts() []int { return []int{11211} }

// maxStats bounds the stat lines / packets read.
const maxStats = 1024

// statEvidence are the stats kept as evidence (server facts, not data).
var statEvidence = []string{
	"uptime", "curr_connections", "total_connections", "total_items",
	"limit_maxbytes", "evictions", "cmd_get", "threads", "pointer_size", "libevent",
}

// conn is one connection with a buffered reader.
type conn struct {
	net.Conn
	r *bufio.Reader
}

func dial(ctx context.Context, env *probe.Env) (*conn, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil, err
	}
	return &conn{Conn: c, r: bufio.NewReaderSize(c, maxLine)}, nil
}

// Probe identifies and measures the memcached server at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	res := &probe.Result{Product: "memcached"}
	stats, err := identify(ctx, env, res)
	if err != nil || stats == nil {
		return res, err
	}
	res.Version = stats["version"]
	for _, k := range statEvidence {
		if v, ok := stats[k]; ok {
			res.AddEvidence(k, v)
		}
	}
	// Two signals: stats were readable, and no auth challenge was met.
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	ds := probe.Dataset{}
	ds.Name, ds.Kind = "cache", "cache"
	if n, err := strconv.ParseInt(stats["curr_items"], 10, 64); err == nil {
		ds.Records = finding.Int64(n)
	}
	if n, err := strconv.ParseInt(stats["bytes"], 10, 64); err == nil {
		ds.Bytes = finding.Int64(n)
	}
	if env.Budget.MaxDatasets > 0 && (ds.Records == nil || *ds.Records > 0) {
		if err := sample(ctx, env, &ds); err != nil {
			res.AddErrorf("memcached: sample: %v", err)
		}
	}
	res.Datasets = append(res.Datasets, ds)
	return res, nil
}

// identify finds out whether this is memcached and whether it demands
// credentials. It returns the stats of an open server; nil stats with a nil
// error mean res is final (protected).
func identify(ctx context.Context, env *probe.Env, res *probe.Result) (map[string]string, error) {
	c, err := dial(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("memcached: %w", err)
	}
	defer c.Close()
	if _, err := c.Write(binRequest(opVersion)); err != nil {
		return nil, fmt.Errorf("memcached: write version: %w", err)
	}
	first, err := c.r.Peek(1)
	if err != nil {
		return nil, firstReplyError(err)
	}
	if first[0] == magicResponse {
		return binaryStats(c, res)
	}
	line, err := readLine(c.r)
	if err != nil {
		return nil, firstReplyError(err)
	}
	switch line {
	case "ERROR":
		// An ASCII-only server read our request as an unknown command.
		return asciiStats(ctx, env, res)
	case "CLIENT_ERROR unauthenticated":
		protect(res, "ascii-auth")
		return nil, nil
	}
	return nil, probe.NotThisService("memcached: answered %q", trim(line))
}

// firstReplyError maps a failed first read.
func firstReplyError(err error) error {
	switch {
	case errors.Is(err, errProtocol):
		return probe.NotThisService("memcached: %v", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return probe.NotThisService("memcached: connection closed without a reply")
	}
	return fmt.Errorf("memcached: read reply: %w", err)
}

// binaryStats finishes the binary VERSION exchange and asks for STAT: a
// SASL server answers it with an authentication error.
func binaryStats(c *conn, res *probe.Result) (map[string]string, error) {
	ver, err := readBinResponse(c.r)
	if err != nil {
		return nil, probe.NotThisService("memcached: %v", err)
	}
	if ver.opcode != opVersion || ver.status != 0 || !looksLikeVersion(ver.value) {
		return nil, probe.NotThisService("memcached: binary reply without a version")
	}
	res.Version = ver.value
	if _, err := c.Write(binRequest(opStat)); err != nil {
		return nil, fmt.Errorf("memcached: write stat: %w", err)
	}
	stats := map[string]string{}
	for i := 0; i < maxStats; i++ {
		r, err := readBinResponse(c.r)
		if err != nil {
			return nil, fmt.Errorf("memcached: read stat: %w", err)
		}
		switch {
		case r.status == statusAuthError || r.status == statusAuthContinue:
			protect(res, "sasl")
			return nil, nil
		case r.status != 0:
			return nil, fmt.Errorf("memcached: stat status %#x", r.status)
		case r.key == "":
			return checkStats(stats, res.Version)
		}
		stats[r.key] = r.value
	}
	return nil, fmt.Errorf("memcached: more than %d stats: %w", maxStats, errProtocol)
}

// asciiStats reads "stats" over the ASCII protocol.
func asciiStats(ctx context.Context, env *probe.Env, res *probe.Result) (map[string]string, error) {
	c, err := dial(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("memcached: %w", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "stats\r\n"); err != nil {
		return nil, fmt.Errorf("memcached: write stats: %w", err)
	}
	stats := map[string]string{}
	for i := 0; i < maxStats; i++ {
		line, err := readLine(c.r)
		if err != nil {
			if errors.Is(err, errProtocol) {
				return nil, probe.NotThisService("memcached: stats: %v", err)
			}
			return nil, fmt.Errorf("memcached: read stats: %w", err)
		}
		if line == "END" {
			return checkStats(stats, "")
		}
		if line == "CLIENT_ERROR unauthenticated" {
			protect(res, "ascii-auth")
			return nil, nil
		}
		k, v, ok := parseStat(line)
		if !ok {
			return nil, probe.NotThisService("memcached: stats answered %q", trim(line))
		}
		stats[k] = v
	}
	return nil, fmt.Errorf("memcached: more than %d stats: %w", maxStats, errProtocol)
}

// checkStats makes sure the stats are memcached's.
func checkStats(stats map[string]string, version string) (map[string]string, error) {
	if stats["version"] == "" {
		stats["version"] = version
	}
	if !looksLikeVersion(stats["version"]) || stats["curr_items"] == "" {
		return nil, probe.NotThisService("memcached: stats without version or curr_items")
	}
	return stats, nil
}

// looksLikeVersion accepts "1.6.18" and the like.
func looksLikeVersion(v string) bool {
	if v == "" || len(v) > 64 || v[0] < '0' || v[0] > '9' {
		return false
	}
	return strings.Contains(v, ".")
}

// protect marks res as protected by the given mechanism.
func protect(res *probe.Result, mech string) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	res.AddEvidence("auth_challenge", mech)
	res.AddFlag(mech)
}
