package probetest

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/probe"
)

// WantClasses classifies res as a scan would (ToFinding) and fails the
// test for each class of want (by dataset name) that the dataset lacks,
// or for a dataset the finding does not have.
func WantClasses(tb testing.TB, service string, addr netip.Addr, port int, res *probe.Result, want map[string][]string) {
	tb.Helper()
	f := ToFinding(tb, service, probe.Target{Addr: addr, Port: port}, res)
	have := map[string][]string{}
	for _, d := range f.Datasets {
		have[d.Name] = []string{}
		for _, c := range d.Classes {
			have[d.Name] = append(have[d.Name], c.Class)
		}
	}
	for name, classes := range want {
		got, ok := have[name]
		if !ok {
			tb.Errorf("no dataset %s in the finding", name)
			continue
		}
		for _, c := range classes {
			if !slices.Contains(got, c) {
				tb.Errorf("%s: classes %v lack %s", name, got, c)
			}
		}
	}
}
