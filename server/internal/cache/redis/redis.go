// Package redis is a cache.Cache on a Redis server, shared by every instance.
package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samtycke/samtycke/server/internal/cache"
)

var _ cache.Cache = (*Cache)(nil)

func init() {
	// go-redis logs dial failures with the standard logger on every retry;
	// callers already log a failure once, with context.
	goredis.SetLogger(quiet{})
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// Cache stores keys under a prefix, so one Redis database can serve several
// deployments (and tests).
type Cache struct {
	c      *goredis.Client
	prefix string
}

// Open connects to rawURL (redis://host:port/db). Timeouts are short: when
// Redis is slow, callers fall back to process memory rather than wait.
func Open(rawURL, prefix string) (*Cache, error) {
	opt, err := goredis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	opt.DialTimeout = time.Second
	opt.ReadTimeout = 500 * time.Millisecond
	opt.WriteTimeout = 500 * time.Millisecond
	opt.MaxRetries = 1
	return &Cache{c: goredis.NewClient(opt), prefix: prefix}, nil
}

// Client exposes the Redis client, for tests and later pub/sub.
func (c *Cache) Client() *goredis.Client { return c.c }

// Close closes the connection pool.
func (c *Cache) Close() error { return c.c.Close() }

// Get implements cache.Cache.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.c.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, cache.ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("redis get: %w", err)
	}
	return v, nil
}

// Set implements cache.Cache.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := c.c.Set(ctx, c.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

// Delete implements cache.Cache.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.c.Del(ctx, full...).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}

// Ping implements cache.Cache.
func (c *Cache) Ping(ctx context.Context) error { return c.c.Ping(ctx).Err() }
