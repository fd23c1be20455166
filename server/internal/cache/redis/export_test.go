package redis

import "time"

// Queued returns how many calls wait for the batcher's next round trip.
func Queued(c *Cache) int {
	c.batch.mu.Lock()
	defer c.batch.mu.Unlock()
	return len(c.batch.queue)
}

// Prefix returns the key prefix c was opened with.
func Prefix(c *Cache) string { return c.prefix }

// OldSet reports whether c claims keys with a transaction, as on a Redis
// before 7.0.
func OldSet(c *Cache) bool { return c.oldSet.Load() }

// SetPause replaces the batcher's wait under load (time.Sleep); call it
// before the first call.
func SetPause(c *Cache, pause func(time.Duration)) { c.batch.pause = pause }
