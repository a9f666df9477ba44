// Package zookeeper probes Apache ZooKeeper: the "srvr"/"mntr" four-letter
// words give version, mode and znode count (when whitelisted); a client
// session over the binary protocol lists the top-level znodes (the
// datasets), counts each subtree with a bounded walk of getChildren2 calls
// and samples znode data with getData. ACLs that refuse reads (NoAuth) make
// the data protected.
//
// Only read operations are sent: srvr, mntr, connect, getChildren2,
// getData, closeSession. Opening a session is itself recorded by the server
// (it advances the transaction id), as for any client; no znode changes.
package zookeeper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Prober probes ZooKeeper.
type Prober struct{}

var _ probe.Prober = (*Prober)(nil)

// New returns a ZooKeeper prober.
func New() *Prober { return &Prober{} }

// Name is the service name.
func (p *Prober) Name() string { return "zookeeper" }

// DefaultPorts is ZooKeeper's client port.
func (p *Prober) DefaultPorts() []int { return []int{2181} }

// maxFourLetter bounds a four-letter-word reply.
const maxFourLetter = 64 << 10

// fourLetterEvidence maps srvr/mntr fields to evidence keys.
var fourLetterEvidence = map[string]string{
	"Mode": "mode", "Node count": "znode_count", "Zxid": "zxid", "Connections": "connections",
	"zk_server_state": "mode", "zk_znode_count": "znode_count",
	"zk_approximate_data_size": "approximate_data_size", "zk_ephemerals_count": "ephemerals_count",
	"zk_num_alive_connections": "connections", "zk_uptime": "uptime_ms",
}

// Probe identifies and measures the ZooKeeper server at env.Target.
func (p *Prober) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	res := &probe.Result{Product: "zookeeper"}
	identified, err := fourLetterWords(ctx, env, res)
	if err != nil {
		return nil, err
	}
	s, err := connect(ctx, env)
	if err != nil {
		if !identified {
			return nil, connectError(err)
		}
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("zookeeper: session: %v", err)
		return res, nil
	}
	defer s.close()
	res.AddEvidence("session_timeout_ms", s.timeoutMS)

	root, err := s.one(opGetChildren2, "/", env.Budget.MaxResponseBytes)
	switch {
	case err != nil:
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("zookeeper: list /: %v", err)
		return res, nil
	case root.hdr.err == errNoAuth:
		protect(res)
		return res, nil
	case root.hdr.err != errOK:
		res.Status, res.Auth = finding.StatusUnknown, finding.AuthUnknown
		res.AddErrorf("zookeeper: list /: error %d", root.hdr.err)
		return res, nil
	}
	// Two signals: a session was granted without credentials, and the root
	// listing was answered.
	res.Status, res.Auth = finding.StatusExposed, finding.AuthNone
	env.Provisional(res) // identified: reported even if a limit stops the rest
	if root.childrenCut {
		res.AddFlag(probe.FlagDatasetsTruncated)
	}
	w := &walker{s: s, b: env.Budget, ops: maxOps}
	w.measure(ctx, res, root.children)
	return res, nil
}

// fourLetterWords sends srvr (then mntr) on their own connections. It
// returns whether the answers identify ZooKeeper; an answer that is not
// ZooKeeper's ends the probe.
func fourLetterWords(ctx context.Context, env *probe.Env, res *probe.Result) (bool, error) {
	text, err := fourLetter(ctx, env, "srvr")
	switch {
	case err != nil && probe.IsTimeout(err):
		return false, fmt.Errorf("zookeeper: srvr: %w", err)
	case err != nil || text == "":
		return false, nil // closed without a word: the binary protocol decides
	case strings.Contains(text, notWhitelisted):
		res.AddEvidence("four_letter_words", "not whitelisted")
		return true, nil
	case !strings.HasPrefix(text, "Zookeeper version: "):
		return false, probe.NotThisService("zookeeper: srvr answered %q", trim(text))
	}
	fields := parseFourLetter(text)
	if mntr, err := fourLetter(ctx, env, "mntr"); err == nil && strings.HasPrefix(mntr, "zk_") {
		for k, v := range parseFourLetter(mntr) {
			fields[k] = v
		}
	}
	res.Version = version(fields["Zookeeper version"])
	for k, ev := range fourLetterEvidence {
		if v, ok := fields[k]; ok {
			res.AddEvidence(ev, v)
		}
	}
	return true, nil
}

// fourLetter sends one four-letter word and reads the reply to EOF, or
// only until it cannot be ZooKeeper's (a line-based server keeps the
// connection open after its error line).
func fourLetter(ctx context.Context, env *probe.Env, word string) (string, error) {
	c, err := env.Dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.Close()
	// The line end makes line-based servers (memcached, SMTP, ...) answer
	// at once; ZooKeeper reads only the four bytes.
	if _, err := io.WriteString(c, word+"\r\n"); err != nil {
		return "", err
	}
	var buf []byte
	chunk := make([]byte, 4096)
	for len(buf) < maxFourLetter {
		n, err := c.Read(chunk[:min(len(chunk), maxFourLetter-len(buf))])
		buf = append(buf, chunk[:n]...)
		if !plausibleFourLetter(word, buf) {
			return string(buf), nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || len(buf) > 0 {
				return string(buf), nil
			}
			return "", err
		}
	}
	return string(buf), nil
}

// plausibleFourLetter tells whether b can still be the start of
// ZooKeeper's answer to word.
func plausibleFourLetter(word string, b []byte) bool {
	for _, p := range []string{"Zookeeper version: ", "zk_", word + " " + notWhitelisted} {
		n := min(len(p), len(b))
		if string(b[:n]) == p[:n] {
			return true
		}
	}
	return false
}

// connectError maps a failed session to not-this-service when the peer
// spoke something else.
func connectError(err error) error {
	if errors.Is(err, errProtocol) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return probe.NotThisService("zookeeper: %v", err)
	}
	return fmt.Errorf("zookeeper: connect: %w", err)
}

// protect marks res protected by ACLs.
func protect(res *probe.Result) {
	res.Status, res.Auth = finding.StatusProtected, finding.AuthRequired
	res.AddEvidence("auth_challenge", "NoAuth")
}

func trim(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
