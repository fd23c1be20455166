package cache

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Fallback uses primary (Redis) and, while it fails, secondary (process
// memory), so visitors notice nothing of a Redis outage: configurations come
// from memory, rate limits and recent event ids are kept per instance. After
// a failure primary is left alone for a second, so an outage costs one slow
// call a second, not one per request.
type Fallback struct {
	primary, secondary Cache
	log                *slog.Logger
	retry              time.Duration

	mu        sync.Mutex
	downUntil time.Time
}

var _ Cache = (*Fallback)(nil)

// NewFallback returns a cache that prefers primary.
func NewFallback(primary, secondary Cache, log *slog.Logger) *Fallback {
	return &Fallback{primary: primary, secondary: secondary, log: log.With("component", "cache"), retry: time.Second}
}

// pick returns primary unless it failed within the last retry interval.
func (f *Fallback) pick() Cache {
	f.mu.Lock()
	defer f.mu.Unlock()
	if time.Now().Before(f.downUntil) {
		return f.secondary
	}
	return f.primary
}

// failed notes a primary failure and reports whether err was one; ErrMiss
// is an answer, not a failure.
func (f *Fallback) failed(c Cache, err error) bool {
	if err == nil || c != f.primary || errors.Is(err, ErrMiss) {
		return false
	}
	f.mu.Lock()
	first := !time.Now().Before(f.downUntil.Add(f.retry))
	f.downUntil = time.Now().Add(f.retry)
	f.mu.Unlock()
	if first {
		f.log.Warn("shared cache unreachable; serving from process memory", "err", err)
	}
	return true
}

// Get implements Cache.
func (f *Fallback) Get(ctx context.Context, key string) ([]byte, error) {
	c := f.pick()
	v, err := c.Get(ctx, key)
	if f.failed(c, err) {
		return f.secondary.Get(ctx, key)
	}
	return v, err
}

// Set implements Cache.
func (f *Fallback) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c := f.pick()
	err := c.Set(ctx, key, value, ttl)
	if f.failed(c, err) {
		return f.secondary.Set(ctx, key, value, ttl)
	}
	return err
}

// SetMany implements Cache.
func (f *Fallback) SetMany(ctx context.Context, entries map[string][]byte, ttl time.Duration) error {
	c := f.pick()
	err := c.SetMany(ctx, entries, ttl)
	if f.failed(c, err) {
		return f.secondary.SetMany(ctx, entries, ttl)
	}
	return err
}

// SetNX implements Cache.
func (f *Fallback) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	c := f.pick()
	v, err := c.SetNX(ctx, key, value, ttl)
	if f.failed(c, err) {
		return f.secondary.SetNX(ctx, key, value, ttl)
	}
	return v, err
}

// Delete implements Cache. Both sides forget the keys: an entry written to
// memory during an outage must not outlive an invalidation.
func (f *Fallback) Delete(ctx context.Context, keys ...string) error {
	_ = f.secondary.Delete(ctx, keys...) // process memory does not fail
	c := f.pick()
	err := c.Delete(ctx, keys...)
	if f.failed(c, err) {
		return nil
	}
	return err
}

// Allow implements Cache.
func (f *Fallback) Allow(ctx context.Context, limits ...Limit) (time.Duration, error) {
	c := f.pick()
	d, err := c.Allow(ctx, limits...)
	if f.failed(c, err) {
		return f.secondary.Allow(ctx, limits...)
	}
	return d, err
}

// Ping reports on primary: readiness shows a Redis outage even though
// requests are served.
func (f *Fallback) Ping(ctx context.Context) error { return f.primary.Ping(ctx) }
