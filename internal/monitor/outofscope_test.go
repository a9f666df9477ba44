package monitor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/probe/all"
	"github.com/leakwatch/leakwatch/internal/store"
	"github.com/leakwatch/leakwatch/internal/store/sqlite"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// countingProxy listens on a fresh loopback address and forwards each
// connection to a real server, counting the connections it accepts.
type countingProxy struct {
	ap      netip.AddrPort
	accepts atomic.Int64
}

func startCountingProxy(t *testing.T, to netip.AddrPort) *countingProxy {
	t.Helper()
	a := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(a.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	p := &countingProxy{ap: l.Addr().(*net.TCPAddr).AddrPort()}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.accepts.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s, err := net.DialTimeout("tcp", to.String(), 5*time.Second)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c); s.Close() }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return p
}

func monitorFor(t *testing.T, st store.Store, yaml string) *Monitor {
	t.Helper()
	c, err := config.Parse([]byte(yaml), "")
	if err != nil {
		t.Fatalf("config: %v\n%s", err, yaml)
	}
	clf, err := classify.New(classify.Options{Key: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	mon, err := New(context.Background(), Options{Config: c, Store: st, Registry: all.Registry(), Classifier: clf})
	if err != nil {
		t.Fatal(err)
	}
	return mon
}

// TestOutOfScopeStopsProbing: serve finds an exposed redis; it restarts
// with a config whose scope no longer holds the endpoint (a port-specific
// exclusion, an address exclusion, a narrower target, the scope removed).
// From then on leakwatch makes zero connections to the endpoint (accepts
// counted on a proxy in front of the real server) across sweeps and
// re-checks, and the finding is marked out-of-scope — not closed, no
// "closed" event. Restarted with the endpoint back in scope, it is watched
// (and open) again.
func TestOutOfScopeStopsProbing(t *testing.T) {
	rd := testenv.StartRedis(t, testenv.RedisOptions{})
	rd.CLI(t, "", "SET", "user:1", `{"email":"jane.doe@example.com"}`)
	proxy := startCountingProxy(t, netip.AddrPortFrom(rd.Addr, uint16(rd.Port)))
	ep := proxy.ap.String()
	port := strconv.Itoa(int(proxy.ap.Port()))
	other := netip.AddrPortFrom(testenv.Addr(t), proxy.ap.Port()).String() // nothing listens
	scope := func(name, targets, exclude string) string {
		return fmt.Sprintf(`
api: {disable: true}
probe: {rate: 0}
monitor: {jitter: 0}
scopes:
  - name: %s
    targets: [%s]
    exclude: [%s]
    ports: [%s]
    cadence: 1s
    recheck: 1s
`, name, targets, exclude, port)
	}
	cases := []struct {
		name, config string
	}{
		{"endpoint excluded", scope("lab", ep+", "+other, ep)},
		{"address excluded", scope("lab", ep+", "+other, proxy.ap.Addr().String())},
		{"narrower target", scope("lab", other, "")},
		{"scope removed", scope("elsewhere", other, "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lw.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			ctx := context.Background()
			// First run: the endpoint in scope, found exposed.
			if err := monitorFor(t, st, scope("lab", ep, "")).byName["lab"].sweep(ctx); err != nil {
				t.Fatal(err)
			}
			id := finding.Fingerprint(finding.Target{Host: proxy.ap.Addr().String(), Port: int(proxy.ap.Port())}, "redis")
			if d, err := st.GetFinding(ctx, id, store.TimelineQuery{}); err != nil || d.Finding.Status != lifecycle.StatusOpen {
				t.Fatalf("first sweep: %+v %v", d, err)
			}
			// Restart with the new config: sweeps and re-checks for a while.
			proxy.accepts.Store(0)
			mon := monitorFor(t, st, tc.config)
			runCtx, cancel := context.WithTimeout(ctx, 3500*time.Millisecond)
			defer cancel()
			if err := mon.Run(runCtx); err != nil {
				t.Fatal(err)
			}
			if n := proxy.accepts.Load(); n != 0 {
				t.Errorf("%d connections to %s after it left the scope", n, ep)
			}
			d, err := st.GetFinding(ctx, id, store.TimelineQuery{})
			if err != nil {
				t.Fatal(err)
			}
			var evs []lifecycle.EventKind
			for _, e := range d.Timeline {
				if e.Event != nil {
					evs = append(evs, e.Event.Kind)
				}
			}
			if d.Finding.Status != lifecycle.StatusOutOfScope || !slices.Equal(evs, []lifecycle.EventKind{lifecycle.EventOpened, lifecycle.EventOutOfScope}) {
				t.Fatalf("finding %s, events %v; want out-of-scope, [opened out-of-scope]", d.Finding.Status, evs)
			}
			if list, _ := st.ListFindings(ctx, store.FindingFilter{Status: store.FilterOpen}); len(list) != 0 {
				t.Errorf("still listed open: %v", list)
			}
		})
	}
	// Back in scope: watched, and open, again.
	t.Run("back in scope", func(t *testing.T) {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "lw.db"), store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		ctx := context.Background()
		in := scope("lab", ep, "")
		if err := monitorFor(t, st, in).byName["lab"].sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if err := monitorFor(t, st, scope("lab", other, "")).byName["lab"].scopeCheck(ctx); err != nil {
			t.Fatal(err)
		}
		r := monitorFor(t, st, in).byName["lab"]
		proxy.accepts.Store(0)
		if err := r.recheck(ctx); err != nil {
			t.Fatal(err)
		}
		id := finding.Fingerprint(finding.Target{Host: proxy.ap.Addr().String(), Port: int(proxy.ap.Port())}, "redis")
		d, _ := st.GetFinding(ctx, id, store.TimelineQuery{})
		if d.Finding.Status != lifecycle.StatusOpen || proxy.accepts.Load() == 0 {
			t.Fatalf("back in scope: %s after %d connections", d.Finding.Status, proxy.accepts.Load())
		}
	})
}
