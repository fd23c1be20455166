// Package memory is a cache.Cache in process memory, for a single instance
// running without Redis.
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
	exp time.Time
}

// New returns a cache that holds at most max entries.
func New(max int) *Cache { return &Cache{m: map[string]entry{}, max: max, now: time.Now} }

// Get implements cache.Cache.
func (c *Cache) Get(_ context.Context, key string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, cache.ErrMiss
	}
	if !c.now().Before(e.exp) {
		delete(c.m, key)
		return nil, cache.ErrMiss
	}
	return append([]byte(nil), e.v...), nil
}

// Set implements cache.Cache.
func (c *Cache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.exp) {
				delete(c.m, k)
			}
		}
		// Still full: drop arbitrary entries; everything here can be rebuilt.
		cache.MakeRoom(c.m, c.max)
	}
	c.m[key] = entry{append([]byte(nil), value...), now.Add(ttl)}
	return nil
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

// Ping implements cache.Cache; memory is always there.
func (c *Cache) Ping(context.Context) error { return nil }
