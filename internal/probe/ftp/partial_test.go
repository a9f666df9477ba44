package ftp

import (
	"bufio"
	"context"
	"net"
	"net/netip"
	"strings"
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
		c.Write([]byte("220 FTP server ready\r\n"))
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch verb {
			case "USER":
				c.Write([]byte("331 password please\r\n"))
			case "PASS":
				c.Write([]byte("230 logged in\r\n"))
			case "PWD":
				c.Write([]byte("257 \"/\" is the current directory\r\n"))
			default:
				return // silent from here on
			}
		}
	})
	prov, _, _ := probeCut(t, addr, port)
	if prov.Status != finding.StatusExposed || prov.Auth != finding.AuthNone {
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
