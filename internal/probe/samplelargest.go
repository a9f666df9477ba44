package probe

import (
	"context"
	"errors"
	"sort"

	"github.com/leakwatch/leakwatch/internal/classify"
)

// ErrNotSampled, returned by a SampleLargest callback, says it left the
// dataset unsampled (hidden, empty, not readable): the dataset does not use
// up one of Budget.MaxDatasets and no error is recorded.
var ErrNotSampled = errors.New("dataset not sampled")

// ErrStopSampling, wrapped in a SampleLargest callback's error (see
// StopSampling), records that error and samples no further dataset (the
// connection is gone).
var ErrStopSampling = errors.New("sampling stopped")

// StopSampling marks err (its text unchanged) as ending SampleLargest's
// loop; nil stays nil.
func StopSampling(err error) error {
	if err == nil {
		return nil
	}
	return stopErr{err}
}

type stopErr struct{ error }

func (e stopErr) Is(target error) bool { return target == ErrStopSampling }
func (e stopErr) Unwrap() error        { return e.error }

// SampleLargest samples the largest datasets: it calls sample for the
// datasets in order of Records, largest first (unknown counts last, ties in
// the order given; the slice itself is not reordered), until
// b.MaxDatasets have had their turn or ctx ends. A callback's error is
// added to res with AddError (so it should name the prober and dataset);
// ErrNotSampled does not use up a turn; ErrStopSampling ends the loop.
// It returns ctx's error when ctx ended before every turn was taken (the
// engine flags the timeout; a prober may also say so in res).
func SampleLargest(ctx context.Context, res *Result, b Budget, datasets []Dataset, sample func(ctx context.Context, i int, ds *Dataset) error) error {
	return SampleInOrder(ctx, res, b, datasets, LargestFirst(datasets), sample)
}

// SampleInOrder is SampleLargest for a prober that orders its datasets
// itself (by bytes, or as listed): sample is called for datasets[i], i in
// order; a nil order means the datasets in the order given. Turns, errors,
// ErrNotSampled, ErrStopSampling and ctx are as in SampleLargest.
func SampleInOrder(ctx context.Context, res *Result, b Budget, datasets []Dataset, order []int, sample func(ctx context.Context, i int, ds *Dataset) error) error {
	if order == nil {
		order = make([]int, len(datasets))
		for i := range order {
			order[i] = i
		}
	}
	turns := 0
	for _, i := range order {
		if turns >= b.MaxDatasets {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		err := sample(ctx, i, &datasets[i])
		if errors.Is(err, ErrNotSampled) {
			continue
		}
		turns++
		res.AddError(err)
		if errors.Is(err, ErrStopSampling) {
			return nil
		}
	}
	return nil
}

// LargestFirst returns the indices of datasets ordered by Records, largest
// first; unknown counts go last and ties keep their order.
func LargestFirst(datasets []Dataset) []int {
	return OrderBy(len(datasets), func(i int) int64 {
		if r := datasets[i].Records; r != nil {
			return *r
		}
		return -1
	})
}

// OrderBy returns the indices 0..n-1 ordered by key, largest first; ties
// keep their order. It is the order for SampleInOrder when a prober ranks
// its datasets by something of its own (files per directory, bytes).
func OrderBy(n int, key func(i int) int64) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return key(idx[a]) > key(idx[b]) })
	return idx
}

// AppendWithin appends recs to sample while the dataset's running sample
// size (*size, bytes so far, counted on) stays within maxBytes. The first
// record that does not fit flags ds sample-truncated (and record-too-large
// when sample is still empty) and ends the append; *size then exceeds
// maxBytes, which tells the caller's loop to stop.
func (ds *Dataset) AppendWithin(sample, recs []classify.Record, size *int64, maxBytes int64) []classify.Record {
	for _, r := range recs {
		*size += int64(r.Size())
		if *size > maxBytes {
			ds.AddFlag(FlagSampleTruncated)
			if len(sample) == 0 {
				ds.AddFlag(FlagRecordTooLarge)
			}
			break
		}
		sample = append(sample, r)
	}
	return sample
}
