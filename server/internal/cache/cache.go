// Package cache defines the shared key-value cache: Redis when several
// instances run, process memory when SAMTYCKE_REDIS_URL=none. It holds only
// what can be rebuilt from ClickHouse.
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrMiss is returned by Get when the key is absent or expired.
var ErrMiss = errors.New("cache miss")

// Cache is a key-value store with expiry.
type Cache interface {
	// Get returns the value, or ErrMiss.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key for ttl (ttl > 0).
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Delete removes keys; absent keys are not an error.
	Delete(ctx context.Context, keys ...string) error
	// Ping reports whether the cache is reachable.
	Ping(ctx context.Context) error
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
