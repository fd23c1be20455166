// Package cache defines the shared key-value cache: Redis when several
// instances run, process memory when SAMTYCKE_REDIS_URL=none, and Fallback,
// which serves from memory while Redis is unreachable. It holds only what can
// be rebuilt from ClickHouse (or may be lost in an outage: rate-limit state,
// recent event ids).
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache miss")

// Cache is a key-value store with expiry and rate limiting.
type Cache interface {
	// Get returns the value, or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (ttl > 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// SetMany stores every entry for ttl, in one round trip.
	SetMany(ctx context.Context, entries map[string][]byte, ttl time.Duration) error
	// SetNX stores value under key for ttl unless the key holds a value
	// already. It returns that earlier value, or nil when value was stored.
	SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) (existing []byte, err error)
	// Delete removes keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Allow takes one event from every limit when all of them have room, and
	// none otherwise; then it returns how long until they would have room.
	// Zero means allowed.
	Allow(ctx context.Context, limits ...Limit) (retryAfter time.Duration, err error)
	// Ping reports whether the cache is reachable.
	Ping(ctx context.Context) error
}

// Limit is a rate limit by the generic cell rate algorithm: N events per
// Per, in bursts of at most N. Its state under Key is one timestamp (the
// theoretical arrival time), so a limit costs one small key.
type Limit struct {
	Key string
	N   int
	Per time.Duration
}

// MakeRoom deletes arbitrary entries of m until it holds fewer than max, so
// that one more fits. In-process caches of rebuildable values use it to stay
// bounded whatever keys requests name.
func MakeRoom[K comparable, V any](m map[K]V, max int) {
	for k := range m {
		if len(m) < max {
			return
		}
		delete(m, k)
	}
}

// GCRA is the generic cell rate algorithm on one theoretical arrival time
// (TAT): it returns the new TAT and 0 when an event at now fits, or the old
// TAT and the wait otherwise. The memory cache uses it; the Redis cache runs
// the same arithmetic in Lua.
func GCRA(tat, now time.Time, l Limit) (time.Time, time.Duration) {
	interval := l.Per / time.Duration(l.N)
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if allowAt := next.Add(-l.Per); allowAt.After(now) {
		return tat, allowAt.Sub(now)
	}
	return next, 0
}
