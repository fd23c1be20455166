// Package retention enforces each site's consent-log retention
// (consent.retention_months in its configuration, default 24).
//
// Every row carries retain_until, computed when it is recorded from the
// retention of the version the visitor saw, and consent_log is partitioned
// by the month of retain_until. So the job mostly drops whole partitions of
// past months — cheap, and the same on ClickHouse 18.16 (no TTL) and current
// releases. A row goes in the month after its retain_until at the latest.
// The index by consent ID (consent_by_id) goes the same way, so no consent
// ID or time of a decision outlives its row.
//
// A row keeps the term it was recorded with, whatever the site's retention
// becomes later: each record's leaf in the evidence log commits to its
// retain_until, which is what lets an auditor tell a record that expired
// from one that was deleted (package ledger). A shortened retention thus
// applies to decisions recorded from then on; an editor cannot empty the
// log of past decisions by publishing a short one.
//
// The job runs hourly on one instance at a time (a lock in the shared
// cache). Without Redis, or while it is down, each instance may run it: both
// operations are idempotent, so that costs only work.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
)

// Store is the consent log's side of retention.
type Store interface {
	ExpiredPartitions(ctx context.Context, day time.Time) ([]string, error)
	DropPartition(ctx context.Context, partition string) error
}

// Job is the retention job.
type Job struct {
	Store    Store
	Lock     cache.Cache
	Instance string
	Log      *slog.Logger
	Now      func() time.Time
}

// Report says what one run did.
type Report struct {
	Skipped bool     // another instance holds the lock
	Dropped []string // partitions (YYYYMM)
}

const lockKey = "lock:retention"

// RunOnce enforces retention now, unless another instance is doing it.
func (j *Job) RunOnce(ctx context.Context) (Report, error) {
	var r Report
	holder, err := j.Lock.SetNX(ctx, lockKey, []byte(j.Instance), 30*time.Minute)
	if err != nil {
		return r, err
	}
	if holder != nil && string(holder) != j.Instance {
		r.Skipped = true
		return r, nil
	}
	defer func() {
		if err := j.Lock.Delete(context.WithoutCancel(ctx), lockKey); err != nil {
			j.Log.Warn("retention lock not released; it expires by itself", "err", err)
		}
	}()
	now := j.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	parts, err := j.Store.ExpiredPartitions(ctx, today)
	if err != nil {
		return r, err
	}
	for _, p := range parts {
		if err := j.Store.DropPartition(ctx, p); err != nil {
			return r, err
		}
		r.Dropped = append(r.Dropped, p)
	}
	if len(r.Dropped) > 0 {
		j.Log.Info("retention enforced", "dropped_partitions", r.Dropped)
	}
	return r, nil
}

// Run enforces retention at start and then every interval until ctx ends.
func (j *Job) Run(ctx context.Context, every time.Duration) {
	for {
		// One run gets at most half an hour: the lock's lifetime.
		rctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
		_, err := j.RunOnce(rctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			j.Log.Warn("retention run failed; retried at the next one", "err", err)
		}
		t := time.NewTimer(every)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
	}
}
