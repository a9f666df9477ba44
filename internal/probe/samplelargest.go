package probe

import (
	"context"
	"errors"
	"sort"
)

// ErrNotSampled, returned by a SampleLargest callback, says it left the
// dataset unsampled (hidden, empty, not readable): the dataset does not use
// up one of Budget.MaxDatasets and no error is recorded.
var ErrNotSampled = errors.New("dataset not sampled")

// ErrStopSampling, wrapped in a SampleLargest callback's error, records
// that error and samples no further dataset (the connection is gone).
var ErrStopSampling = errors.New("sampling stopped")

// SampleLargest samples the largest datasets: it calls sample for the
// datasets in order of Records, largest first (unknown counts last, ties in
// the order given; the slice itself is not reordered), until
// b.MaxDatasets have had their turn or ctx ends. A callback's error is
// added to res with AddError (so it should name the prober and dataset);
// ErrNotSampled does not use up a turn; ErrStopSampling ends the loop.
func SampleLargest(ctx context.Context, res *Result, b Budget, datasets []Dataset, sample func(ctx context.Context, i int, ds *Dataset) error) {
	turns := 0
	for _, i := range LargestFirst(datasets) {
		if turns >= b.MaxDatasets || ctx.Err() != nil {
			return
		}
		err := sample(ctx, i, &datasets[i])
		if errors.Is(err, ErrNotSampled) {
			continue
		}
		turns++
		res.AddError(err)
		if errors.Is(err, ErrStopSampling) {
			return
		}
	}
}

// LargestFirst returns the indices of datasets ordered by Records, largest
// first; unknown counts go last and ties keep their order.
func LargestFirst(datasets []Dataset) []int {
	idx := make([]int, len(datasets))
	for i := range idx {
		idx[i] = i
	}
	size := func(i int) int64 {
		if r := datasets[i].Records; r != nil {
			return *r
		}
		return -1
	}
	sort.SliceStable(idx, func(a, b int) bool { return size(idx[a]) > size(idx[b]) })
	return idx
}
