package lifecycle

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// Access evidence: who else used an exposed store between two observations.
//
// Each prober that can measure it reads the store's own cumulative
// counters (requests served, connections accepted) read-only at every
// observation, and counts the requests it made itself before (and, where
// the store's counters lag, after) that reading. Between two observations,
//
//	foreign = Δcounter − own requests in between
//	        = (cur.Counters[c] − prev.Counters[c]) − cur.Own[c] − prev.OwnAfter[c]
//
// Re-checks are observations too, so leakwatch's own light re-checks are
// subtracted as well. The limits, stated in every AccessDelta:
//   - A counter that went down means the store restarted (or its counters
//     were reset): the interval is reported "reset" with the counter's new
//     value as a lower bound of the foreign requests since the restart,
//     never as a negative number.
//   - Checks between the two readings that carried no access evidence
//     (inconclusive or partial probes) made requests leakwatch could not
//     count: the interval is flagged "gap" and foreign is an upper bound.
//   - "Foreign" is everything that is not leakwatch: the store's own
//     application, its administrators and background jobs as much as an
//     intruder. The numbers say that the data was used, not by whom.
//   - Counters are the store's own: a store that lies, or counts a request
//     kind differently (shards, statements, commands), is read as it says;
//     Method names what each counter counts.

// EvidenceAccess is the evidence key under which a prober stores its
// AccessEvidence (finding.Evidence["access"]).
const EvidenceAccess = "access"

// Counter names the probers share. Each prober documents in
// AccessEvidence.Method what its store counts under them.
const (
	// CounterQueries: requests that read (or write) data or metadata —
	// commands, statements, searches, document reads. The headline number.
	CounterQueries = "queries"
	// CounterConnections: client connections accepted since the server
	// started.
	CounterConnections = "connections"
)

// AccessEvidence is what one observation read about the store's use. It
// holds counters and infrastructure facts (client addresses), never
// sampled values. Probers fill it (probe.AccessEvidence is this type) and
// store it under EvidenceAccess.
type AccessEvidence struct {
	// Measurable is false when the store offers no such counters (or they
	// could not be read); Why says which.
	Measurable bool   `json:"measurable"`
	Why        string `json:"why,omitempty"`
	// Method says what was read and what each counter counts.
	Method string `json:"method,omitempty"`
	// Counters are cumulative server counters at the reading (leakwatch's
	// own requests included).
	Counters map[string]int64 `json:"counters,omitempty"`
	// Own is how much this probe itself added to each counter before the
	// reading.
	Own map[string]int64 `json:"own,omitempty"`
	// OwnAfter is how much this probe adds to each counter after the
	// reading (requests it made after it, or counted late by the store):
	// the next interval subtracts it.
	OwnAfter map[string]int64 `json:"own_after,omitempty"`
	// Concurrent is how much leakwatch's other checks of the same
	// endpoint in the same sweep added to each counter — from other sites
	// (vantage points), whose order against this reading is unknown. Both
	// intervals around the reading subtract it, so foreign numbers stay
	// lower bounds, and clients new at either reading may be those checks.
	Concurrent map[string]int64 `json:"concurrent_own,omitempty"`
	// Gauges are current values at the reading (open connections,
	// connected clients), leakwatch's own included.
	Gauges map[string]int64 `json:"gauges,omitempty"`
	// Datasets are per-dataset cumulative counters (Elasticsearch per
	// index), DatasetsOwn this probe's share of them.
	Datasets    map[string]map[string]int64 `json:"datasets,omitempty"`
	DatasetsOwn map[string]map[string]int64 `json:"datasets_own,omitempty"`
	// DatasetSums says which counters are sums of per-dataset counters
	// ("queries" = Σ search + get over indices). Between two readings such
	// a counter's change is summed over the datasets present in both (and
	// new ones), so a dataset deleted in between lowers no total and reads
	// as no restart.
	DatasetSums map[string][]string `json:"dataset_sums,omitempty"`
	// Clients are the other clients connected at the reading, by address;
	// leakwatch's own connections (matched by their local address and
	// port) are left out and counted in OwnConnections.
	Clients          []AccessClient `json:"clients,omitempty"`
	OwnConnections   int            `json:"own_connections,omitempty"`
	ClientsMeasured  bool           `json:"clients_measured,omitempty"`
	ClientsTruncated bool           `json:"clients_truncated,omitempty"`
	// UptimeSeconds is the server's uptime at the reading, if it says.
	UptimeSeconds *int64 `json:"uptime_seconds,omitempty"`
	// Missing are counters this store does not offer (a wire-compatible
	// server implementing part of the stats).
	Missing []string `json:"missing,omitempty"`
}

// AccessClient is one other client address and how many connections it
// had open at the reading.
type AccessClient struct {
	Addr        string `json:"addr"`
	Connections int    `json:"connections"`
}

// NotMeasurable is the access evidence of a store that cannot say.
func NotMeasurable(why string) AccessEvidence { return AccessEvidence{Why: why} }

// ParseAccess reads the access evidence of a finding (nil if it has none
// or it does not decode).
func ParseAccess(f *finding.Finding) *AccessEvidence {
	if f == nil || f.Evidence == nil {
		return nil
	}
	v, ok := f.Evidence[EvidenceAccess]
	if !ok || v == nil {
		return nil
	}
	if a, ok := v.(AccessEvidence); ok {
		return &a
	}
	if a, ok := v.(*AccessEvidence); ok {
		return a
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var a AccessEvidence
	if json.Unmarshal(b, &a) != nil {
		return nil
	}
	return &a
}

// CounterDelta is one counter over one interval.
type CounterDelta struct {
	From  int64 `json:"from"`
	To    int64 `json:"to"`
	Delta int64 `json:"delta"`
	// Own is leakwatch's own requests in the interval.
	Own int64 `json:"own"`
	// Foreign is Delta − Own, never below 0 (see OwnExceeded).
	Foreign int64 `json:"foreign"`
	// Reset: the counter went down (restart); Foreign is then the new
	// value minus own requests, a lower bound.
	Reset bool `json:"reset,omitempty"`
	// OwnExceeded: leakwatch counted more own requests than the counter
	// moved (a store counting lazily); Foreign was clamped to 0.
	OwnExceeded bool `json:"own_exceeded,omitempty"`
}

// AccessDelta is the foreign use of a store between two observations.
type AccessDelta struct {
	Since time.Time `json:"since,omitzero"`
	At    time.Time `json:"at"`
	// Measurable is false when either reading is missing or not
	// measurable; Why says which.
	Measurable bool   `json:"measurable"`
	Why        string `json:"why,omitempty"`
	Method     string `json:"method,omitempty"`
	// ForeignQueries and ForeignConnections are the headline numbers
	// (nil when the store has no such counter).
	ForeignQueries     *int64 `json:"foreign_queries,omitempty"`
	ForeignConnections *int64 `json:"foreign_connections,omitempty"`
	// Counters are every counter both readings have.
	Counters map[string]CounterDelta `json:"counters,omitempty"`
	// Datasets are the per-dataset foreign counts that moved.
	Datasets map[string]map[string]int64 `json:"datasets,omitempty"`
	// Clients are the other clients at the current reading; NewClients
	// those addresses not connected at the previous one.
	Clients    []AccessClient `json:"clients,omitempty"`
	NewClients []string       `json:"new_clients,omitempty"`
	// Reset: a counter went down (the store restarted).
	Reset bool `json:"reset,omitempty"`
	// Gap: checks between the readings carried no access evidence; their
	// own requests are unknown, so foreign numbers are upper bounds.
	Gap bool `json:"gap,omitempty"`
	// Limits states what the numbers cannot say.
	Limits []string `json:"limits,omitempty"`
}

// Seen tells whether the interval shows use by others: foreign requests,
// or a client address not connected at the previous
// reading. (Other clients that merely stay connected are listed in every
// delta, but are news only once.)
func (d *AccessDelta) Seen() bool {
	if d == nil || !d.Measurable {
		return false
	}
	// Connections alone are no use of the data: a port check, a load
	// balancer's health probe and leakwatch's own sweep (a bare TCP
	// connect) each open one. They are kept in the delta, but only
	// requests, or a client address not seen before, make an event.
	return (d.ForeignQueries != nil && *d.ForeignQueries > 0) || len(d.NewClients) > 0
}

// Summary is the delta in one line ("31 foreign queries, 2 foreign
// connections, other clients 127.0.0.9 since 2026-11-28T15:00:00Z").
func (d *AccessDelta) Summary() string {
	if d == nil {
		return ""
	}
	if !d.Measurable {
		return "access not measurable: " + d.Why
	}
	var parts []string
	if d.ForeignQueries != nil {
		parts = append(parts, fmt.Sprintf("%s foreign queries", Count(*d.ForeignQueries)))
	}
	if d.ForeignConnections != nil {
		parts = append(parts, fmt.Sprintf("%s foreign connections", Count(*d.ForeignConnections)))
	}
	if len(d.Clients) > 0 {
		addrs := make([]string, len(d.Clients))
		for i, c := range d.Clients {
			addrs[i] = c.Addr
		}
		parts = append(parts, "other clients "+list(addrs))
	}
	s := strings.Join(parts, ", ")
	if !d.Since.IsZero() {
		s += " since " + d.Since.UTC().Format(time.RFC3339)
	}
	if d.Reset {
		s += " (counters reset: the store restarted; lower bound)"
	}
	if d.Gap {
		s += " (checks in between without counters; upper bound)"
	}
	return s
}

// accessLimits are the limits every measured delta states.
var accessLimits = []string{
	"foreign means not leakwatch: the store's own application, administrators and background jobs count as much as an intruder",
	"counters are the store's own and count what its method says (commands, statements, shard-level searches)",
}

// ForeignAccess is the foreign use of a store between the readings of
// prev and cur (two exposed snapshots of one finding, prev the earlier).
// gap says that checks between them carried no access evidence. It
// returns nil when cur carries no access evidence at all.
func ForeignAccess(prev, cur *finding.Finding, gap bool) *AccessDelta {
	ca := ParseAccess(cur)
	if ca == nil {
		return nil
	}
	d := &AccessDelta{Method: ca.Method, Gap: gap}
	if cur != nil {
		d.At = cur.ObservedAt
	}
	if prev != nil {
		d.Since = prev.ObservedAt
	}
	pa := ParseAccess(prev)
	switch {
	case !ca.Measurable:
		d.Why = ca.Why
		return d
	case pa == nil:
		d.Why = "no earlier reading of the counters"
		d.Clients = slices.Clone(ca.Clients)
		return d
	case !pa.Measurable:
		d.Why = "the earlier reading was not measurable: " + pa.Why
		d.Clients = slices.Clone(ca.Clients)
		return d
	}
	d.Measurable = true
	d.Limits = slices.Clone(accessLimits)
	if gap {
		d.Limits = append(d.Limits, "checks between the readings carried no counters: their own requests are unknown, foreign numbers are upper bounds")
	}
	d.Counters = map[string]CounterDelta{}
	vanished := false
	for name, to := range ca.Counters {
		from, ok := pa.Counters[name]
		if !ok {
			continue
		}
		own := ca.Own[name] + pa.OwnAfter[name] + ca.Concurrent[name] + pa.Concurrent[name]
		cd, gone, ok := datasetSumDelta(pa, ca, name, own)
		if !ok {
			cd = counterDelta(from, to, own)
		}
		vanished = vanished || gone
		d.Counters[name] = cd
		d.Reset = d.Reset || cd.Reset
	}
	if vanished {
		d.Limits = append(d.Limits, "datasets were deleted between the readings: requests to them in that interval are not counted")
	}
	concurrent := len(ca.Concurrent)+len(pa.Concurrent) > 0
	if concurrent {
		d.Limits = append(d.Limits, "leakwatch checked the store from other sites in the same sweeps: their requests are subtracted from both intervals around each reading (foreign numbers are lower bounds), and clients new at a reading are not news")
	}
	if d.Reset {
		d.Limits = append(d.Limits, "a counter went down: the store restarted or reset its counters; foreign numbers count only since then (lower bounds)")
	}
	if cd, ok := d.Counters[CounterQueries]; ok {
		d.ForeignQueries = finding.Int64(cd.Foreign)
	}
	if cd, ok := d.Counters[CounterConnections]; ok {
		d.ForeignConnections = finding.Int64(cd.Foreign)
	}
	for name, to := range ca.Datasets {
		from, ok := pa.Datasets[name]
		if !ok {
			continue
		}
		for c, v := range to {
			pv, ok := from[c]
			if !ok {
				continue
			}
			cd := counterDelta(pv, v, ca.DatasetsOwn[name][c])
			if cd.Foreign > 0 {
				if d.Datasets == nil {
					d.Datasets = map[string]map[string]int64{}
				}
				if d.Datasets[name] == nil {
					d.Datasets[name] = map[string]int64{}
				}
				d.Datasets[name][c] = cd.Foreign
			}
		}
	}
	d.Clients = slices.Clone(ca.Clients)
	before := map[string]bool{}
	for _, c := range pa.Clients {
		before[c.Addr] = true
	}
	for _, c := range ca.Clients {
		if !before[c.Addr] && !concurrent {
			d.NewClients = append(d.NewClients, c.Addr)
		}
	}
	return d
}

// counterDelta computes one counter's interval.
// datasetSumDelta computes the change of a counter that is a sum of
// per-dataset counters (AccessEvidence.DatasetSums) dataset by dataset:
// datasets in both readings add their change (a dataset whose counter went
// down was recreated or reset: its new value counts), new datasets add
// their value, deleted ones add nothing (gone reports that). ok is false
// when the readings do not allow it — no such sum, or a reading's datasets
// do not add up to its counter (a listing cut short) — and the counter's
// own change is used.
func datasetSumDelta(pa, ca *AccessEvidence, name string, own int64) (cd CounterDelta, gone, ok bool) {
	subs := ca.DatasetSums[name]
	if len(subs) == 0 || !slices.Equal(subs, pa.DatasetSums[name]) {
		return cd, false, false
	}
	sum := func(ds map[string]int64) int64 {
		var n int64
		for _, c := range subs {
			n = finding.SatAdd(n, ds[c])
		}
		return n
	}
	total := func(a *AccessEvidence) int64 {
		var n int64
		for _, ds := range a.Datasets {
			n = finding.SatAdd(n, sum(ds))
		}
		return n
	}
	if total(pa) != pa.Counters[name] || total(ca) != ca.Counters[name] {
		return cd, false, false
	}
	var delta int64
	reset := false
	for ds, cur := range ca.Datasets {
		now := sum(cur)
		prev, seen := pa.Datasets[ds]
		switch {
		case !seen:
			delta = finding.SatAdd(delta, now)
		case now < sum(prev):
			delta, reset = finding.SatAdd(delta, now), true
		default:
			delta = finding.SatAdd(delta, now-sum(prev))
		}
	}
	for ds := range pa.Datasets {
		if _, ok := ca.Datasets[ds]; !ok {
			gone = true
		}
	}
	cd = CounterDelta{From: pa.Counters[name], To: ca.Counters[name], Own: own, Delta: delta, Reset: reset}
	cd.Foreign = delta - own
	if cd.Foreign < 0 {
		cd.Foreign, cd.OwnExceeded = 0, true
	}
	return cd, gone, true
}

func counterDelta(from, to, own int64) CounterDelta {
	cd := CounterDelta{From: from, To: to, Own: own}
	if to < from {
		// Restart: everything since counts from zero.
		cd.Reset, cd.Delta = true, to
	} else {
		cd.Delta = to - from
	}
	cd.Foreign = cd.Delta - own
	if cd.Foreign < 0 {
		cd.Foreign, cd.OwnExceeded = 0, true
	}
	return cd
}

// EventAccessed: between two exposed observations of an open finding, its
// store served requests (or connections) that were not leakwatch's, or
// other clients were connected. It carries the AccessDelta.
const EventAccessed EventKind = "accessed"

// accessEvents is the accessed event of an exposed observation, if the
// interval since the previous exposed one shows foreign use. It reads the
// snapshots only (pure); an interval in which the finding was not open
// (closed, out of scope) or saw non-exposed checks is flagged gap.
func accessEvents(prev State, s *State, obs Observation) []Event {
	if prev.Last == nil || obs.Finding == nil {
		return nil
	}
	gap := !prev.Status.IsOpen() || prev.LastSeen.After(prev.LastSeenOpen)
	d := ForeignAccess(prev.Last, obs.Finding, gap)
	if !d.Seen() {
		return nil
	}
	e := event(EventAccessed, s, obs.At, nil, nil)
	e.Access = d
	e.Summary = fmt.Sprintf("accessed: %s on %s: %s", s.Service, s.Target.Addr(), d.Summary())
	return []Event{e}
}
