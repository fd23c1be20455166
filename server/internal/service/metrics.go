package service

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samtycke/samtycke/server/internal/shipper"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// pipelineMetrics describe the way of a consent from the spool to
// ClickHouse: fsync latency and group size, spool depth, batch sizes,
// insert latency and errors, and shipping lag.
type pipelineMetrics struct {
	fsync      prometheus.Histogram
	groupSize  prometheus.Histogram
	batchRows  prometheus.Histogram
	insert     prometheus.Histogram
	insertErrs prometheus.Counter
}

func newPipelineMetrics(reg *prometheus.Registry) *pipelineMetrics {
	m := &pipelineMetrics{
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "samtycke_spool_fsync_seconds", Help: "Latency of one spool fsync (group commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 10),
		}),
		groupSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "samtycke_spool_fsync_records", Help: "Records made durable by one fsync.",
			Buckets: prometheus.ExponentialBuckets(1, 3, 9),
		}),
		batchRows: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "samtycke_shipper_batch_rows", Help: "Rows per batch shipped to ClickHouse.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		insert: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "samtycke_shipper_insert_seconds", Help: "Latency of one successful batch insert.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 10),
		}),
		insertErrs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "samtycke_shipper_insert_errors_total", Help: "Batch inserts that failed and will be retried.",
		}),
	}
	reg.MustRegister(m.fsync, m.groupSize, m.batchRows, m.insert, m.insertErrs)
	return m
}

func (m *pipelineMetrics) synced(d time.Duration, records int) {
	m.fsync.Observe(d.Seconds())
	m.groupSize.Observe(float64(records))
}

func (m *pipelineMetrics) shipped(rows int, d time.Duration, err error) {
	if err != nil {
		m.insertErrs.Inc()
		return
	}
	m.batchRows.Observe(float64(rows))
	m.insert.Observe(d.Seconds())
}

// watch registers the gauges read from the spool and shipper at scrape time.
func (m *pipelineMetrics) watch(reg *prometheus.Registry, sp *spool.Spool, sh *shipper.Shipper) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_spool_bytes", Help: "Bytes of records in the spool not yet shipped to ClickHouse (what counts against SAMTYCKE_SPOOL_MAX_MB).",
		}, func() float64 { return float64(sp.Stats().Unreleased) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_spool_disk_bytes", Help: "Bytes of the spool's files on disk, the zeros prepared for the next records included (shipped segments are deleted).",
		}, func() float64 { return float64(sp.Stats().FileBytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_spool_segments", Help: "Spool segment files on disk.",
		}, func() float64 { return float64(sp.Stats().Segments) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_spool_corrupt_records", Help: "Records skipped since start because their checksum failed.",
		}, func() float64 { return float64(sp.Stats().Corrupt) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_shipper_lag_seconds", Help: "Age of the oldest consent not yet in ClickHouse (0 when none waits).",
		}, func() float64 { return sh.Lag(time.Now()).Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "samtycke_shipper_rows_total", Help: "Rows shipped to ClickHouse.",
		}, func() float64 { return float64(sh.Stats().Rows) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "samtycke_shipper_batches_total", Help: "Batches shipped to ClickHouse.",
		}, func() float64 { return float64(sh.Stats().Batches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "samtycke_shipper_quarantined_total", Help: "Batches ClickHouse refused for good, moved to the quarantine (samtycke spool quarantine).",
		}, func() float64 { return float64(sh.Stats().Quarantined) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "samtycke_shipper_replayed_total", Help: "Confirmed batches shipped again at start after an unclean stop (SAMTYCKE_SPOOL_KEEP).",
		}, func() float64 { return float64(sh.Stats().Replayed) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "samtycke_shipper_retried_total", Help: "Quarantined batches sent back (samtycke spool quarantine retry) and stored.",
		}, func() float64 { return float64(sh.Stats().Retried) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samtycke_spool_kept_bytes", Help: "Bytes of shipped spool segments kept for SAMTYCKE_SPOOL_KEEP.",
		}, func() float64 { return float64(sp.Stats().Kept) }),
	)
}
