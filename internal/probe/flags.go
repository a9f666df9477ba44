package probe

// Flags a prober sets when a limit cut what it could read. A limit that is
// hit never hides what was proven (an open store stays exposed); it is
// stated with one of these flags instead.
const (
	// FlagDatasetsTruncated (result): the dataset listing is incomplete —
	// the listing answer was cut at the response cap, or more datasets
	// exist than are listed.
	FlagDatasetsTruncated = "datasets-truncated"
	// FlagSampleTruncated (dataset): the sample answer was cut at the
	// per-dataset byte budget; records past the cut were not read.
	FlagSampleTruncated = "sample-truncated"
	// FlagRecordTooLarge (dataset): at least one record was left out of the
	// sample because it alone is larger than the per-dataset byte budget.
	FlagRecordTooLarge = "record-too-large"
)

// AddFlag adds a dataset flag once.
func (d *Dataset) AddFlag(flag string) {
	for _, f := range d.Flags {
		if f == flag {
			return
		}
	}
	d.Flags = append(d.Flags, flag)
}
