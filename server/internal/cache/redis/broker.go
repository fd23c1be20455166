package redis

import (
	"context"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// TryLock sets key to token unless it exists (SET NX PX).
func (c *Cache) TryLock(ctx context.Context, key, token string, ttl time.Duration) (bool, error) {
	ok, err := c.c.SetNX(ctx, c.prefix+key, token, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis lock: %w", err)
	}
	return ok, nil
}

// unlockScript deletes the lock only if it is still ours: after an expiry
// another holder may have it.
var unlockScript = goredis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// Unlock releases key if token holds it.
func (c *Cache) Unlock(ctx context.Context, key, token string) error {
	if err := unlockScript.Run(ctx, c.c, []string{c.prefix + key}, token).Err(); err != nil {
		return fmt.Errorf("redis unlock: %w", err)
	}
	return nil
}

// Broadcast publishes msg on the prefixed channel.
func (c *Cache) Broadcast(ctx context.Context, channel, msg string) error {
	if err := c.c.Publish(ctx, c.prefix+channel, msg).Err(); err != nil {
		return fmt.Errorf("redis publish: %w", err)
	}
	return nil
}

// Subscribe calls fn for every message on the prefixed channel until ctx
// ends or the subscription fails.
func (c *Cache) Subscribe(ctx context.Context, channel string, fn func(msg string)) error {
	ps := c.c.Subscribe(ctx, c.prefix+channel)
	defer ps.Close()
	// Wait for the confirmation, so a failure to subscribe is an error here.
	if _, err := ps.Receive(ctx); err != nil {
		return fmt.Errorf("redis subscribe: %w", err)
	}
	ch := ps.Channel(goredis.WithChannelHealthCheckInterval(10 * time.Second))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-ch:
			if !ok {
				return fmt.Errorf("redis subscribe: channel closed")
			}
			fn(m.Payload)
		}
	}
}

// Prefix is the prefix of every key and channel of this cache.
func (c *Cache) Prefix() string { return c.prefix }

// WithPrefix returns a cache on a new connection pool to the same server,
// with another prefix (tests use it to run two instances of one deployment).
func (c *Cache) WithPrefix(prefix string) *Cache {
	return newCache(goredis.NewClient(c.c.Options()), prefix)
}
