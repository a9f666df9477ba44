package monitor

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
	"github.com/leakwatch/leakwatch/internal/store"
)

// TestRecheckChunks: a cluster re-check round sends each endpoint of a
// tracked finding to the sites it was reachable from (sites no longer in
// the scope left out; none known: all the scope's sites), in chunks of
// at most the chunk size, numbered without overlap.
func TestRecheckChunks(t *testing.T) {
	at := func(host string, port int, sites ...string) (netip.AddrPort, store.Finding) {
		ap := netip.MustParseAddrPort(fmt.Sprintf("%s:%d", host, port))
		f := store.Finding{State: lifecycle.State{Target: finding.Target{Host: host, Port: port}}}
		f.Last = &finding.Finding{ReachableFrom: sites}
		return ap, f
	}
	known := map[netip.AddrPort][]store.Finding{}
	add := func(ap netip.AddrPort, f store.Finding) { known[ap] = append(known[ap], f) }
	add(at("127.0.0.1", 6379, "dc-a"))
	add(at("127.0.0.2", 6379, "dc-a"))
	add(at("127.0.0.3", 6379, "dc-a"))
	add(at("127.0.0.4", 6379, "dc-b", "internet"))
	add(at("127.0.0.5", 6379, "gone-site")) // → every scope site
	add(at("127.0.0.6", 6379))
	ap, f := at("127.0.0.7", 9200, "dc-a") // two services on one endpoint
	add(ap, f)
	_, f = at("127.0.0.7", 9200, "internet")
	add(ap, f)
	chunks := recheckChunks(known, []string{"dc-a", "dc-b", "internet"}, 2)
	type got struct {
		sites string
		eps   []string
		start int64
	}
	var gs []got
	for _, c := range chunks {
		var eps []string
		for _, e := range c.Endpoints {
			eps = append(eps, e.AddrPort().String())
		}
		gs = append(gs, got{fmt.Sprint(c.Sites), eps, c.Start})
	}
	want := []got{
		{"[dc-a]", []string{"127.0.0.1:6379", "127.0.0.2:6379"}, 0},
		{"[dc-a]", []string{"127.0.0.3:6379"}, 2},
		{"[dc-a dc-b internet]", []string{"127.0.0.5:6379", "127.0.0.6:6379"}, 3},
		{"[dc-a internet]", []string{"127.0.0.7:9200"}, 5},
		{"[dc-b internet]", []string{"127.0.0.4:6379"}, 6},
	}
	if len(gs) != len(want) {
		t.Fatalf("chunks %+v", gs)
	}
	for i := range want {
		if gs[i].sites != want[i].sites || !slices.Equal(gs[i].eps, want[i].eps) || gs[i].start != want[i].start {
			t.Errorf("chunk %d: %+v, want %+v", i, gs[i], want[i])
		}
	}
}
