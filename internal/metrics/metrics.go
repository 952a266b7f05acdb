// Package metrics holds tally's Prometheus metrics. A nil *Metrics is valid and records
// nothing, so packages and tests that do not care need not set one up. No metric carries a
// label that could identify a visitor: outcomes, reasons and job names only.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the collectors tally updates.
type Metrics struct {
	reg        *prometheus.Registry
	received   *prometheus.CounterVec
	counted    *prometheus.CounterVec
	excluded   *prometheus.CounterVec
	rejected   *prometheus.CounterVec
	record     prometheus.Histogram
	batch      prometheus.Histogram
	commit     prometheus.Histogram
	jobSeconds *prometheus.HistogramVec
	jobLast    *prometheus.GaugeVec
	jobFailed  *prometheus.CounterVec
	jobItems   *prometheus.GaugeVec
	dedup      prometheus.Gauge
	refused    *prometheus.CounterVec
	saltErrors prometheus.Counter
}

// New registers every collector, plus Go runtime and process metrics, on a fresh registry.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.received = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_beacons_received_total",
		Help: "Beacons received, by endpoint (view, event, pixel, like)."}, []string{"endpoint"})
	m.counted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_beacons_counted_total",
		Help: "Beacons recorded in the write model, by endpoint."}, []string{"endpoint"})
	m.excluded = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_beacons_excluded_total",
		Help: "Well-formed beacons answered but not counted, by endpoint and reason."}, []string{"endpoint", "reason"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_beacons_rejected_total",
		Help: "Beacons answered with an error status, by endpoint and status code (400, 403, 413, 503)."}, []string{"endpoint", "code"})
	m.record = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_record_duration_seconds",
		Help:    "Time from handing a beacon to the write model until it is durable (queue and commit).",
		Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .5}})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_write_batch_size",
		Help: "Requests committed together in one write-model transaction.", Buckets: prometheus.ExponentialBuckets(1, 2, 11)})
	m.commit = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "tally_write_commit_duration_seconds",
		Help: "Duration of one write-model transaction, fsync included.", Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .5}})
	m.jobSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tally_job_duration_seconds",
		Help: "Duration of flush and snapshot runs.", Buckets: prometheus.ExponentialBuckets(.001, 4, 10)}, []string{"job"})
	m.jobLast = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_job_last_success_timestamp_seconds",
		Help: "Unix time of the last successful run, by job."}, []string{"job"})
	m.jobFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_job_failures_total",
		Help: "Failed runs, by job."}, []string{"job"})
	m.jobItems = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "tally_job_last_items",
		Help: "Items written by the last successful run, by job."}, []string{"job"})
	m.dedup = prometheus.NewGauge(prometheus.GaugeOpts{Name: "tally_dedup_windows",
		Help: "Open 30-minute dedup windows held in memory, as of the last sweep."})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tally_write_refused_total",
		Help: "Writes the write model did not keep because a bound was reached: sites, items_per_site, dedup_full."}, []string{"reason"})
	m.saltErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "tally_salt_rotation_errors_total",
		Help: "Daily salt rotations (--salt-rotation daily) that could not make, share or destroy a day's salt."})
	for _, c := range []prometheus.Collector{m.received, m.counted, m.excluded, m.rejected, m.record, m.batch,
		m.commit, m.jobSeconds, m.jobLast, m.jobFailed, m.jobItems, m.dedup, m.refused, m.saltErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Received counts a beacon arriving at endpoint.
func (m *Metrics) Received(endpoint string) {
	if m != nil {
		m.received.WithLabelValues(endpoint).Inc()
	}
}

// Counted counts a beacon recorded in the write model.
func (m *Metrics) Counted(endpoint string) {
	if m != nil {
		m.counted.WithLabelValues(endpoint).Inc()
	}
}

// Excluded counts a well-formed beacon that was not counted, and why.
func (m *Metrics) Excluded(endpoint, reason string) {
	if m != nil {
		m.excluded.WithLabelValues(endpoint, reason).Inc()
	}
}

// Rejected counts a beacon answered with an error status.
func (m *Metrics) Rejected(endpoint string, status int) {
	if m != nil {
		m.rejected.WithLabelValues(endpoint, strconv.Itoa(status)).Inc()
	}
}

// Recorded observes how long a beacon waited for durability.
func (m *Metrics) Recorded(d time.Duration) {
	if m != nil {
		m.record.Observe(d.Seconds())
	}
}

// Committed observes one write-model transaction.
func (m *Metrics) Committed(requests int, d time.Duration) {
	if m != nil {
		m.batch.Observe(float64(requests))
		m.commit.Observe(d.Seconds())
	}
}

// Swept notes how many dedup windows stay open after a sweep of the write model.
func (m *Metrics) Swept(open int) {
	if m != nil {
		m.dedup.Set(float64(open))
	}
}

// Refused counts a write the write model did not keep because a bound was reached.
func (m *Metrics) Refused(reason string) {
	if m != nil {
		m.refused.WithLabelValues(reason).Inc()
	}
}

// SaltRotationFailed counts a daily salt rotation that did not do everything it had to.
func (m *Metrics) SaltRotationFailed() {
	if m != nil {
		m.saltErrors.Inc()
	}
}

// Job observes one run of a job.
func (m *Metrics) Job(job string, items int, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.jobSeconds.WithLabelValues(job).Observe(d.Seconds())
	if err != nil {
		m.jobFailed.WithLabelValues(job).Inc()
		return
	}
	m.jobLast.WithLabelValues(job).SetToCurrentTime()
	m.jobItems.WithLabelValues(job).Set(float64(items))
}

// Gauge registers a gauge read from f at each scrape, such as the dirty-set size.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	if m != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
	}
}
