package main

import (
	"testing"

	"github.com/leakwatch/leakwatch/internal/config"
	"github.com/leakwatch/leakwatch/internal/limits"
	"github.com/leakwatch/leakwatch/internal/probe"
	"github.com/leakwatch/leakwatch/internal/scope"
	"github.com/leakwatch/leakwatch/internal/sweep"
)

// TestFlagDefaultsEqualConfigDefaults: `leakwatch scan` without flags and
// `leakwatch serve` with an empty probe section probe alike (both read
// limits.DefaultProbe), and so do probe.DefaultBudget, the sweep's zero
// options and the scope's host cap: the defaults cannot drift apart again.
func TestFlagDefaultsEqualConfigDefaults(t *testing.T) {
	var sf scanFlags
	fs := (&app{}).scanFlagSet(&sf)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	sampleBytes, err := limits.ParseSize(sf.sampleBytes)
	if err != nil {
		t.Fatal(err)
	}
	ceiling, err := limits.ParseSize(sf.memoryCeiling)
	if err != nil {
		t.Fatal(err)
	}
	flags := limits.Probe{
		Rate: sf.rate, Concurrency: sf.concurrency, Workers: sf.probeWorkers,
		ConnectTimeout: sf.connectTimeout, Timeout: sf.probeTimeout, IOTimeout: sf.ioTimeout,
		SampleRecords: sf.sampleRecords, SampleBytes: sampleBytes, MaxDatasets: sf.maxDatasets,
		MemoryCeiling: ceiling, MaxHosts: sf.maxHosts,
	}
	var c config.Config
	c.ApplyDefaults()
	if got := c.Limits(); got != flags {
		t.Errorf("scan flag defaults differ from the config's:\nflags:  %+v\nconfig: %+v", flags, got)
	}
	if flags != limits.DefaultProbe {
		t.Errorf("scan flag defaults %+v, want limits.DefaultProbe %+v", flags, limits.DefaultProbe)
	}
	b, err := sf.budget()
	if err != nil {
		t.Fatal(err)
	}
	if b != probe.DefaultBudget() {
		t.Errorf("budget from default flags %+v, want probe.DefaultBudget %+v", b, probe.DefaultBudget())
	}
	if sweep.DefaultConcurrency != flags.Concurrency || sweep.DefaultTimeout != flags.ConnectTimeout {
		t.Errorf("sweep defaults %d, %s; want %d, %s", sweep.DefaultConcurrency, sweep.DefaultTimeout, flags.Concurrency, flags.ConnectTimeout)
	}
	if scope.DefaultMaxHosts != flags.MaxHosts || probe.DefaultMemoryCeiling != flags.MemoryCeiling {
		t.Errorf("scope.DefaultMaxHosts %d, probe.DefaultMemoryCeiling %d; want %d, %d",
			scope.DefaultMaxHosts, probe.DefaultMemoryCeiling, flags.MaxHosts, flags.MemoryCeiling)
	}
}
