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
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

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
	// MemoryCeiling bounds the bytes all concurrent probes may have read and
	// still hold (0: probe.DefaultMemoryCeiling). A target whose read finds
	// it exhausted (after a bounded wait) is reported with what it proved,
	// flagged memory-ceiling.
	MemoryCeiling int64
	// Memory, if set, is the pool to draw from instead of one of the
	// engine's own (MemoryCeiling is then ignored): engines that run side
	// by side in one process (serve's scopes, deep and light) share one
	// ceiling.
	Memory *probe.MemoryPool
	// Now is the clock (tests).
	Now func() time.Time
}

// Engine probes endpoints. It is safe for concurrent use.
type Engine struct {
	opts Options
	pool *probe.MemoryPool
	// cpu bounds classification (CPU work) across concurrent probes.
	cpu chan struct{}
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
	if opts.MemoryCeiling < 0 {
		return nil, errors.New("engine: memory ceiling must not be negative")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Memory == nil {
		opts.Memory = probe.NewMemoryPool(opts.MemoryCeiling)
	}
	return &Engine{
		opts: opts,
		pool: opts.Memory,
		cpu:  make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
	}, nil
}

// Memory is the engine's process-wide pool of buffered bytes.
func (e *Engine) Memory() *probe.MemoryPool { return e.pool }

// Attempt records one prober's try on an endpoint.
type Attempt struct {
	Prober   string
	Outcome  probe.Outcome
	Err      error
	Duration time.Duration
}

// maxReason bounds an attempt's reason as shown in traces and stored.
const maxReason = 200

// Reason is the attempt's error as text safe to print or store: prober
// errors may quote what the server said, so values in it are masked like
// any string from a target (classify.ScrubText), and it is cut to a few
// hundred bytes. "" when the attempt had no error.
func (a Attempt) Reason() string {
	if a.Err == nil {
		return ""
	}
	s := strings.TrimSpace(classify.ScrubText(a.Err.Error()))
	if len(s) > maxReason {
		cut := maxReason
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// Report is what probing one endpoint produced: a finding if a prober
// recognised the service (or, with status unknown, when a limit stopped
// the probe before any verdict), and every attempt.
type Report struct {
	Target   probe.Target
	Finding  *finding.Finding
	Attempts []Attempt
	silent   bool
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

// Silent tells whether the port never said a word (no byte, no close) to
// the look or any prober, and gave no finding: a tarpit, or a service that
// waits for a protocol no prober speaks.
func (r *Report) Silent() bool { return r.silent }

// Unfinished is the report of an endpoint the scan stopped before probing
// it (why: the cause, e.g. the scan's time budget): a finding of status
// unknown, flagged partial and scan-stopped.
func (e *Engine) Unfinished(t probe.Target, why error) *Report {
	rep := &Report{Target: t}
	rep.Finding = e.unknown(t, []string{probe.FlagScanStopped},
		fmt.Sprintf("not probed: the scan stopped first (%v)", why))
	return rep
}

// lookDelay is how long the claimers of a port may stay unanswered before
// the engine looks at the port beside them (a port that answers them
// nothing may be a tarpit; waiting for them first would add their whole
// timeout to its cost).
const lookDelay = 500 * time.Millisecond

// Probe identifies and measures the service at t. The whole endpoint,
// across all probers tried, is bounded by Budget.Timeout and, reads of all
// probers together, by Budget.MaxBytes and the engine's memory ceiling.
// When a limit stops the probe, what was proven is reported flagged
// partial; a probe a limit stopped before any verdict gives a finding of
// status unknown with the reason.
func (e *Engine) Probe(ctx context.Context, t probe.Target) *Report {
	rep := &Report{Target: t}
	if !e.opts.InScope(t.AddrPort()) {
		rep.Attempts = append(rep.Attempts, Attempt{Outcome: probe.OutcomeRefused, Err: probe.ErrOutOfScope})
		return rep
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, e.opts.Budget.Timeout)
	defer cancel()
	acct := probe.NewAccount(e.opts.Budget.MaxBytes, e.pool)
	defer acct.Release()

	var claimers, fallbacks []probe.Prober
	for _, p := range e.opts.Registry.ForPort(t.Port, e.opts.AllProbers) {
		if slices.Contains(p.DefaultPorts(), t.Port) {
			claimers = append(claimers, p)
		} else {
			fallbacks = append(fallbacks, p)
		}
	}
	// The claimers run first. The look at the port (for choosing fallback
	// probers) starts when they are done — or beside them once they have
	// heard nothing for lookDelay; if the look then finds the port silent
	// too, the claimers still waiting for a first byte are stopped.
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	lctx, lcancel := context.WithCancel(ctx)
	var lwg sync.WaitGroup
	defer func() { lcancel(); lwg.Wait() }() // before acct.Release
	claimed := make(chan bool, 1)
	looked := make(chan look, 1)
	if len(fallbacks) > 0 {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			early := false
			select {
			case identified := <-claimed:
				if identified {
					return
				}
			case <-time.After(lookDelay):
				if !acct.Heard() {
					early = true
				} else if <-claimed {
					return
				}
			case <-lctx.Done():
				return
			}
			lk := e.lookAt(lctx, t, acct)
			if early && lk.kind == kindSilent && !acct.Heard() {
				ccancel()
			}
			looked <- lk
		}()
	}
	identified := e.try(cctx, ctx, t, acct, claimers, rep, 0)
	claimed <- identified
	if !identified && len(fallbacks) > 0 && ctx.Err() == nil {
		select {
		case lk := <-looked:
			e.fallback(ctx, t, acct, fallbacks, lk, rep)
		case <-ctx.Done():
		}
	}
	e.settle(parent, ctx, t, acct, rep)
	return rep
}

// fallback tries the probers that do not claim the port, as the look at
// the port suggests.
func (e *Engine) fallback(ctx context.Context, t probe.Target, acct *probe.Account, fallbacks []probe.Prober, lk look, rep *Report) {
	var likely, rest []probe.Prober
	for _, p := range fallbacks {
		if h, ok := p.(probe.Hinter); ok && lk.reply != nil && h.Hint(lk.reply) {
			likely = append(likely, p) // a hint outranks the port's kind
			continue
		}
		if reason := skipReason(p, lk.kind); reason != nil {
			rep.Attempts = append(rep.Attempts, Attempt{Prober: p.Name(), Outcome: probe.OutcomeNotThisService, Err: reason})
			continue
		}
		rest = append(rest, p)
	}
	ffb := e.opts.Budget.FallbackFirstByte
	if lk.kind != kindSilent && lk.kind != kindClosed {
		if !e.try(ctx, ctx, t, acct, likely, rep, ffb) {
			e.try(ctx, ctx, t, acct, rest, rep, ffb)
		}
		return
	}
	// The port said nothing to a greeting wait and to HTTP (or closed
	// without a word): the client-first binary probers each get one short
	// first-byte window, all at once, so that a silent port costs one
	// window rather than one per prober, while a store silent until spoken
	// to in its own protocol still answers its prober.
	var race, http []probe.Prober
	for _, p := range append(likely, rest...) {
		if _, ok := p.(probe.HTTPBased); ok {
			http = append(http, p)
		} else {
			race = append(race, p)
		}
	}
	if !e.race(ctx, t, acct, race, rep, ffb) {
		e.try(ctx, ctx, t, acct, http, rep, ffb)
	}
}

var (
	// errSilent marks a prober stopped because the port stayed silent to
	// it and to the engine's look.
	errSilent = errors.New("port silent to the look and to this prober: stopped")
	// errLost marks a prober stopped because another identified the port.
	errLost = errors.New("another prober identified the port: stopped")
)

// try runs probers in order until one recognises the service; it reports
// whether one did (or the port closed). ctx bounds the probers; limit is
// the target's deadline (ctx may end earlier when the engine stops the
// probers). firstByte, if set, bounds each prober's wait for the first byte
// of its first connection.
func (e *Engine) try(ctx, limit context.Context, t probe.Target, acct *probe.Account, ps []probe.Prober, rep *Report, firstByte time.Duration) bool {
	for _, p := range ps {
		if ctx.Err() != nil {
			return limit.Err() != nil
		}
		env := e.env(t, acct, firstByte)
		began := time.Now()
		res, err := safeProbe(ctx, p, env)
		if err != nil && ctx.Err() != nil && limit.Err() == nil {
			err = fmt.Errorf("%s: %w (%v)", p.Name(), errSilent, err)
		}
		if e.record(limit, t, p, env, res, err, time.Since(began), rep) {
			return true
		}
		if err != nil && classifyErr(err) == probe.OutcomeRefused {
			return true // nothing listens any more
		}
	}
	return false
}

// race runs probers at once, each on its own connections; the first to
// identify the service (Env.Provisional, or a result) stops the others.
func (e *Engine) race(ctx context.Context, t probe.Target, acct *probe.Account, ps []probe.Prober, rep *Report, firstByte time.Duration) bool {
	if len(ps) == 0 {
		return false
	}
	type outcome struct {
		env *probe.Env
		res *probe.Result
		err error
		d   time.Duration
	}
	outs := make([]outcome, len(ps))
	cancels := make([]context.CancelFunc, len(ps))
	ctxs := make([]context.Context, len(ps))
	for i := range ps {
		ctxs[i], cancels[i] = context.WithCancel(ctx)
	}
	defer func() {
		for _, c := range cancels {
			c()
		}
	}()
	var mu sync.Mutex
	winner := -1
	win := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		if winner >= 0 {
			return
		}
		winner = i
		for j, c := range cancels {
			if j != i {
				c()
			}
		}
	}
	var wg sync.WaitGroup
	for i, p := range ps {
		env := e.env(t, acct, firstByte)
		env.OnIdentified(func() { win(i) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			res, err := safeProbe(ctxs[i], p, env)
			if err == nil && res != nil {
				win(i)
			}
			outs[i] = outcome{env: env, res: res, err: err, d: time.Since(began)}
		}()
	}
	wg.Wait()
	found := false
	for i, p := range ps {
		o := outs[i]
		if i != winner && o.err != nil && ctxs[i].Err() != nil && ctx.Err() == nil {
			o.err = fmt.Errorf("%s: %w (%v)", p.Name(), errLost, o.err)
			o.res = nil
		}
		if i != winner && winner >= 0 {
			// A loser's result does not count: one finding per port.
			rep.Attempts = append(rep.Attempts, Attempt{Prober: p.Name(), Outcome: classifyErr(o.err), Err: o.err, Duration: o.d})
			continue
		}
		if e.record(ctx, t, p, o.env, o.res, o.err, o.d, rep) {
			found = true
		}
	}
	return found
}

// env makes the Env of one prober's try on t, drawing on the target's
// account.
func (e *Engine) env(t probe.Target, acct *probe.Account, firstByte time.Duration) *probe.Env {
	env := probe.NewEnv(t, e.opts.Budget, e.opts.InScope)
	env.Share(acct)
	env.DefaultCredentials = e.opts.DefaultCredentials
	env.FirstByteTimeout = firstByte
	return env
}

// record adds one attempt to rep and, when the prober identified the
// service — with a result, or with a provisional one before it failed —
// makes the report's finding; it reports whether it did.
func (e *Engine) record(limit context.Context, t probe.Target, p probe.Prober, env *probe.Env, res *probe.Result, err error, d time.Duration, rep *Report) bool {
	at := Attempt{Prober: p.Name(), Outcome: classifyErr(err), Err: err, Duration: d}
	if err != nil || res == nil {
		res = nil
		if prov := env.ProvisionalResult(); prov != nil {
			res = prov
			if err == nil {
				err = errors.New("prober returned no result")
			}
			if res.Error == "" {
				res.Error = fmt.Sprintf("%s: stopped after identification: %v", p.Name(), err)
			}
			for _, f := range limitFlags(limit, err) {
				res.AddFlag(f)
			}
			res.AddFlag(probe.FlagPartial)
		}
	}
	if res == nil {
		rep.Attempts = append(rep.Attempts, at)
		return false
	}
	for _, f := range env.Account().LimitFlags() {
		res.AddFlag(f)
	}
	if res.Error != "" || len(env.Account().LimitFlags()) > 0 {
		res.AddFlag(probe.FlagPartial)
	}
	rep.Finding = e.toFinding(t, p.Name(), res)
	at.Outcome = probe.Outcome(rep.Finding.Status)
	rep.Attempts = append(rep.Attempts, at)
	return true
}

// limitFlags names the limit behind err, if any.
func limitFlags(limit context.Context, err error) []string {
	var out []string
	doneErr(limit)
	switch {
	case errors.Is(err, probe.ErrMemoryCeiling):
		out = append(out, probe.FlagMemoryCeiling)
	case errors.Is(err, probe.ErrBudget):
		out = append(out, probe.FlagByteBudget)
	case errors.Is(err, errPanic):
		out = append(out, probe.FlagProberPanic)
	}
	switch context.Cause(limit) {
	case nil:
	case context.DeadlineExceeded:
		out = append(out, probe.FlagProbeTimeout)
	default:
		out = append(out, probe.FlagScanStopped)
	}
	return out
}

// settle ends a probe: a probe that produced no finding because a limit
// stopped it (the target's deadline, the scan's end, a byte budget or the
// memory ceiling, a prober crash) gets a finding of status unknown saying
// why — it is never dropped silently. Ports whose probers all said "not
// this service", or that stayed silent to all of them, stay quiet.
func (e *Engine) settle(parent, ctx context.Context, t probe.Target, acct *probe.Account, rep *Report) {
	if rep.Finding != nil {
		return
	}
	rep.silent = !acct.Heard() && len(rep.Attempts) > 0
	var flags, why []string
	switch {
	case doneErr(parent) != nil:
		flags = append(flags, probe.FlagScanStopped)
		why = append(why, fmt.Sprintf("the scan stopped before a prober identified the service (%v)", context.Cause(parent)))
	case doneErr(ctx) != nil:
		flags = append(flags, probe.FlagProbeTimeout)
		why = append(why, fmt.Sprintf("no prober identified the service within the probe timeout (%s)", e.opts.Budget.Timeout))
	}
	for _, f := range acct.LimitFlags() {
		flags = append(flags, f)
		why = append(why, f+" reached before a prober identified the service")
	}
	for _, a := range rep.Attempts {
		if errors.Is(a.Err, errPanic) {
			flags = append(flags, probe.FlagProberPanic)
			why = append(why, a.Err.Error())
		}
	}
	if len(flags) == 0 {
		return
	}
	rep.Finding = e.unknown(t, slices.Compact(flags), strings.Join(why, "; "))
}

// doneErr is ctx's error, waiting for it once ctx's deadline has passed:
// reads and dials bounded by the deadline fail a moment before the
// context's timer marks it done, and that is the deadline, not silence.
func doneErr(ctx context.Context) error {
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		<-ctx.Done()
	}
	return ctx.Err()
}

// ServiceUnidentified is the service name of the finding an endpoint gets
// when a limit (deadline, byte budget, memory ceiling, the scan's end)
// stopped every prober before one identified it.
const ServiceUnidentified = "unknown"

// Unidentified tells whether the report's finding is such a no-verdict
// finding: the endpoint answered, but which service it runs is not known.
func (r *Report) Unidentified() bool {
	return r.Finding != nil && r.Finding.Service == ServiceUnidentified && r.Finding.Status == finding.StatusUnknown
}

// unknown is the finding of an endpoint without a verdict.
func (e *Engine) unknown(t probe.Target, flags []string, why string) *finding.Finding {
	f := &finding.Finding{
		Target:     finding.Target{Host: t.Addr.String(), Port: t.Port, Hostname: t.Hostname},
		Service:    ServiceUnidentified,
		Status:     finding.StatusUnknown,
		Auth:       finding.AuthUnknown,
		Flags:      append([]string{probe.FlagPartial}, flags...),
		Error:      why,
		ObservedAt: e.opts.Now().UTC().Truncate(time.Millisecond),
	}
	classify.Scrub(f) // why quotes prober errors, which may quote the server
	f.Finalize()
	return f
}

// portKind is what a port speaks, as far as a cheap look tells.
type portKind int

const (
	kindUnknown portKind = iota
	kindBanner           // the server spoke first
	kindHTTP             // silent, and answers an HTTP request with HTTP (plain or TLS)
	kindNotHTTP          // silent, and answers an HTTP request with something else
	kindSilent           // silent to a greeting wait and to HTTP: a tarpit, or a protocol waiting for more
	kindClosed           // closes on an HTTP request without a word (and TLS fails)
	kindOther            // anything else: could be anything
)

var (
	errNoBanner = errors.New("no server greeting: server-first protocol skipped")
	errHTTPPort = errors.New("port speaks HTTP: non-HTTP protocol skipped")
	errNotHTTP  = errors.New("port answers HTTP with something else: HTTP skipped")
	errBanner   = errors.New("port greets first: HTTP skipped")
	errSilentHT = errors.New("port silent to an HTTP request: HTTP skipped")
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
	case httpBased && kind == kindSilent:
		return errSilentHT
	case !httpBased && !serverFirst && kind == kindHTTP:
		return errHTTPPort
	}
	return nil
}

// look is what the engine learnt by looking at the target once, for
// choosing fallback probers: it waits up to Budget.BannerWait for a
// greeting, sending nothing, and at the same time sends a minimal HTTP
// request on a second connection and reads the first bytes of the answer;
// a TLS alert or a closed connection leads to the same request over TLS.
// Failures to connect give kindUnknown, so every prober still runs.
type look struct {
	kind portKind
	// reply is the start of the greeting, or of the answer to HEAD / (empty:
	// silent, or closed without a word).
	reply []byte
}

func (e *Engine) lookAt(ctx context.Context, t probe.Target, acct *probe.Account) look {
	env := e.env(t, acct, 0)
	wait := e.opts.Budget.BannerWait
	gctx, gcancel := context.WithCancel(ctx)
	greeting := make(chan []byte, 1)
	go func() { greeting <- readGreeting(gctx, env, wait) }()
	var g []byte
	gotGreeting := false
	stopGreeting := func() {
		if !gotGreeting {
			gcancel()
			g, gotGreeting = <-greeting, true
		}
	}
	defer stopGreeting()

	reply, timedOut := httpReply(ctx, env, false, wait)
	switch {
	case bytes.HasPrefix(reply, []byte("HTTP/")):
		return look{kind: kindHTTP, reply: reply} // a greeting never starts so
	case len(reply) == 0 && !timedOut:
		// Closed without a word: no greeting came on that connection
		// either, so the port does not speak first. Try HTTPS.
		stopGreeting()
		if r, _ := httpReply(ctx, env, true, wait); bytes.HasPrefix(r, []byte("HTTP/")) {
			return look{kind: kindHTTP, reply: r}
		}
		return look{kind: kindClosed, reply: []byte{}}
	}
	select {
	case g = <-greeting:
		gotGreeting = true
	case <-ctx.Done():
		return look{kind: kindUnknown}
	}
	switch {
	case g == nil:
		return look{kind: kindUnknown} // could not connect
	case len(g) > 0:
		return look{kind: kindBanner, reply: g}
	case len(reply) > 0 && reply[0] != tlsAlert:
		return look{kind: kindNotHTTP, reply: reply}
	case len(reply) == 0 && timedOut:
		// Silent: a tarpit, or a length-prefixed protocol waiting for the
		// rest of a "frame". Probers may hint on silence (an empty reply).
		return look{kind: kindSilent, reply: []byte{}}
	}
	// A TLS alert: try HTTPS.
	if r, _ := httpReply(ctx, env, true, wait); bytes.HasPrefix(r, []byte("HTTP/")) {
		return look{kind: kindHTTP, reply: r}
	}
	return look{kind: kindOther}
}

// readGreeting connects and waits up to wait for the server to speak
// first; it returns what came (empty: nothing), or nil if it could not
// connect.
func readGreeting(ctx context.Context, env *probe.Env, wait time.Duration) []byte {
	c, err := env.Dial(ctx)
	if err != nil {
		return nil
	}
	defer c.Close()
	if err := c.SetReadDeadline(time.Now().Add(wait)); err != nil {
		return nil
	}
	b := make([]byte, hintBytes)
	n, _ := c.Read(b)
	return b[:n]
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
// into an error instead of killing the scan. Probers run their own
// concurrent work through probe.Group, which raises a goroutine's panic
// again here.
func safeProbe(ctx context.Context, p probe.Prober, env *probe.Env) (res *probe.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%s: %w: %v", p.Name(), errPanic, r)
		}
	}()
	return p.Probe(ctx, env)
}

var (
	errProtocol = errors.New("protocol error")
	errPanic    = fmt.Errorf("prober panic (%w)", errProtocol)
)

func classifyErr(err error) probe.Outcome {
	switch {
	case err == nil:
		return probe.OutcomeUnknown
	case errors.Is(err, errLost):
		return probe.OutcomeNotThisService
	case errors.Is(err, probe.ErrNotThisService):
		return probe.OutcomeNotThisService
	case errors.Is(err, syscall.ECONNREFUSED):
		return probe.OutcomeRefused
	case errors.Is(err, errSilent), probe.IsTimeout(err):
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
	sem := e.cpu
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
