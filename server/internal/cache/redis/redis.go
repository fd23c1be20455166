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
	batch  *batcher // SetNX, SetMany and Allow: the calls of every consent
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
	// RESP2: nothing here uses RESP3, and with it go-redis checks every
	// connection for push notifications before each command.
	opt.Protocol = 2
	return newCache(goredis.NewClient(opt), prefix), nil
}

func newCache(c *goredis.Client, prefix string) *Cache {
	return &Cache{c: c, prefix: prefix, batch: newBatcher(c)}
}

// Client exposes the Redis client, for tests and later pub/sub.
func (c *Cache) Client() *goredis.Client { return c.c }

// Close answers the queued calls and closes the connection pool.
func (c *Cache) Close() error {
	c.batch.close()
	return c.c.Close()
}

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

// SetMany implements cache.Cache in one round trip, shared with other calls.
func (c *Cache) SetMany(ctx context.Context, entries map[string][]byte, ttl time.Duration) error {
	if len(entries) == 0 {
		return nil
	}
	cmds := make([]goredis.Cmder, 0, len(entries))
	for k, v := range entries {
		cmds = append(cmds, goredis.NewStatusCmd(ctx, "set", c.prefix+k, v, "px", ttl.Milliseconds()))
	}
	if err := c.batch.do(ctx, cmds...); err != nil {
		return fmt.Errorf("redis set many: %w", err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return fmt.Errorf("redis set many: %w", err)
		}
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

// setNX returns the value under KEYS[1], or stores ARGV[1] there for ARGV[2]
// ms and returns false. A script rather than SET NX GET, which Redis before
// 7.0 refuses.
var setNX = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`)

// SetNX implements cache.Cache, in a round trip shared with other calls.
func (c *Cache) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	v, err := c.batch.eval(ctx, setNX, []string{c.prefix + key}, value, ttl.Milliseconds()).Text()
	switch {
	case errors.Is(err, goredis.Nil):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("redis setnx: %w", err)
	}
	return []byte(v), nil
}

// allow is cache.GCRA over every key at once, on Redis's clock in
// microseconds: ARGV holds each limit's period and emission interval. It
// returns 0 after taking one event from every limit, or the wait in µs.
var allow = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nexts, wait = {}, 0
for i = 1, #KEYS do
  local tat = tonumber(redis.call('GET', KEYS[i]) or 0)
  if tat < now then tat = now end
  nexts[i] = tat + tonumber(ARGV[2 * i])
  local w = nexts[i] - tonumber(ARGV[2 * i - 1]) - now
  if w > wait then wait = w end
end
if wait > 0 then return wait end
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], string.format('%d', nexts[i]), 'PX', math.floor((nexts[i] - now) / 1000) + 1)
end
return 0`)

// Allow implements cache.Cache in one round trip, whatever the number of
// limits, shared with other calls.
func (c *Cache) Allow(ctx context.Context, limits ...cache.Limit) (time.Duration, error) {
	keys := make([]string, len(limits))
	args := make([]any, 0, 2*len(limits))
	for i, l := range limits {
		keys[i] = c.prefix + l.Key
		args = append(args, l.Per.Microseconds(), (l.Per / time.Duration(l.N)).Microseconds())
	}
	us, err := c.batch.eval(ctx, allow, keys, args...).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis allow: %w", err)
	}
	return time.Duration(us) * time.Microsecond, nil
}

// Ping implements cache.Cache.
func (c *Cache) Ping(ctx context.Context) error { return c.c.Ping(ctx).Err() }
