package mqtt

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/probe/probetest"
	"github.com/leakwatch/leakwatch/internal/testenv"
)

// A probe cut after identification (here: a hand-written server that
// identifies, then stalls until the probe deadline) leaves what it proved
// in env.ProvisionalResult, which the engine reports flagged partial
// instead of nothing (ARCHITECTURE.md, "Adding a prober", step 2).
func TestPartialAfterIdentification(t *testing.T) {
	addr, port := stallServer(t, func(c net.Conn) {
		br := bufio.NewReader(c)
		if _, err := br.ReadByte(); err != nil { // CONNECT
			return
		}
		n, shift := 0, 0
		for {
			b, err := br.ReadByte()
			if err != nil {
				return
			}
			n |= int(b&0x7f) << shift
			shift += 7
			if b&0x80 == 0 {
				break
			}
		}
		if _, err := io.CopyN(io.Discard, br, int64(n)); err != nil {
			return
		}
		c.Write([]byte{0x20, 2, 0, 0}) // CONNACK accepted; then no SUBACK
	})
	prov, _, _ := probeCut(t, addr, port)
	if prov.Status == finding.StatusExposed || prov.Evidence["connack_rc"] != 0 {
		t.Errorf("provisional %+v", prov)
	}
}

// stallServer serves handle on a fresh loopback address; each connection
// stays open (silent) after handle returns, until the test ends.
func stallServer(t *testing.T, handle func(c net.Conn)) (netip.Addr, int) {
	t.Helper()
	addr := testenv.Addr(t)
	l, err := net.Listen("tcp", net.JoinHostPort(addr.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
				<-quit
			}()
		}
	}()
	t.Cleanup(func() { close(quit); l.Close(); wg.Wait() })
	return addr, l.Addr().(*net.TCPAddr).Port
}

// probeCut probes addr:port with a short deadline and returns what the
// engine would report: the result, or the provisional one when the probe
// failed.
func probeCut(t *testing.T, addr netip.Addr, port int) (prov *probe.Result, res *probe.Result, err error) {
	t.Helper()
	env := probetest.Env(addr, port)
	env.Budget.IOTimeout = 700 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	began := time.Now()
	res, err = New().Probe(ctx, env)
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("probe took %v", d)
	}
	prov = env.ProvisionalResult()
	if prov == nil {
		t.Fatalf("no provisional result after identification: res %+v err %v", res, err)
	}
	if res != nil && res != prov {
		t.Errorf("the returned result is not the provisional one")
	}
	return prov, res, err
}
