package probe

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// The env knows the local ends of its connections, and the tally leaves
// exactly those out of the store's client list.
func TestClientTallyOwnConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	b := DefaultBudget()
	b.IOTimeout = 2 * time.Second
	env := NewEnv(Target{Addr: ap.Addr(), Port: int(ap.Port())}, b, nil)
	var conns []net.Conn
	for range 2 {
		c, err := env.Dial(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	locals := env.LocalAddrs()
	if len(locals) != 2 || locals[0] != conns[0].LocalAddr().(*net.TCPAddr).AddrPort() {
		t.Fatalf("local addrs %v", locals)
	}
	other, err := net.Dial("tcp", ap.String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherAP := other.LocalAddr().(*net.TCPAddr).AddrPort()

	tally := NewClientTally(env)
	tally.Add(locals[0].String())                                                     // ip:port
	tally.Add("[::ffff:" + locals[1].Addr().String() + "]:" + itoa(locals[1].Port())) // v4-mapped
	tally.Add(otherAP.String())
	tally.Add("localhost:" + itoa(locals[0].Port())) // a resolved name on an own port
	tally.Add("10.1.2.3:5555")
	tally.Add("10.1.2.3:5556")
	tally.Add("")
	var a AccessEvidence
	tally.Fill(&a)
	if a.OwnConnections != 3 {
		t.Errorf("own %d, want 3", a.OwnConnections)
	}
	want := []AccessClient{{Addr: "10.1.2.3", Connections: 2}, {Addr: otherAP.Addr().String(), Connections: 1}}
	if len(a.Clients) != 2 || a.Clients[0] != want[0] || a.Clients[1] != want[1] || !a.ClientsMeasured {
		t.Errorf("clients %+v, want %+v", a.Clients, want)
	}
}

func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// What a prober stores survives the finding's sanitising and decodes in
// the domain layer.
func TestAccessEvidenceRoundTrip(t *testing.T) {
	res := &Result{}
	res.SetAccess(AccessEvidence{Measurable: true, Method: "m", Counters: map[string]int64{CounterQueries: 7}, Own: map[string]int64{CounterQueries: 2}})
	if _, ok := res.Evidence["access"]; !ok {
		t.Fatal("no access key")
	}
	_ = lifecycle.EvidenceAccess
}
