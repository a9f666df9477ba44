package limits

import (
	"slices"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{{"65536", 65536}, {"1MiB", 1 << 20}, {" 512 KiB ", 512 << 10}, {"2MB", 2e6}, {"1GiB", 1 << 30}, {"7B", 7}} {
		if got, err := ParseSize(c.in); err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "lots", "0", "-1MiB", "1.5MiB", "9999999999GiB", "9223372036854775807KiB", "2048GiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d; want an error", in, got)
		}
	}
}

func TestParsePorts(t *testing.T) {
	got, err := ParsePorts("9200, 6379,8000-8002,,6379")
	if err != nil || !slices.Equal(got, []int{9200, 6379, 8000, 8001, 8002}) {
		t.Errorf("ParsePorts = %v, %v", got, err)
	}
	for _, in := range []string{"", ",", "0", "70000", "9300-9200", "a", "1-70000"} {
		if got, err := ParsePorts(in); err == nil {
			t.Errorf("ParsePorts(%q) = %v; want an error", in, got)
		}
	}
}

func TestBounds(t *testing.T) {
	if CheckCount(0, 1) == nil || CheckCount(MaxCount+1, 0) == nil || CheckCount(5, 1) != nil {
		t.Error("CheckCount")
	}
	if CheckDuration(0, false) == nil || CheckDuration(0, true) != nil || CheckDuration(MaxDuration+time.Second, true) == nil {
		t.Error("CheckDuration")
	}
	if CheckRate(-1) == nil || CheckRate(MaxRate+1) == nil || CheckRate(0) != nil {
		t.Error("CheckRate")
	}
	if CheckSampleBytes(MaxSampleBytes+1) == nil || CheckMemoryCeiling(MinMemoryCeiling-1) == nil || CheckMemoryCeiling(MaxMemoryCeiling+1) == nil {
		t.Error("size bounds")
	}
	d := DefaultProbe
	if CheckSampleBytes(d.SampleBytes) != nil || CheckMemoryCeiling(d.MemoryCeiling) != nil || CheckRate(d.Rate) != nil ||
		CheckCount(d.Concurrency, 1) != nil || CheckCount(d.Workers, 1) != nil || CheckDuration(d.ConnectTimeout, false) != nil {
		t.Error("DefaultProbe out of its own bounds")
	}
}
