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
// When a site shortens its retention, rows it recorded under the longer one
// are deleted too (an ALTER … DELETE mutation, run only when such rows
// exist). When it lengthens it, rows already recorded keep the term they
// were recorded with; only new rows get the longer one.
//
// The job runs hourly on one instance at a time (a lock in the shared
// cache). Without Redis, or while it is down, each instance may run it: both
// operations are idempotent, so that costs only work.
package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Store is the consent log's side of retention.
type Store interface {
	ExpiredPartitions(ctx context.Context, day time.Time) ([]string, error)
	DropPartition(ctx context.Context, partition string) error
	LoggedSites(ctx context.Context) ([]string, error)
	DeleteRecordedBefore(ctx context.Context, site string, cutoff, today time.Time) (uint64, error)
}

// Versions gives each site's current configuration.
type Versions interface {
	Current(ctx context.Context, site string) (*siteconfig.Version, error)
}

// Job is the retention job.
type Job struct {
	Store    Store
	Versions Versions
	Lock     cache.Cache
	Instance string
	Log      *slog.Logger
	Now      func() time.Time
}

// Report says what one run did.
type Report struct {
	Skipped    bool     // another instance holds the lock
	Dropped    []string // partitions (YYYYMM)
	Deleted    uint64   // rows deleted for shortened retentions
	SiteErrors int
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
	sites, err := j.Store.LoggedSites(ctx)
	if err != nil {
		return r, err
	}
	for _, site := range sites {
		v, err := j.Versions.Current(ctx, site)
		if errors.Is(err, siteconfig.ErrNotFound) {
			continue // a removed site keeps the terms its rows were recorded with
		}
		if err != nil {
			r.SiteErrors++
			j.Log.Warn("retention: no configuration for a site", "site", site, "err", err)
			continue
		}
		// A record made before cutoff is past the site's current retention.
		cutoff := today.AddDate(0, -v.Config.Consent.RetentionMonths, 0)
		n, err := j.Store.DeleteRecordedBefore(ctx, site, cutoff, today)
		if err != nil {
			r.SiteErrors++
			j.Log.Warn("retention: deleting rows past a shortened retention failed", "site", site, "err", err)
			continue
		}
		r.Deleted += n
	}
	if len(r.Dropped) > 0 || r.Deleted > 0 {
		j.Log.Info("retention enforced", "dropped_partitions", r.Dropped, "deleted_rows", r.Deleted)
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
