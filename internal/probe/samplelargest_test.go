package probe

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func recs(n int64) *int64 { return &n }

func TestSampleLargestOrderAndTurns(t *testing.T) {
	ds := []Dataset{{}, {}, {}, {}}
	ds[0].Records, ds[1].Records, ds[3].Records = recs(5), recs(50), recs(5)
	var seen []int
	res := &Result{}
	err := SampleLargest(context.Background(), res, Budget{MaxDatasets: 2}, ds, func(_ context.Context, i int, _ *Dataset) error {
		seen = append(seen, i)
		if i == 1 {
			return ErrNotSampled
		}
		return nil
	})
	if err != nil || !reflect.DeepEqual(seen, []int{1, 0, 3}) || res.Error != "" {
		t.Fatalf("seen %v, err %v, res.Error %q", seen, err, res.Error)
	}
}

func TestSampleInOrder(t *testing.T) {
	ds := make([]Dataset, 4)
	ds[3].Records = recs(100)
	for _, tc := range []struct {
		order []int
		want  []int
	}{
		{nil, []int{0, 1, 2}},
		{[]int{2, 0, 3, 1}, []int{2, 0, 3}},
	} {
		var seen []int
		res := &Result{}
		err := SampleInOrder(context.Background(), res, Budget{MaxDatasets: 3}, ds, tc.order, func(_ context.Context, i int, _ *Dataset) error {
			seen = append(seen, i)
			if i == 0 {
				return errors.New("x: sample 0: failed")
			}
			return nil
		})
		if err != nil || !reflect.DeepEqual(seen, tc.want) || res.Error != "x: sample 0: failed" {
			t.Errorf("order %v: seen %v, err %v, res.Error %q", tc.order, seen, err, res.Error)
		}
	}
	// StopSampling ends the loop; a cancelled ctx is returned.
	var seen []int
	res := &Result{}
	_ = SampleInOrder(context.Background(), res, Budget{MaxDatasets: 4}, ds, nil, func(_ context.Context, i int, _ *Dataset) error {
		seen = append(seen, i)
		return StopSampling(errors.New("gone"))
	})
	if !reflect.DeepEqual(seen, []int{0}) || res.Error != "gone" {
		t.Errorf("stop: seen %v, res.Error %q", seen, res.Error)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SampleInOrder(ctx, &Result{}, Budget{MaxDatasets: 4}, ds, nil, func(context.Context, int, *Dataset) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
}

func TestOrderBy(t *testing.T) {
	key := []int64{1, 5, 1, 7, 5}
	if got, want := OrderBy(len(key), func(i int) int64 { return key[i] }), []int{3, 1, 4, 0, 2}; !reflect.DeepEqual(got, want) {
		t.Errorf("OrderBy %v, want %v", got, want)
	}
}
