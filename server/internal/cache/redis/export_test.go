package redis

// Queued returns how many calls wait for the batcher's next round trip.
func Queued(c *Cache) int {
	c.batch.mu.Lock()
	defer c.batch.mu.Unlock()
	return len(c.batch.queue)
}
