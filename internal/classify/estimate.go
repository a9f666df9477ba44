package classify

import (
	"math"

	"github.com/leakwatch/leakwatch/internal/finding"
)

// estimate fills the extrapolated counts of a class.
//
// Records: EstimatedRecords = round(matched/sampled × records), bounded by
// the 95% Wilson score interval of the proportion matched/sampled, scaled
// to the dataset and rounded outwards. The Wilson interval stays inside
// [0, records] and behaves at 0 and n matches, where the normal
// approximation does not.
//
// Distinct subjects (identifying classes only): let m be the records that
// matched, v the values seen, d the distinct values among them, f1 the
// values seen once and f2 those seen twice.
//   - No value repeats in the sample (d = v): the sample gives no evidence
//     of sharing, so every matched record is taken to stand for its own
//     subjects: D = d/m × EstimatedRecords (d/m is the values per record).
//     This is the maximum-likelihood answer when all records are distinct
//     and the right one for customer tables, where it equals the estimate.
//   - Some values repeat: the bias-corrected Chao1 estimator
//     D = d + f1(f1−1) / (2(f2+1)), capped at the all-distinct figure above.
//     Chao1 is a lower-bound estimator of the number of classes from
//     singleton/doubleton counts: it reads repeated sightings as evidence of
//     a small population (event logs: many records per user) and does not
//     scale blindly with the dataset size.
//
// Both assume the sample is random over the dataset. Stores usually hand
// out their first documents, so the numbers are indicative; the sample is
// bounded (≈200 records) and so is the precision.
func estimate(cc *finding.ClassCount, records *int64, a *classAgg) {
	n := cc.Sampled
	// A count the store reported that no dataset can have (negative, or
	// past finding.MaxCount) gives no estimate; finding.Sanitize flags it.
	if records == nil || n <= 0 || !finding.ValidCount(*records) {
		return
	}
	total := *records
	matched := min(max(cc.Matched, 0), n)
	N := float64(total) // exact: total ≤ 2^53
	p := float64(matched) / float64(n)
	est := roundCount(math.Round(p*N), 0, total)
	cc.EstimatedRecords = finding.Int64(est)
	lo, hi := wilson(matched, n, 1.959964)
	cc.EstimateLow = finding.Int64(roundCount(math.Floor(lo*N), 0, est))
	cc.EstimateHigh = finding.Int64(roundCount(math.Ceil(hi*N), est, total))
	if a == nil || a.freq == nil || matched == 0 {
		return
	}
	d := len(a.freq)
	f1, f2 := 0, 0
	for _, c := range a.freq {
		switch c {
		case 1:
			f1++
		case 2:
			f2++
		}
	}
	perRecord := float64(d) / float64(matched)
	allDistinct := perRecord * float64(est)
	var D float64
	if d == a.values {
		D = allDistinct
	} else {
		D = float64(d) + float64(f1)*float64(f1-1)/(2*float64(f2+1))
		if D > allDistinct {
			D = allDistinct
		}
	}
	if D < float64(d) {
		D = float64(d)
	}
	cc.DistinctSubjects = finding.Int64(roundCount(math.Round(D), 0, finding.MaxCount))
}

// roundCount converts an already rounded float to a count in [lo, hi],
// saturating (NaN gives lo). Converting a float at or past 2^63 to int64
// directly is undefined in Go and gives math.MinInt64 on amd64.
func roundCount(x float64, lo, hi int64) int64 {
	switch {
	case !(x >= float64(lo)): // also NaN
		return lo
	case x >= float64(hi):
		return hi
	}
	return int64(x)
}

// wilson returns the Wilson score interval for k successes in n trials.
func wilson(k, n int, z float64) (float64, float64) {
	if n == 0 {
		return 0, 1
	}
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	lo, hi := centre-half, centre+half
	if lo < 0 || k == 0 {
		lo = 0
	}
	if hi > 1 || k == n {
		hi = 1
	}
	return lo, hi
}
