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
