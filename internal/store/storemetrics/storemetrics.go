// Package storemetrics exposes the history store's state as Prometheus
// gauges read at scrape time: open findings by severity, the alert outbox by
// state, the age of the oldest pending alert, and whether the store answered.
// It adapts store to the metrics registry so that package metrics stays a
// leaf; serve registers it next to metrics.New:
//
//	m := metrics.New()
//	m.Registry.MustRegister(storemetrics.Collector(st))
package storemetrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Collector returns the collector of st's gauges.
func Collector(st store.Store) prometheus.Collector { return &storeCollector{st: st} }

var (
	openDesc = prometheus.NewDesc("leakwatch_open_findings",
		"Findings currently open (open, changed or reopened), by severity.", []string{"severity"}, nil)
	outboxDesc = prometheus.NewDesc("leakwatch_alert_outbox",
		"Alerts in the outbox, by state (pending, delivered, gave_up).", []string{"state"}, nil)
	oldestDesc = prometheus.NewDesc("leakwatch_alert_outbox_oldest_pending_seconds",
		"Age of the oldest pending alert (0 when none).", nil, nil)
	storeUpDesc = prometheus.NewDesc("leakwatch_store_up",
		"1 if the history store answered the last scrape.", nil, nil)
)

// storeCollector reads gauges from the store at scrape time.
type storeCollector struct{ st store.Store }

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- openDesc
	ch <- outboxDesc
	ch <- oldestDesc
	ch <- storeUpDesc
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	up := 1.0
	fs, err := c.st.ListFindings(ctx, store.FindingFilter{Status: store.FilterOpen})
	if err != nil {
		up = 0
	} else {
		counts := map[finding.Severity]int{}
		for _, f := range fs {
			counts[f.Severity]++
		}
		for _, s := range []finding.Severity{finding.SeverityInfo, finding.SeverityLow, finding.SeverityMedium, finding.SeverityHigh, finding.SeverityCritical} {
			ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
		}
	}
	if os, err := c.st.OutboxStats(ctx); err != nil {
		up = 0
	} else {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(os.Pending), "pending")
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(os.Delivered), "delivered")
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(os.GaveUp), "gave_up")
		age := 0.0
		if !os.OldestPending.IsZero() {
			age = time.Since(os.OldestPending).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	}
	ch <- prometheus.MustNewConstMetric(storeUpDesc, prometheus.GaugeValue, up)
}
