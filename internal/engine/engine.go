// Package engine runs the probe stage of a scan: for each open host:port it
// tries the registered probers (those claiming the port first), under the
// target's deadline and byte budget, classifies what the identifying prober
// sampled, and turns the result into a finding. Raw samples are dropped
// here, right after classification.
package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
)

// Options configure an Engine.
type Options struct {
	Registry   *probe.Registry
	Classifier classify.Classifier
	Budget     probe.Budget
	// AllProbers tries every prober on a port no claiming prober
	// recognised (services on non-standard ports). Default true in scans.
	AllProbers bool
	// DefaultCredentials lets probers try well-known factory logins.
	DefaultCredentials bool
	// InScope is checked before every connection.
	InScope probe.ScopeFunc
	// Now is the clock (tests).
	Now func() time.Time
}

// Engine probes endpoints. It is safe for concurrent use.
type Engine struct {
	opts Options
}

// New checks options and makes an engine.
func New(opts Options) (*Engine, error) {
	if opts.Registry == nil {
		return nil, errors.New("engine: no prober registry")
	}
	if opts.Classifier == nil {
		return nil, errors.New("engine: no classifier")
	}
	if opts.InScope == nil {
		return nil, errors.New("engine: no scope check")
	}
	if err := opts.Budget.Validate(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Engine{opts: opts}, nil
}

// Attempt records one prober's try on an endpoint.
type Attempt struct {
	Prober   string
	Outcome  probe.Outcome
	Err      error
	Duration time.Duration
}

// Report is what probing one endpoint produced: a finding if a prober
// recognised the service, and every attempt.
type Report struct {
	Target   probe.Target
	Finding  *finding.Finding
	Attempts []Attempt
}

// Outcome summarises the report in the probe vocabulary.
func (r *Report) Outcome() probe.Outcome {
	if r.Finding != nil {
		return probe.Outcome(r.Finding.Status)
	}
	out := probe.OutcomeNotThisService
	for _, a := range r.Attempts {
		switch a.Outcome {
		case probe.OutcomeTimeout, probe.OutcomeRefused, probe.OutcomeProtocolError:
			out = a.Outcome
		}
	}
	return out
}

// Probe identifies and measures the service at t. The whole endpoint,
// across all probers tried, is bounded by Budget.Timeout.
func (e *Engine) Probe(ctx context.Context, t probe.Target) *Report {
	rep := &Report{Target: t}
	if !e.opts.InScope(t.AddrPort()) {
		rep.Attempts = append(rep.Attempts, Attempt{Outcome: probe.OutcomeRefused, Err: probe.ErrOutOfScope})
		return rep
	}
	ctx, cancel := context.WithTimeout(ctx, e.opts.Budget.Timeout)
	defer cancel()
	var claimers, fallbacks []probe.Prober
	for _, p := range e.opts.Registry.ForPort(t.Port, e.opts.AllProbers) {
		if slices.Contains(p.DefaultPorts(), t.Port) {
			claimers = append(claimers, p)
		} else {
			fallbacks = append(fallbacks, p)
		}
	}
	if e.try(ctx, t, claimers, rep, 0) || len(fallbacks) == 0 || ctx.Err() != nil {
		return rep
	}
	// No claimer recognised the port: learn what it speaks, once, drop the
	// fallback probers that cannot match, and try first those whose
	// protocol the port's answer hints at.
	look := e.lookAt(ctx, t)
	var likely, rest []probe.Prober
	for _, p := range fallbacks {
		if h, ok := p.(probe.Hinter); ok && look.reply != nil && h.Hint(look.reply) {
			likely = append(likely, p) // a hint outranks the port's kind
			continue
		}
		if reason := skipReason(p, look.kind); reason != nil {
			rep.Attempts = append(rep.Attempts, Attempt{Prober: p.Name(), Outcome: probe.OutcomeNotThisService, Err: reason})
			continue
		}
		rest = append(rest, p)
	}
	if !e.try(ctx, t, likely, rep, e.opts.Budget.FallbackFirstByte) {
		e.try(ctx, t, rest, rep, e.opts.Budget.FallbackFirstByte)
	}
	return rep
}

// try runs probers in order until one recognises the service; it reports
// whether one did (or the port closed). firstByte, if set, bounds each
// connection's wait for its first byte.
func (e *Engine) try(ctx context.Context, t probe.Target, ps []probe.Prober, rep *Report, firstByte time.Duration) bool {
	for _, p := range ps {
		if ctx.Err() != nil {
			return true
		}
		env := probe.NewEnv(t, e.opts.Budget, e.opts.InScope)
		env.DefaultCredentials = e.opts.DefaultCredentials
		env.FirstByteTimeout = firstByte
		began := time.Now()
		res, err := safeProbe(ctx, p, env)
		out := classifyErr(err)
		rep.Attempts = append(rep.Attempts, Attempt{Prober: p.Name(), Outcome: out, Err: err, Duration: time.Since(began)})
		if err != nil || res == nil {
			if out == probe.OutcomeRefused {
				return true // nothing listens any more
			}
			continue
		}
		rep.Finding = e.toFinding(t, p.Name(), res)
		rep.Attempts[len(rep.Attempts)-1].Outcome = probe.Outcome(rep.Finding.Status)
		return true
	}
	return false
}

// portKind is what a port speaks, as far as a cheap look tells.
type portKind int

const (
	kindUnknown portKind = iota
	kindBanner           // the server spoke first
	kindHTTP             // silent, and answers an HTTP request with HTTP (plain or TLS)
	kindNotHTTP          // silent, and answers an HTTP request with something else
	kindOther            // silent to a greeting and to HTTP: could be anything
)

var (
	errNoBanner = errors.New("no server greeting: server-first protocol skipped")
	errHTTPPort = errors.New("port speaks HTTP: non-HTTP protocol skipped")
	errNotHTTP  = errors.New("port answers HTTP with something else: HTTP skipped")
	errBanner   = errors.New("port greets first: HTTP skipped")
)

// skipReason says why prober p need not run on a port of this kind, or nil.
func skipReason(p probe.Prober, kind portKind) error {
	_, serverFirst := p.(probe.ServerFirst)
	_, httpBased := p.(probe.HTTPBased)
	switch {
	case serverFirst && kind != kindBanner && kind != kindUnknown:
		return errNoBanner
	case httpBased && kind == kindBanner:
		return errBanner
	case httpBased && kind == kindNotHTTP:
		return errNotHTTP
	case !httpBased && !serverFirst && kind == kindHTTP:
		return errHTTPPort
	}
	return nil
}

// lookAt looks at the target once, for choosing fallback probers: it
// waits up to Budget.BannerWait for a greeting, sending nothing; if none
// comes it sends a minimal HTTP request and reads the first bytes of the
// answer; a TLS alert or a closed connection leads to the same request over
// TLS. Failures to connect give kindUnknown, so every prober still runs.
type look struct {
	kind portKind
	// reply is the start of the greeting, or of the answer to HEAD /.
	reply []byte
}

func (e *Engine) lookAt(ctx context.Context, t probe.Target) look {
	env := probe.NewEnv(t, e.opts.Budget, e.opts.InScope)
	c, err := env.Dial(ctx)
	if err != nil {
		return look{kind: kindUnknown}
	}
	if err := c.SetReadDeadline(time.Now().Add(e.opts.Budget.BannerWait)); err != nil {
		c.Close()
		return look{kind: kindUnknown}
	}
	b := make([]byte, hintBytes)
	n, _ := c.Read(b)
	c.Close()
	if n > 0 {
		return look{kind: kindBanner, reply: b[:n]}
	}
	wait := e.opts.Budget.BannerWait
	reply, timedOut := httpReply(ctx, env, false, wait)
	switch {
	case bytes.HasPrefix(reply, []byte("HTTP/")):
		return look{kind: kindHTTP, reply: reply}
	case len(reply) > 0 && reply[0] != tlsAlert:
		return look{kind: kindNotHTTP, reply: reply}
	case len(reply) == 0 && timedOut:
		// Silent: a tarpit, or a length-prefixed protocol waiting for the
		// rest of a "frame". Probers may hint on silence (an empty reply).
		return look{kind: kindOther, reply: []byte{}}
	}
	// A TLS alert, or closed without a word: try HTTPS.
	if r, _ := httpReply(ctx, env, true, wait); bytes.HasPrefix(r, []byte("HTTP/")) {
		return look{kind: kindHTTP, reply: r}
	}
	if len(reply) == 0 {
		return look{kind: kindOther, reply: []byte{}} // closed without a word
	}
	return look{kind: kindOther}
}

// hintBytes is how much of a greeting or answer is kept for hints.
const hintBytes = 512

// tlsAlert is the record type a TLS server answers plain text with.
const tlsAlert = 0x15

// httpReply sends "HEAD / HTTP/1.0" and returns the first bytes of the
// answer (up to hintBytes), and whether no byte came within wait.
func httpReply(ctx context.Context, env *probe.Env, useTLS bool, wait time.Duration) ([]byte, bool) {
	dial := env.Dial
	if useTLS {
		dial = env.DialTLS
	}
	dctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	c, err := dial(dctx)
	if err != nil {
		return nil, probe.IsTimeout(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("HEAD / HTTP/1.0\r\nUser-Agent: leakwatch\r\n\r\n")); err != nil {
		return nil, false
	}
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil, false
	}
	b := make([]byte, hintBytes)
	n, err := io.ReadAtLeast(c, b, 5)
	if n == 0 {
		return nil, probe.IsTimeout(err)
	}
	// Keep what else arrives at once (a short explanation in the body,
	// as MongoDB's), without waiting long for it.
	if err == nil && n < len(b) {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		m, _ := io.ReadAtLeast(c, b[n:], len(b)-n)
		n += m
	}
	return b[:n], false
}

// safeProbe turns a prober panic (a bug, or a parser fed hostile input)
// into an error instead of killing the scan.
func safeProbe(ctx context.Context, p probe.Prober, env *probe.Env) (res *probe.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%s: panic: %v: %w", p.Name(), r, errProtocol)
		}
	}()
	return p.Probe(ctx, env)
}

var errProtocol = errors.New("protocol error")

func classifyErr(err error) probe.Outcome {
	switch {
	case err == nil:
		return probe.OutcomeUnknown
	case errors.Is(err, probe.ErrNotThisService):
		return probe.OutcomeNotThisService
	case errors.Is(err, syscall.ECONNREFUSED):
		return probe.OutcomeRefused
	case probe.IsTimeout(err):
		return probe.OutcomeTimeout
	}
	return probe.OutcomeProtocolError
}

// toFinding classifies the result's samples and builds the finding.
func (e *Engine) toFinding(t probe.Target, service string, res *probe.Result) *finding.Finding {
	f := &finding.Finding{
		Target:     finding.Target{Host: t.Addr.String(), Port: t.Port, Hostname: t.Hostname},
		Service:    service,
		Product:    res.Product,
		Version:    res.Version,
		TLS:        res.TLS,
		Status:     res.Status,
		Auth:       res.Auth,
		Flags:      slices.Clone(res.Flags),
		Evidence:   res.Evidence,
		Error:      res.Error,
		ObservedAt: e.opts.Now().UTC().Truncate(time.Millisecond),
	}
	if f.Status == "" {
		f.Status = finding.StatusUnknown
	}
	if f.Auth == "" {
		f.Auth = finding.AuthUnknown
	}
	f.Datasets = e.classifyAll(res.Datasets)
	for _, d := range f.Datasets {
		if len(d.Canary) > 0 && !slices.Contains(f.Flags, "canary") {
			f.Flags = append(f.Flags, "canary")
		}
	}
	classify.Scrub(f) // names are values: mask them in what is written out (safety rule 4)
	f.Finalize()
	return f
}

// classifyAll classifies datasets in parallel (classification is CPU
// work; samples are bounded) and drops the raw samples.
func (e *Engine) classifyAll(in []probe.Dataset) []finding.Dataset {
	out := make([]finding.Dataset, len(in))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i := range in {
		out[i] = in[i].Dataset
		if len(in[i].Sample) == 0 && len(in[i].Fields) == 0 {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			o := e.opts.Classifier.Classify(classify.Input{
				Schema:  in[i].Fields,
				Sample:  in[i].Sample,
				Records: in[i].Records,
			})
			out[i].Classes = o.Classes
			out[i].Canary = o.Canaries
			if out[i].Sampled == 0 {
				out[i].Sampled = len(in[i].Sample)
			}
		}(i)
	}
	wg.Wait()
	return out
}
