package report

import "github.com/leakwatch/leakwatch/internal/finding"

// Estimate is the Numbers of one snapshot alone, by the report's methods
// (the dashboard's overview adds them up over open findings without
// reading each finding's history).
func Estimate(f *finding.Finding) Numbers {
	if f == nil {
		return Numbers{}
	}
	snaps := []*finding.Finding{f}
	return numbers(datasets(snaps, f), snaps)
}
