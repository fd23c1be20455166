// Package memory is a cache.Cache in process memory: the whole cache of a
// single instance running without Redis, and the fallback of one that has
// lost Redis for a while.
package memory

import (
	"context"
	"sync"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
)

var _ cache.Cache = (*Cache)(nil)

// Cache is a map with expiry. Expired entries are dropped when read and
// swept when the map grows past max.
type Cache struct {
	mu  sync.Mutex
	m   map[string]entry
	max int
	now func() time.Time
}

type entry struct {
	v   []byte
	tat time.Time // rate-limit state, when the key is a limit's
	exp time.Time
}

// New returns a cache that holds at most max entries.
func New(max int) *Cache { return &Cache{m: map[string]entry{}, max: max, now: time.Now} }

// get returns the live entry under key; the caller holds mu.
func (c *Cache) get(key string, now time.Time) (entry, bool) {
	e, ok := c.m[key]
	if ok && !now.Before(e.exp) {
		delete(c.m, key)
		return entry{}, false
	}
	return e, ok
}

// put stores e, making room first; the caller holds mu.
func (c *Cache) put(key string, e entry, now time.Time) {
	if _, ok := c.m[key]; !ok && len(c.m) >= c.max {
		for k, old := range c.m {
			if !now.Before(old.exp) {
				delete(c.m, k)
			}
		}
		// Still full: drop arbitrary entries; everything here can be rebuilt.
		cache.MakeRoom(c.m, c.max)
	}
	c.m[key] = e
}

// Get implements cache.Cache.
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.get(key, c.now())
	if !ok || e.v == nil {
		return nil, cache.ErrMiss
	}
	return append([]byte(nil), e.v...), nil
}

// Set implements cache.Cache.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.put(key, entry{v: append([]byte{}, value...), exp: now.Add(ttl)}, now)
	return nil
}

// SetMany implements cache.Cache.
func (c *Cache) SetMany(_ context.Context, entries map[string][]byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, v := range entries {
		c.put(k, entry{v: append([]byte{}, v...), exp: now.Add(ttl)}, now)
	}
	return nil
}

// SetNX implements cache.Cache.
func (c *Cache) SetNX(_ context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if e, ok := c.get(key, now); ok && e.v != nil {
		return append([]byte(nil), e.v...), nil
	}
	c.put(key, entry{v: append([]byte{}, value...), exp: now.Add(ttl)}, now)
	return nil, nil
}

// Delete implements cache.Cache.
func (c *Cache) Delete(_ context.Context, keys ...string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		delete(c.m, k)
	}
	return nil
}

// Allow implements cache.Cache.
func (c *Cache) Allow(_ context.Context, limits ...cache.Limit) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	next := make([]time.Time, len(limits))
	var wait time.Duration
	for i, l := range limits {
		e, _ := c.get(l.Key, now)
		var w time.Duration
		next[i], w = cache.GCRA(e.tat, now, l)
		wait = max(wait, w)
	}
	if wait > 0 {
		return wait, nil
	}
	for i, l := range limits {
		c.put(l.Key, entry{tat: next[i], exp: next[i]}, now)
	}
	return 0, nil
}

// Ping implements cache.Cache; memory is always there.
func (c *Cache) Ping(context.Context) error { return nil }
