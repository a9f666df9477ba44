package hostile

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/output"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// budget is short so the whole suite stays well under a minute: every
// tarpit, drip and stall costs at most Timeout.
func budget() probe.Budget {
	b := probe.DefaultBudget()
	b.Timeout = 2 * time.Second
	b.IOTimeout = 600 * time.Millisecond
	b.BannerWait = 300 * time.Millisecond
	b.FallbackFirstByte = 300 * time.Millisecond
	b.MaxBytes = 1 << 20
	b.MaxResponseBytes = 256 << 10
	b.MaxDatasets = 3
	b.MaxListed = 50
	b.SampleRecords = 20
	b.SampleBytes = 32 << 10
	return b
}

const (
	// deadlineSlack is what a probe may take past Budget.Timeout (the
	// engine's own bookkeeping, closing connections).
	deadlineSlack = 1500 * time.Millisecond
	// heapBound bounds the heap growth while one behaviour runs against
	// all its probers at once (each target's byte budget is 1 MiB).
	heapBound = 256 << 20
)

// behaviour is one way a server misbehaves.
type behaviour struct {
	name string
	// probers the behaviour applies to: nil means every prober (raw TCP
	// misbehaviour), httpOnly every HTTP-based prober.
	probers  []string
	httpOnly bool
	// serve makes the connection handler; d are the decoys a steering
	// server may name.
	serve func(d *decoys) func(net.Conn, <-chan struct{})
	// planted are raw values the server sent that must not appear in any
	// output.
	planted []string
	// check adds behaviour-specific assertions on the findings.
	check func(t *testing.T, fs []finding.Finding)
}

func fixed(h func(net.Conn, <-chan struct{})) func(*decoys) func(net.Conn, <-chan struct{}) {
	return func(*decoys) func(net.Conn, <-chan struct{}) { return h }
}

// run is one prober's run of a behaviour.
type run struct {
	prober  string
	report  *engine.Report
	took    time.Duration
	decoyed int64
}

func TestHostile(t *testing.T) {
	reg := all.Registry()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	clf, err := classify.New(classify.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for _, b := range behaviours() {
		t.Run(b.name, func(t *testing.T) {
			probers := applicable(reg, b)
			if len(probers) == 0 {
				t.Fatalf("no prober applies")
			}
			peak, stop := heapWatch()
			runs := make([]run, len(probers))
			var wg sync.WaitGroup
			for i, p := range probers {
				// Listeners are made here (t.Fatalf must run on the test's goroutine).
				target, d := serveFor(t, p, b)
				wg.Add(1)
				go func() {
					defer wg.Done()
					runs[i] = probeOnce(reg, clf, p, target, d)
				}()
			}
			wg.Wait()
			growth := stop()
			if growth > heapBound {
				t.Errorf("heap grew by %d MiB while probing (bound %d MiB)", growth>>20, heapBound>>20)
			}
			_ = peak
			verify(t, runs, b.planted, b.check)
		})
	}
	t.Logf("suite took %s", time.Since(start).Round(time.Millisecond))
}

// verify asserts what every hostile run must hold: within the deadline,
// no connection outside scope, no panic, and valid outputs without any
// planted raw value; check adds the behaviour's own assertions.
func verify(t *testing.T, runs []run, planted []string, check func(*testing.T, []finding.Finding)) {
	t.Helper()
	var fs []finding.Finding
	for _, r := range runs {
		if r.took > budget().Timeout+deadlineSlack {
			t.Errorf("%s: probe took %s, deadline %s", r.prober, r.took.Round(time.Millisecond), budget().Timeout)
		}
		if r.decoyed != 0 {
			t.Errorf("%s: %d connections reached out-of-scope decoys", r.prober, r.decoyed)
		}
		for _, a := range r.report.Attempts {
			if a.Err != nil && strings.Contains(a.Err.Error(), "panic") {
				t.Errorf("%s: %s panicked: %v", r.prober, a.Prober, a.Err)
			}
		}
		if r.report.Finding != nil {
			fs = append(fs, *r.report.Finding)
		}
		t.Logf("%-16s %-16s %s", r.prober, r.report.Outcome(), r.took.Round(time.Millisecond))
	}
	checkOutputs(t, fs, planted)
	if check != nil {
		check(t, fs)
	}
}

// TestSteering runs probetest's steering servers (FTP EPSV/PASV, NATS
// cluster members and monitor port, HTTP redirects, Elasticsearch _nodes)
// through the engine with every prober allowed, the scope exactly the
// server's endpoint: no decoy may see a connection.
func TestSteering(t *testing.T) {
	reg := all.Registry()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	clf, err := classify.New(classify.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range probetest.SteeringServers(t) {
		t.Run(st.Name, func(t *testing.T) {
			eng, err := engine.New(engine.Options{
				Registry: reg, Classifier: clf, Budget: budget(), AllProbers: true, DefaultCredentials: true,
				InScope: func(ap netip.AddrPort) bool { return ap == st.Server },
			})
			if err != nil {
				t.Fatal(err)
			}
			target := probe.Target{Addr: st.Server.Addr(), Port: int(st.Server.Port())}
			began := time.Now()
			rep := eng.Probe(context.Background(), target)
			took := time.Since(began)
			time.Sleep(20 * time.Millisecond)
			var decoyed int64
			for _, d := range st.Decoys() {
				decoyed += d.Accepts()
			}
			verify(t, []run{{prober: st.Name, report: rep, took: took, decoyed: decoyed}}, nil, nil)
		})
	}
}

// applicable lists the probers a behaviour runs against.
func applicable(reg *probe.Registry, b behaviour) []probe.Prober {
	var out []probe.Prober
	for _, p := range reg.All() {
		_, isHTTP := p.(probe.HTTPBased)
		switch {
		case b.probers != nil:
			if slices.Contains(b.probers, p.Name()) {
				out = append(out, p)
			}
		case b.httpOnly:
			if isHTTP {
				out = append(out, p)
			}
		default:
			out = append(out, p)
		}
	}
	return out
}

// serveFor starts the behaviour's server on p's first default port of a
// fresh loopback address (so p claims it and runs first), with decoys on
// the same port of another address and another port of the same address.
func serveFor(t *testing.T, p probe.Prober, b behaviour) (probe.Target, *decoys) {
	port := p.DefaultPorts()[0]
	addr := testenv.AddrWithPort(t, port)
	d := &decoys{
		samePort:  listen(t, testenv.AddrWithPort(t, port), port, tarpit),
		otherPort: listen(t, addr, 0, tarpit),
	}
	listen(t, addr, port, b.serve(d))
	return probe.Target{Addr: addr, Port: port}, d
}

// probeOnce runs the real engine (all probers registered, those claiming
// the port tried) against target; the scope is exactly the target.
func probeOnce(reg *probe.Registry, clf classify.Classifier, p probe.Prober, target probe.Target, d *decoys) run {
	eng, err := engine.New(engine.Options{
		Registry: reg, Classifier: clf, Budget: budget(), DefaultCredentials: true,
		InScope: func(ap netip.AddrPort) bool { return ap == target.AddrPort() },
	})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*budget().Timeout)
	defer cancel()
	began := time.Now()
	rep := eng.Probe(ctx, target)
	took := time.Since(began)
	time.Sleep(20 * time.Millisecond) // let a stray dial land on a decoy
	return run{prober: p.Name(), report: rep, took: took, decoyed: d.accepts()}
}

// checkOutputs writes the findings through every writer and checks each:
// no panic, JSONL valid against leakwatch.finding/v1, SARIF and OCSF valid
// JSON, and no planted raw value in any of them.
func checkOutputs(t *testing.T, fs []finding.Finding, planted []string) {
	t.Helper()
	for _, format := range []output.Format{output.FormatTable, output.FormatJSONL, output.FormatSARIF, output.FormatOCSF} {
		var buf bytes.Buffer
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("writer panicked: %v", r)
				}
			}()
			return output.WriteAll(format, &buf, output.Options{Verbose: true, Color: true}, fs)
		}()
		if err != nil {
			t.Errorf("%s: %v", format, err)
			continue
		}
		out := buf.Bytes()
		switch format {
		case output.FormatJSONL:
			if err := output.ValidateJSONL(bytes.NewReader(out)); err != nil {
				t.Errorf("jsonl invalid: %v\n%s", err, truncate(out))
			}
		case output.FormatSARIF:
			if len(fs) > 0 && !json.Valid(out) {
				t.Errorf("sarif is not JSON:\n%s", truncate(out))
			}
		case output.FormatOCSF:
			for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
				if len(line) > 0 && !json.Valid(line) {
					t.Errorf("ocsf line is not JSON: %s", truncate(line))
				}
			}
		}
		for _, v := range planted {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("%s output holds the raw planted value %q:\n%s", format, v, truncate(out))
			}
		}
	}
}

func truncate(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// heapWatch samples the heap every 2 ms until stopped and returns the
// growth of its high-water mark over the level at the start.
func heapWatch() (*atomic.Uint64, func() int64) {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	base := read()
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tk := time.NewTicker(2 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				if v := read(); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	return &peak, func() int64 {
		close(done)
		<-stopped
		return int64(peak.Load()) - int64(base)
	}
}
