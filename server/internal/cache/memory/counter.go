package memory

import (
	"context"
	"strconv"
	"time"
)

// Incr counts one event under key in a window of the given length that
// starts with the first event. Get returns the count as a decimal string.
func (c *Cache) Incr(_ context.Context, key string, window time.Duration) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e, ok := c.get(key, now)
	var n int64
	if ok {
		n, _ = strconv.ParseInt(string(e.v), 10, 64)
	} else {
		e.exp = now.Add(window)
	}
	c.put(key, entry{v: []byte(strconv.FormatInt(n+1, 10)), exp: e.exp}, now)
	return n + 1, nil
}
