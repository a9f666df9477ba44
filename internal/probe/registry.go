package probe

import (
	"fmt"
	"sort"
)

// Registry is the set of probers a scan may use.
type Registry struct {
	probers []Prober
	byName  map[string]Prober
}

// NewRegistry makes a registry; duplicate names are a programming error.
func NewRegistry(ps ...Prober) (*Registry, error) {
	r := &Registry{byName: map[string]Prober{}}
	for _, p := range ps {
		if _, dup := r.byName[p.Name()]; dup {
			return nil, fmt.Errorf("registry: prober %q registered twice", p.Name())
		}
		r.byName[p.Name()] = p
		r.probers = append(r.probers, p)
	}
	return r, nil
}

// All returns the probers in registration order.
func (r *Registry) All() []Prober { return append([]Prober(nil), r.probers...) }

// Get returns a prober by name.
func (r *Registry) Get(name string) (Prober, bool) {
	p, ok := r.byName[name]
	return p, ok
}

// Names lists prober names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.probers))
	for _, p := range r.probers {
		out = append(out, p.Name())
	}
	sort.Strings(out)
	return out
}

// Subset keeps only the named probers.
func (r *Registry) Subset(names []string) (*Registry, error) {
	var ps []Prober
	for _, n := range names {
		p, ok := r.byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown prober %q (known: %v)", n, r.Names())
		}
		ps = append(ps, p)
	}
	return NewRegistry(ps...)
}

// Ports is the union of all default ports, sorted.
func (r *Registry) Ports() []int {
	seen := map[int]bool{}
	var out []int
	for _, p := range r.probers {
		for _, port := range p.DefaultPorts() {
			if !seen[port] {
				seen[port] = true
				out = append(out, port)
			}
		}
	}
	sort.Ints(out)
	return out
}

// ForPort orders the probers to try on a port: those that claim the port
// first (in registration order), then, if all is true, every other one,
// because a service on a non-standard port must still be recognised.
func (r *Registry) ForPort(port int, all bool) []Prober {
	var first, rest []Prober
	for _, p := range r.probers {
		claimed := false
		for _, dp := range p.DefaultPorts() {
			if dp == port {
				claimed = true
				break
			}
		}
		if claimed {
			first = append(first, p)
		} else if all {
			rest = append(rest, p)
		}
	}
	return append(first, rest...)
}
