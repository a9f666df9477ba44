// Package metrics holds the Prometheus metrics of `leakwatch serve`: scans,
// probes by status, scan duration, alert deliveries, observations and
// lifecycle events. The scheduler and the alert dispatcher update them; the
// API serves them on /metrics.
//
// It is a leaf: it imports nothing of leakwatch, so any layer may update a
// metric. Gauges read from the history store at scrape time (open findings by
// severity, the alert outbox) are registered on Registry where serve is wired,
// by store/storemetrics.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
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

// New makes and registers the metrics. Gauges backed by the store are added
// with Registry.MustRegister(storemetrics.Collector(st)).
func New() *Metrics {
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
