// Package metrics holds the Prometheus metrics of `leakwatch serve`: scans,
// probes by status, open findings by severity, scan duration, alert
// deliveries and the outbox. The scheduler and the alert dispatcher update
// them; the API serves them on /metrics.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/leakwatch/leakwatch/internal/finding"
	"github.com/leakwatch/leakwatch/internal/store"
)

// Metrics are the collectors, registered on Registry.
type Metrics struct {
	Registry *prometheus.Registry

	// ScansTotal counts finished sweeps by scope and result (finished,
	// failed, abandoned).
	ScansTotal *prometheus.CounterVec
	// ScanDuration observes sweep durations by scope.
	ScanDuration *prometheus.HistogramVec
	// ProbesTotal counts endpoint probes by outcome (exposed, protected,
	// not-this-service, refused, timeout, protocol-error) and kind (sweep,
	// recheck, deep).
	ProbesTotal *prometheus.CounterVec
	// EndpointsSwept counts TCP connects made by discovery, by scope.
	EndpointsSwept *prometheus.CounterVec
	// AlertDeliveries counts delivery attempts by notifier and result.
	AlertDeliveries *prometheus.CounterVec
	// AlertLatency observes event-to-delivery time by notifier.
	AlertLatency *prometheus.HistogramVec
	// Observations counts observations recorded, by outcome.
	Observations *prometheus.CounterVec
	// Events counts lifecycle events, by kind.
	Events *prometheus.CounterVec
}

// New makes and registers the metrics. st, if not nil, backs the gauges
// read at scrape time (open findings by severity, outbox by state).
func New(st store.Store) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ScansTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_scans_total", Help: "Sweeps of a scope, by result.",
		}, []string{"scope", "result"}),
		ScanDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leakwatch_scan_duration_seconds",
			Help:    "Duration of one sweep of a scope (discovery and probes).",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600},
		}, []string{"scope"}),
		ProbesTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_probes_total", Help: "Endpoint probes, by outcome and kind (sweep, recheck, deep).",
		}, []string{"status", "kind"}),
		EndpointsSwept: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_sweep_connects_total", Help: "TCP connects made by discovery, by scope.",
		}, []string{"scope"}),
		AlertDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_alert_deliveries_total", Help: "Alert delivery attempts, by notifier and result (delivered, failed, gave_up, deferred).",
		}, []string{"notifier", "result"}),
		AlertLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "leakwatch_alert_latency_seconds",
			Help:    "Time from the lifecycle event to its delivery, by notifier.",
			Buckets: []float64{0.5, 1, 2, 5, 10, 20, 30, 60, 300, 3600},
		}, []string{"notifier"}),
		Observations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_observations_total", Help: "Observations recorded, by outcome.",
		}, []string{"outcome"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leakwatch_lifecycle_events_total", Help: "Lifecycle events, by kind.",
		}, []string{"kind"}),
	}
	m.Registry.MustRegister(m.ScansTotal, m.ScanDuration, m.ProbesTotal, m.EndpointsSwept,
		m.AlertDeliveries, m.AlertLatency, m.Observations, m.Events,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if st != nil {
		m.Registry.MustRegister(&storeCollector{st: st})
	}
	return m
}

// ObserveDelivery counts a delivery attempt; latency (event to delivery)
// is observed for delivered alerts.
func (m *Metrics) ObserveDelivery(notifier, result string, latency time.Duration) {
	m.AlertDeliveries.WithLabelValues(notifier, result).Inc()
	if result == "delivered" && latency >= 0 {
		m.AlertLatency.WithLabelValues(notifier).Observe(latency.Seconds())
	}
}

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
