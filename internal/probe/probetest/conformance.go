package probetest

// The prober conformance kit: the cases every prober's tests share (other
// services' banners, hostile servers, read-only digest, a finding valid
// against leakwatch.finding/v1) and the helpers its store-specific tests
// use to look at a result, so that a prober's test file holds only what is
// specific to its store (like store/storetest for the store backends).

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// Other is a service that is not the prober's: the prober must answer it
// with probe.ErrNotThisService. Exactly one of Banner, HTTP and Start is set.
type Other struct {
	Name string
	// Banner is a fixed reply the server sends on connect (see Banner).
	Banner string
	// HTTP is served by a real net/http server (see ServeHTTP).
	HTTP http.Handler
	// Start starts a real server of another kind (internal/testenv) and
	// returns its endpoint.
	Start func(tb testing.TB) (netip.Addr, int)
	// Within, if set, bounds how long the prober may take to give up.
	Within time.Duration
}

// Conformance describes one prober for the shared cases.
type Conformance struct {
	// New makes a fresh prober.
	New func() probe.Prober
	// NotThis are other services' servers the prober must not take for its
	// own.
	NotThis []Other
	// HostileWithin bounds a probe of each hostile server (Hostile);
	// 0 means 15 s.
	HostileWithin time.Duration
}

// Conform runs the shared cases for c's prober as parallel subtests:
// not-this-service/<name> for every Other, and hostile (tarpit, endless
// stream, garbage, SSH banner; see Hostile).
func Conform(t *testing.T, c Conformance) {
	t.Helper()
	if c.New == nil {
		t.Fatal("probetest: Conformance.New is nil")
	}
	t.Parallel()
	t.Run("not-this-service", func(t *testing.T) {
		if len(c.NotThis) == 0 {
			t.Skip("no other services given (the prober's own tests tell them apart)")
		}
		for _, o := range c.NotThis {
			t.Run(o.Name, func(t *testing.T) {
				t.Parallel()
				NotThisService(t, c.New(), o)
			})
		}
	})
	t.Run("hostile", func(t *testing.T) {
		t.Parallel()
		within := c.HostileWithin
		if within == 0 {
			within = 15 * time.Second
		}
		Hostile(t, c.New(), within)
	})
}

// NotThisService starts o and fails unless p answers it with
// probe.ErrNotThisService (within o.Within, if set).
func NotThisService(t *testing.T, p probe.Prober, o Other) {
	t.Helper()
	var addr netip.Addr
	var port int
	switch {
	case o.Banner != "":
		s := Banner(t, o.Banner)
		addr, port = s.Addr, s.Port
	case o.HTTP != nil:
		addr, port = serveOther(t, o.HTTP)
	case o.Start != nil:
		addr, port = o.Start(t)
	default:
		t.Fatalf("probetest: other service %q has no server", o.Name)
	}
	start := time.Now()
	res, err := Run(t, p, addr, port)
	if !errors.Is(err, probe.ErrNotThisService) {
		t.Fatalf("%s: got %+v, %v; want not-this-service", o.Name, res, err)
	}
	if d := time.Since(start); o.Within > 0 && d > o.Within {
		t.Errorf("%s: took %s to give up, want <= %s", o.Name, d, o.Within)
	}
}

// serveOther serves h on a fresh loopback address like a plain web server:
// a client that sends no HTTP request is answered 408 and closed after a
// second.
func serveOther(tb testing.TB, h http.Handler) (netip.Addr, int) {
	tb.Helper()
	addr := testenv.Addr(tb)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		tb.Fatalf("probetest: listen: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(l) }()
	tb.Cleanup(func() { srv.Close() })
	return addr, l.Addr().(*net.TCPAddr).Port
}

// Banners of other services that several probers' tests use.
const (
	HTTPBadRequest      = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
	HTTPBadRequestClose = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	RedisError          = "-ERR unknown command\r\n"
	SSHBanner           = "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"
	SMTPBanner          = "220 mail.example.com ESMTP\r\n"
	FTPBanner           = "220 (vsFTPd 3.0.3)\r\n"
	MySQLGreeting       = "\x4a\x00\x00\x00\x0a5.7.44\x00"
)

// Option adjusts a Check.
type Option func(*checkOpts)

type checkOpts struct {
	digest       func(testing.TB) string
	budget       func(*probe.Budget)
	defaultCreds bool
	listed       bool
}

// ReadOnly makes Check take digest (the store's state, e.g. a testenv
// server's Digest method) before and after the probe and fail the test
// when the probe changed it.
func ReadOnly(digest func(testing.TB) string) Option {
	return func(o *checkOpts) { o.digest = digest }
}

// WithBudget adjusts the test budget (Budget) for one Check.
func WithBudget(f func(*probe.Budget)) Option { return func(o *checkOpts) { o.budget = f } }

// DefaultCredentials lets the prober try well-known factory logins.
func DefaultCredentials() Option { return func(o *checkOpts) { o.defaultCreds = true } }

// Check probes addr:port with p under the test budget and returns its
// result and error, like Run; on a result it also builds the finding a scan
// writes (samples classified, names scrubbed, numbers sanitised) and fails
// the test unless that finding validates against leakwatch.finding/v1 as
// JSONL, and, with ReadOnly, when the probe changed the store's digest.
func Check(tb testing.TB, p probe.Prober, addr netip.Addr, port int, opts ...Option) (*probe.Result, error) {
	tb.Helper()
	var o checkOpts
	for _, opt := range opts {
		opt(&o)
	}
	var before string
	if o.digest != nil {
		before = o.digest(tb)
	}
	env := Env(addr, port)
	env.DefaultCredentials = o.defaultCreds
	if o.budget != nil {
		o.budget(&env.Budget)
	}
	ctx, cancel := context.WithTimeout(context.Background(), env.Budget.Timeout)
	defer cancel()
	res, err := p.Probe(ctx, env)
	if res != nil {
		ValidFinding(tb, ToFinding(tb, p.Name(), probe.Target{Addr: addr, Port: port}, res))
	}
	if o.digest != nil {
		if after := o.digest(tb); after != before {
			tb.Errorf("%s: server state changed by the probe:\nbefore %s\nafter  %s", p.Name(), before, after)
		}
	}
	return res, err
}

// ToFinding builds the finding a scan writes of res, as the engine does
// (samples classified with a random key, target strings scrubbed,
// Finalize); res is left as it is.
func ToFinding(tb testing.TB, service string, t probe.Target, res *probe.Result) *finding.Finding {
	tb.Helper()
	f := &finding.Finding{
		Target:  finding.Target{Host: t.Addr.String(), Port: t.Port, Hostname: t.Hostname},
		Service: service, Product: res.Product, Version: res.Version, TLS: res.TLS,
		Status: res.Status, Auth: res.Auth, Flags: slices.Clone(res.Flags),
		Evidence: maps.Clone(res.Evidence), Error: res.Error,
		ObservedAt: time.Now().UTC().Truncate(time.Millisecond),
	}
	if f.Status == "" {
		f.Status = finding.StatusUnknown
	}
	if f.Auth == "" {
		f.Auth = finding.AuthUnknown
	}
	if res.Error != "" && !slices.Contains(f.Flags, probe.FlagPartial) {
		f.Flags = append(f.Flags, probe.FlagPartial)
	}
	clf := testClassifier(tb)
	for _, d := range res.Datasets {
		fd := d.Dataset
		if len(d.Sample) > 0 || len(d.Fields) > 0 {
			o := clf.Classify(classify.Input{Schema: d.Fields, Sample: d.Sample, Records: d.Records})
			fd.Classes, fd.Canary = o.Classes, o.Canaries
			if fd.Sampled == 0 {
				fd.Sampled = len(d.Sample)
			}
		}
		f.Datasets = append(f.Datasets, fd)
		if len(fd.Canary) > 0 && !slices.Contains(f.Flags, "canary") {
			f.Flags = append(f.Flags, "canary")
		}
	}
	classify.Scrub(f)
	f.Finalize()
	return f
}

// Unchanged takes the store's digest now; the check it returns fails the
// test when the digest has changed since (for checks that span several
// probes).
func Unchanged(tb testing.TB, digest func(testing.TB) string) (check func()) {
	tb.Helper()
	before := digest(tb)
	return func() {
		tb.Helper()
		if after := digest(tb); after != before {
			tb.Errorf("server state changed by the probe:\nbefore %s\nafter  %s", before, after)
		}
	}
}

// ValidFinding writes f as JSONL and fails the test unless it validates
// against leakwatch.finding/v1.
func ValidFinding(tb testing.TB, f *finding.Finding) {
	tb.Helper()
	var buf bytes.Buffer
	if err := output.WriteAll(output.FormatJSONL, &buf, output.Options{}, []finding.Finding{*f}); err != nil {
		tb.Fatalf("write finding: %v", err)
	}
	if err := output.ValidateJSONL(&buf); err != nil {
		tb.Errorf("finding is not valid leakwatch.finding/v1: %v\n%s", err, buf.String())
	}
}

var (
	clfOnce sync.Once
	clf     classify.Classifier
	clfErr  error
)

func testClassifier(tb testing.TB) classify.Classifier {
	clfOnce.Do(func() {
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		clf, clfErr = classify.New(classify.Options{Key: key})
	})
	if clfErr != nil {
		tb.Fatal(clfErr)
	}
	return clf
}

// Dataset is the result's dataset called name; the test fails when there
// is none.
func Dataset(tb testing.TB, res *probe.Result, name string) probe.Dataset {
	tb.Helper()
	for _, d := range res.Datasets {
		if d.Name == name {
			return d
		}
	}
	tb.Fatalf("dataset %q not found in %v", name, DatasetNames(res))
	return probe.Dataset{}
}

// DatasetNames lists the result's dataset names in its order.
func DatasetNames(res *probe.Result) []string {
	var names []string
	for _, d := range res.Datasets {
		names = append(names, d.Name)
	}
	return names
}

// Datasets indexes the result's datasets by name.
func Datasets(res *probe.Result) map[string]probe.Dataset {
	m := make(map[string]probe.Dataset, len(res.Datasets))
	for _, d := range res.Datasets {
		m[d.Name] = d
	}
	return m
}

// PathCounts counts, over the datasets' sampled records, the values at
// each path.
func PathCounts(ds ...probe.Dataset) map[string]int {
	paths := map[string]int{}
	for _, d := range ds {
		for _, r := range d.Sample {
			for _, v := range r.Values {
				paths[v.Path]++
			}
		}
	}
	return paths
}

// SamplePaths is the set of paths the datasets' sampled records hold.
func SamplePaths(ds ...probe.Dataset) map[string]bool {
	paths := map[string]bool{}
	for p := range PathCounts(ds...) {
		paths[p] = true
	}
	return paths
}

// WantPaths fails the test for each of want the paths lack.
func WantPaths(tb testing.TB, what string, paths map[string]bool, want ...string) {
	tb.Helper()
	for _, p := range want {
		if !paths[p] {
			have := make([]string, 0, len(paths))
			for h := range paths {
				have = append(have, h)
			}
			sort.Strings(have)
			tb.Errorf("%s sample lacks path %q (has %v)", what, p, have)
		}
	}
}

// WantDatasetFlag fails the test unless some dataset of res carries flag
// (e.g. probe.FlagRecordTooLarge).
func WantDatasetFlag(tb testing.TB, res *probe.Result, flag string) {
	tb.Helper()
	var names []string
	for _, d := range res.Datasets {
		if slices.Contains(d.Flags, flag) {
			return
		}
		names = append(names, d.Name+"="+strings.Join(d.Flags, "+"))
	}
	tb.Fatalf("no dataset flagged %s: %v", flag, names)
}

// NoSamples fails the test for each dataset of res that holds a sample
// (a protected store must give none).
func NoSamples(tb testing.TB, res *probe.Result) {
	tb.Helper()
	for _, d := range res.Datasets {
		if d.Sampled != 0 || len(d.Sample) != 0 {
			tb.Errorf("protected server sampled %s (%d, %d records)", d.Name, d.Sampled, len(d.Sample))
		}
	}
}

// Ptr prints a count that may be unknown.
func Ptr(p *int64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatInt(*p, 10)
}
