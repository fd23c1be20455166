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
// cache, released only by the run that holds it). Without Redis, or while it is down, each instance may run it: both
// operations are idempotent, so that costs only work.
package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"
)

// Store is the consent log's side of retention.
type Store interface {
	ExpiredPartitions(ctx context.Context, day time.Time) ([]string, error)
	DropPartition(ctx context.Context, partition string) error
}

// Locker is a lock with expiry shared by the instances (Redis SET NX PX,
// released by a compare-and-delete script).
type Locker interface {
	// TryLock takes key for ttl unless it is held; token identifies the holder.
	TryLock(ctx context.Context, key, token string, ttl time.Duration) (bool, error)
	// Unlock releases key only if token still holds it.
	Unlock(ctx context.Context, key, token string) error
}

// Job is the retention job.
type Job struct {
	Store    Store
	Lock     Locker
	Instance string
	Log      *slog.Logger
	Now      func() time.Time
}

// Report says what one run did.
type Report struct {
	Skipped bool     // another instance holds the lock
	Dropped []string // partitions (YYYYMM)
}

const (
	lockKey = "lock:retention"
	lockTTL = 30 * time.Minute
)

// LocalLock is a Locker in process memory, for a single instance (no Redis).
type LocalLock struct {
	mu    sync.Mutex
	held  map[string]localHold
	Clock func() time.Time // time.Now when nil
}

type localHold struct {
	token string
	until time.Time
}

// TryLock implements Locker.
func (l *LocalLock) TryLock(_ context.Context, key, token string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if l.Clock != nil {
		now = l.Clock()
	}
	if h, ok := l.held[key]; ok && now.Before(h.until) {
		return false, nil
	}
	if l.held == nil {
		l.held = map[string]localHold{}
	}
	l.held[key] = localHold{token, now.Add(ttl)}
	return true, nil
}

// Unlock implements Locker.
func (l *LocalLock) Unlock(_ context.Context, key, token string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if h, ok := l.held[key]; ok && h.token == token {
		delete(l.held, key)
	}
	return nil
}

// RunOnce enforces retention now, unless another instance is doing it.
func (j *Job) RunOnce(ctx context.Context) (Report, error) {
	var r Report
	// A token of this run: a run that outlives the lock must not release
	// the lock of the run that took it over, on this instance or another.
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	token := j.Instance + "/" + hex.EncodeToString(b)
	ok, err := j.Lock.TryLock(ctx, lockKey, token, lockTTL)
	if err != nil {
		// The shared cache is down: run anyway, as without one (both
		// steps are idempotent).
		j.Log.Warn("retention lock unavailable; running without it", "err", err)
	} else if !ok {
		r.Skipped = true
		return r, nil
	} else {
		defer func() {
			if err := j.Lock.Unlock(context.WithoutCancel(ctx), lockKey, token); err != nil {
				j.Log.Warn("retention lock not released; it expires by itself", "err", err)
			}
		}()
	}
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
