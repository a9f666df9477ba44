// Package probe defines what a prober is and gives probers everything they
// may touch on the network: a scope-checked, deadline- and byte-bounded
// dialer, and a bounded HTTP client built on it. Probers never open sockets
// themselves.
//
// A prober identifies one kind of service by its response, decides whether
// it is exposed or protected, lists its datasets from cheap metadata and takes
// a bounded, read-only sample of records for the classifier.
package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/limits"
)

// Prober is implemented by one package per protocol.
type Prober interface {
	// Name is the service name written into findings ("elasticsearch").
	Name() string
	// DefaultPorts are the ports this service usually listens on. They
	// order the probers tried on a port; they never exclude one.
	DefaultPorts() []int
	// Probe identifies and measures the service at env.Target.
	// It returns ErrNotThisService (possibly wrapped) when the peer is not
	// this kind of service. When it is, it returns a Result, also on partial
	// failure (then Result.Error says what went wrong).
	Probe(ctx context.Context, env *Env) (*Result, error)
}

// ServerFirst is implemented by probers of protocols in which the server
// speaks first (a greeting: MySQL, FTP, rsync, NATS). On a port such a
// prober does not claim, the engine runs it only if the port sent bytes on
// its own within Budget.BannerWait — otherwise it would only wait out its
// read timeout on every HTTP port.
type ServerFirst interface {
	ServerFirst()
}

// HTTPBased is implemented by probers of services that speak HTTP(S). On
// a port they do not claim, the engine runs them only where the port
// answers HTTP (or whose kind it could not tell), and it skips every other
// client-first prober on a port that answers HTTP: a binary request to a
// web server only waits out its read timeout.
type HTTPBased interface {
	HTTPBased()
}

// Hinter is implemented by probers that can tell from the first bytes a
// port sent — its greeting, or its answer to "HEAD / HTTP/1.0" — that the
// port likely speaks their protocol (Redis answers "-ERR", Memcached
// "ERROR"). An empty reply means the port stayed silent after the HTTP
// request, or closed without a word (length-prefixed binary protocols wait
// for the rest of a frame, or drop it).
// On a port no prober claims, likely probers are tried first; a hint
// outranks what the port's kind would rule out. A hint only orders;
// identification is still the prober's own.
type Hinter interface {
	Hint(reply []byte) bool
}

// ErrNotThisService means the peer answered but is not the prober's service.
var ErrNotThisService = errors.New("not this service")

// ErrBudget means the peer sent more bytes than the target's budget allows.
var ErrBudget = errors.New("byte budget exhausted")

// ErrOutOfScope means a dial was refused because the endpoint (address or
// port) is not in scope.
var ErrOutOfScope = errors.New("endpoint out of scope")

// NotThisService wraps ErrNotThisService with a reason.
func NotThisService(format string, args ...any) error {
	return &notThis{msg: fmt.Sprintf(format, args...)}
}

type notThis struct{ msg string }

func (e *notThis) Error() string { return "not this service: " + e.msg }
func (e *notThis) Unwrap() error { return ErrNotThisService }

// Outcome is the probe-level status vocabulary; the first three become
// finding statuses, the rest explain why a port gave no finding.
type Outcome string

const (
	OutcomeExposed        Outcome = "exposed"
	OutcomeProtected      Outcome = "protected"
	OutcomeUnknown        Outcome = "unknown"
	OutcomeNotThisService Outcome = "not-this-service"
	OutcomeRefused        Outcome = "refused"
	OutcomeTimeout        Outcome = "timeout"
	OutcomeProtocolError  Outcome = "protocol-error"
)

// Dataset is a finding.Dataset plus the raw sample the classifier reads.
// The sample never leaves the process: it has no JSON form.
type Dataset struct {
	finding.Dataset
	Sample []classify.Record `json:"-"`
}

// Result is what a prober learned about a service.
type Result struct {
	Product  string
	Version  string
	TLS      bool
	Status   finding.Status
	Auth     finding.Auth
	Datasets []Dataset
	Flags    []string
	// Evidence holds protocol facts worth keeping (cluster uuid, search
	// counters, auth challenge). Never sampled values.
	Evidence map[string]any
	// Error is set when the probe identified the service but failed later
	// (AddError keeps every failure, bounded).
	Error string

	errs []string // AddError's messages
}

// AddEvidence sets one evidence key.
func (r *Result) AddEvidence(key string, v any) {
	if r.Evidence == nil {
		r.Evidence = map[string]any{}
	}
	r.Evidence[key] = v
}

// AddFlag adds a flag once.
func (r *Result) AddFlag(flag string) {
	for _, f := range r.Flags {
		if f == flag {
			return
		}
	}
	r.Flags = append(r.Flags, flag)
}

// Budget caps what one target may cost.
type Budget struct {
	// Timeout bounds the whole probe of one host:port.
	Timeout time.Duration
	// IOTimeout bounds each connect and each read/write.
	IOTimeout time.Duration
	// BannerWait is how long the engine waits for a server greeting before
	// it skips server-first probers on a port they do not claim.
	BannerWait time.Duration
	// FallbackFirstByte bounds the wait for the first answer of a prober
	// tried on a port it does not claim (see Env.FirstByteTimeout).
	FallbackFirstByte time.Duration
	// MaxBytes bounds all bytes read from one host:port.
	MaxBytes int64
	// MaxResponseBytes bounds one metadata response.
	MaxResponseBytes int64
	// MaxDatasets is how many datasets get sampled (largest first).
	MaxDatasets int
	// MaxListed is how many datasets are listed at most.
	MaxListed int
	// SampleRecords and SampleBytes bound the sample of one dataset.
	SampleRecords int
	SampleBytes   int64
}

// DefaultBudget is what a scan uses unless told otherwise.
func DefaultBudget() Budget {
	return Budget{
		Timeout:           limits.DefaultProbe.Timeout,
		IOTimeout:         limits.DefaultProbe.IOTimeout,
		BannerWait:        2 * time.Second,
		FallbackFirstByte: 1500 * time.Millisecond,
		MaxBytes:          64 << 20,
		MaxResponseBytes:  8 << 20,
		MaxDatasets:       limits.DefaultProbe.MaxDatasets,
		MaxListed:         1000,
		SampleRecords:     limits.DefaultProbe.SampleRecords,
		SampleBytes:       limits.DefaultProbe.SampleBytes,
	}
}

// Validate reports a budget that cannot work.
func (b Budget) Validate() error {
	switch {
	case b.Timeout <= 0:
		return errors.New("probe timeout must be positive")
	case b.IOTimeout <= 0:
		return errors.New("io timeout must be positive")
	case b.MaxBytes <= 0 || b.MaxResponseBytes <= 0 || b.SampleBytes <= 0:
		return errors.New("byte budgets must be positive")
	case b.SampleRecords < 0 || b.MaxDatasets < 0 || b.MaxListed <= 0:
		return errors.New("record and dataset budgets must not be negative")
	}
	return nil
}

// Group runs a prober's concurrent work (at most limit functions at once).
// Probers never use the go statement themselves: a panic in a goroutine
// of their own would kill the process, while Group catches it and Wait
// raises it again in the prober's goroutine, where the engine turns it into
// that target's error.
type Group struct {
	wg    sync.WaitGroup
	sem   chan struct{}
	mu    sync.Mutex
	panic any
}

// NewGroup makes a group running at most limit functions at once (≤ 0: 1).
func NewGroup(limit int) *Group {
	return &Group{sem: make(chan struct{}, max(limit, 1))}
}

// Go runs f in a goroutine once fewer than limit are running.
func (g *Group) Go(f func()) {
	g.sem <- struct{}{}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() { <-g.sem }()
		defer func() {
			if r := recover(); r != nil {
				g.mu.Lock()
				if g.panic == nil {
					g.panic = r
				}
				g.mu.Unlock()
			}
		}()
		f()
	}()
}

// Wait waits for every function; if one panicked, Wait panics with its
// value in the caller's goroutine.
func (g *Group) Wait() {
	g.wg.Wait()
	if g.panic != nil {
		panic(fmt.Sprintf("in a prober goroutine: %v", g.panic))
	}
}
