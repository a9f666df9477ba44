package engine

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
)

// stub is a test double for a prober (not for a server): it records calls
// and returns a fixed answer.
type stub struct {
	name   string
	ports  []int
	calls  atomic.Int64
	result *probe.Result
	err    error
	panics bool
}

func (s *stub) Name() string        { return s.name }
func (s *stub) DefaultPorts() []int { return s.ports }
func (s *stub) Probe(ctx context.Context, env *probe.Env) (*probe.Result, error) {
	s.calls.Add(1)
	if s.panics {
		panic("boom")
	}
	return s.result, s.err
}

type serverFirstStub struct{ stub }

func (*serverFirstStub) ServerFirst() {}

// newEngine is engineWith at probetest's fallback first-byte window.
func newEngine(t *testing.T, ps ...probe.Prober) *Engine {
	t.Helper()
	return engineWith(t, func(o *Options) { o.Budget.FallbackFirstByte = probetest.Budget().FallbackFirstByte }, ps...)
}

func notThis() error { return probe.NotThisService("stub") }

func TestClaimingProberFirstAndFirstIdentificationWins(t *testing.T) {
	other := &stub{name: "other", ports: []int{1}, err: notThis()}
	claimer := &stub{name: "claimer", ports: []int{9200}, result: &probe.Result{Status: finding.StatusProtected, Auth: finding.AuthRequired}}
	after := &stub{name: "after", ports: []int{2}}
	e := newEngine(t, other, claimer, after)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 9200})
	if rep.Finding == nil || rep.Finding.Service != "claimer" || rep.Finding.Severity != finding.SeverityInfo {
		t.Fatalf("finding %+v", rep.Finding)
	}
	if other.calls.Load() != 0 || after.calls.Load() != 0 {
		t.Errorf("other probers ran: other=%d after=%d", other.calls.Load(), after.calls.Load())
	}
}

func TestServerFirstSkippedOnSilentPort(t *testing.T) {
	silent := probetest.Tarpit(t)
	greeter := probetest.Banner(t, "220 hello\r\n")
	sf := &serverFirstStub{stub{name: "greeting", ports: []int{21}, err: notThis()}}
	cf := &stub{name: "client-first", ports: []int{80}, err: notThis()}
	e := newEngine(t, sf, cf)

	rep := e.Probe(context.Background(), probe.Target{Addr: silent.Addr, Port: silent.Port})
	if sf.calls.Load() != 0 || cf.calls.Load() != 1 {
		t.Fatalf("silent port: server-first ran %d times, client-first %d", sf.calls.Load(), cf.calls.Load())
	}
	if rep.Outcome() != probe.OutcomeNotThisService {
		t.Errorf("outcome %s", rep.Outcome())
	}
	e.Probe(context.Background(), probe.Target{Addr: greeter.Addr, Port: greeter.Port})
	if sf.calls.Load() != 1 {
		t.Fatalf("greeting port: server-first ran %d times, want 1", sf.calls.Load())
	}
}

type httpStub struct{ stub }

func (*httpStub) HTTPBased() {}

func TestHTTPPortSkipsBinaryProbers(t *testing.T) {
	web := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "<html>hello</html>")
	}))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	web.Listener = l
	web.Start()
	defer web.Close()
	addr := l.Addr().(*net.TCPAddr)

	binary := &stub{name: "binary", ports: []int{6379}, err: notThis()}
	greeting := &serverFirstStub{stub{name: "greeting", ports: []int{21}, err: notThis()}}
	web1 := &httpStub{stub{name: "web", ports: []int{9200}, err: notThis()}}
	e := newEngine(t, binary, greeting, web1)
	e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: addr.Port})
	if binary.calls.Load() != 0 || greeting.calls.Load() != 0 || web1.calls.Load() != 1 {
		t.Fatalf("on an HTTP port: binary ran %d, greeting %d, http %d; want 0, 0, 1",
			binary.calls.Load(), greeting.calls.Load(), web1.calls.Load())
	}
	// A banner port skips HTTP probers and runs server-first ones.
	ftp := probetest.Banner(t, "220 ready\r\n")
	e.Probe(context.Background(), probe.Target{Addr: ftp.Addr, Port: ftp.Port})
	if web1.calls.Load() != 1 || greeting.calls.Load() != 1 || binary.calls.Load() != 1 {
		t.Fatalf("on a banner port: http %d greeting %d binary %d; want 1, 1, 1",
			web1.calls.Load(), greeting.calls.Load(), binary.calls.Load())
	}
}

type hintStub struct{ stub }

func (*hintStub) Hint(reply []byte) bool { return strings.Contains(string(reply), "MongoDB over HTTP") }

// TestHintOutranksKind: a binary protocol whose server answers HTTP with a
// note (mongod on its driver port) is still tried, and first.
func TestHintOutranksKind(t *testing.T) {
	// What mongod answers any HTTP request with, whatever the method.
	const note = "HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 85\r\n\r\n" +
		"It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				if n, _ := c.Read(make([]byte, 512)); n > 0 {
					io.WriteString(c, note)
				}
			}()
		}
	}()
	other := &stub{name: "other", ports: []int{1}, err: notThis()}
	mongo := &hintStub{stub{name: "mongo", ports: []int{27017}, result: &probe.Result{Status: finding.StatusExposed, Auth: finding.AuthNone}}}
	e := newEngine(t, other, mongo)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: l.Addr().(*net.TCPAddr).Port})
	if rep.Finding == nil || rep.Finding.Service != "mongo" || other.calls.Load() != 0 {
		t.Fatalf("finding %+v, other ran %d times", rep.Finding, other.calls.Load())
	}
}

func TestPanicIsContained(t *testing.T) {
	bad := &stub{name: "bad", ports: []int{7}, panics: true}
	good := &stub{name: "good", ports: []int{8}, result: &probe.Result{Status: finding.StatusExposed, Auth: finding.AuthNone}}
	e := newEngine(t, bad, good)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 7})
	if rep.Attempts[0].Outcome != probe.OutcomeProtocolError || rep.Finding == nil || rep.Finding.Service != "good" {
		t.Fatalf("attempts %+v finding %+v", rep.Attempts, rep.Finding)
	}
}

func TestOutOfScopeNeverProbed(t *testing.T) {
	s := &stub{name: "s", ports: []int{1}}
	e := newEngine(t, s)
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("192.0.2.1"), Port: 1})
	if s.calls.Load() != 0 || rep.Finding != nil || rep.Outcome() != probe.OutcomeRefused {
		t.Fatalf("out-of-scope target probed: calls=%d outcome=%s", s.calls.Load(), rep.Outcome())
	}
}

func TestSamplesClassifiedAndDropped(t *testing.T) {
	const secret = "maria.lopez77@mailbox.example"
	var recs []classify.Record
	for i := 0; i < 10; i++ {
		recs = append(recs, classify.Record{Values: []classify.Value{{Path: "email", Text: secret}}})
	}
	n := int64(1000)
	res := &probe.Result{Status: finding.StatusExposed, Auth: finding.AuthNone, Datasets: []probe.Dataset{{
		Dataset: finding.Dataset{Name: "users", Kind: "table", Records: &n}, Sample: recs,
	}}}
	e := newEngine(t, &stub{name: "db", ports: []int{5}, result: res})
	rep := e.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddr("127.0.0.1"), Port: 5})
	f := rep.Finding
	if f == nil || len(f.Datasets) != 1 || f.Datasets[0].Sampled != 10 {
		t.Fatalf("finding %+v", f)
	}
	if len(f.Classes) != 1 || f.Classes[0] != "email" {
		t.Errorf("classes %v, want [email]", f.Classes)
	}
	if est := f.Datasets[0].Classes[0].EstimatedRecords; est == nil || *est != 1000 {
		t.Errorf("estimate %v, want 1000", est)
	}
	b, _ := json.Marshal(f)
	if strings.Contains(string(b), secret) {
		t.Fatalf("finding holds the raw value: %s", b)
	}
	if f.Severity != finding.SeverityHigh && f.Severity != finding.SeverityCritical {
		t.Errorf("severity %s", f.Severity)
	}
}
