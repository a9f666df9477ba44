package monitor

import (
	"maps"

	"github.com/leakwatch/leakwatch/internal/engine"
	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/lifecycle"
)

// withLightAccess returns the deep report rep with the requests of the
// light probe that preceded it (and was not recorded: the deep probe's
// observation stands for both) added to its own requests, so that the
// next foreign-access interval subtracts them (lifecycle.ForeignAccess).
// Without a light probe that read counters, rep is returned unchanged.
func withLightAccess(rep *engine.Report, light *finding.Finding) *engine.Report {
	if rep == nil || rep.Finding == nil || light == nil {
		return rep
	}
	la, da := lifecycle.ParseAccess(light), lifecycle.ParseAccess(rep.Finding)
	if la == nil || da == nil || !la.Measurable || !da.Measurable {
		return rep
	}
	own := maps.Clone(da.Own)
	if own == nil {
		own = map[string]int64{}
	}
	for c, n := range la.Own {
		own[c] += n
	}
	for c, n := range la.OwnAfter {
		own[c] += n
	}
	da.Own = own
	f := *rep.Finding
	f.Evidence = maps.Clone(f.Evidence)
	f.Evidence[lifecycle.EvidenceAccess] = *da
	out := *rep
	out.Finding = &f
	return &out
}

// WithConcurrent returns f with the own requests of leakwatch's other
// checks of the same endpoint in the same sweep (others: from other
// sites, which ran around f's reading in an unknown order) recorded as
// its access evidence's Concurrent, so that neither interval around the
// reading counts them as foreign (lifecycle.ForeignAccess). f is returned
// unchanged when it or none of the others carries a measurable reading.
func WithConcurrent(f *finding.Finding, others []*finding.Finding) *finding.Finding {
	a := lifecycle.ParseAccess(f)
	if a == nil || !a.Measurable {
		return f
	}
	sum := map[string]int64{}
	for _, o := range others {
		oa := lifecycle.ParseAccess(o)
		if oa == nil || !oa.Measurable {
			continue
		}
		for c, n := range oa.Own {
			sum[c] += n
		}
		for c, n := range oa.OwnAfter {
			sum[c] += n
		}
	}
	if len(sum) == 0 {
		return f
	}
	conc := maps.Clone(a.Concurrent) // a may share f's maps
	if conc == nil {
		conc = map[string]int64{}
	}
	for c, n := range sum {
		conc[c] += n
	}
	a.Concurrent = conc
	out := *f
	out.Evidence = maps.Clone(f.Evidence)
	out.Evidence[lifecycle.EvidenceAccess] = *a
	return &out
}
