// Package redis is a cache.Cache on a Redis server, shared by every instance.
package redis

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	local  allowance
	// oldSet: the server refused SET NX GET (Redis before 7.0), so SetNX
	// runs a transaction instead.
	oldSet atomic.Bool
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
	return &Cache{c: c, prefix: prefix, batch: newBatcher(c), local: allowance{m: map[string]held{}}}
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

// SetNX implements cache.Cache, in a round trip shared with other calls:
// one SET NX GET, which answers the value the SET found. Redis before 7.0
// refuses that; there it is MULTI, SET NX, GET, EXEC (some 10 µs of Redis's
// CPU per claim against 4). Not a Lua script: Redis spent some 12 µs per
// call running one.
func (c *Cache) SetNX(ctx context.Context, key string, value []byte, ttl time.Duration) ([]byte, error) {
	k := c.prefix + key
	if !c.oldSet.Load() {
		set := goredis.NewStringCmd(ctx, "set", k, value, "nx", "get", "px", ttl.Milliseconds())
		if err := c.batch.do(ctx, set); err != nil {
			return nil, fmt.Errorf("redis setnx: %w", err)
		}
		old, err := set.Bytes()
		switch {
		case errors.Is(err, goredis.Nil): // stored
			return nil, nil
		case err == nil:
			return old, nil
		case !goredis.HasErrorPrefix(err, "syntax error"): // go-redis drops the "ERR "
			return nil, fmt.Errorf("redis setnx: %w", err)
		}
		c.oldSet.Store(true)
	}
	exec := goredis.NewSliceCmd(ctx, "exec")
	cmds := []goredis.Cmder{
		goredis.NewStatusCmd(ctx, "multi"),
		goredis.NewStatusCmd(ctx, "set", k, value, "nx", "px", ttl.Milliseconds()),
		goredis.NewStatusCmd(ctx, "get", k),
		exec,
	}
	if err := c.batch.do(ctx, cmds...); err != nil {
		return nil, fmt.Errorf("redis setnx: %w", err)
	}
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return nil, fmt.Errorf("redis setnx: %w", err)
		}
	}
	r := exec.Val()
	if len(r) != 2 {
		return nil, fmt.Errorf("redis setnx: EXEC answered %d replies, want 2", len(r))
	}
	if r[0] != nil { // SET stored value
		return nil, nil
	}
	old, ok := r[1].(string)
	if !ok { // SET NX found a value and GET, in the same transaction, none
		return nil, fmt.Errorf("redis setnx: GET answered %T", r[1])
	}
	return []byte(old), nil
}

// allow is cache.GCRA over every key at once, on Redis's clock in
// microseconds, taking up to a number of events per key: ARGV holds each
// limit's period, emission interval and wanted events. When every key has
// room for one event it takes as many as fit, up to what was wanted, and
// returns {0, taken per key}; otherwise it takes nothing and returns {wait}
// in µs.
var allow = goredis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tats, grants, wait = {}, {}, 0
for i = 1, #KEYS do
  local per, iv, want = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or 0)
  if tat < now then tat = now end
  local g = math.floor((now + per - tat) / iv)
  if g > want then g = want end
  if g < 1 then
    local w = tat + iv - per - now
    if w > wait then wait = w end
  end
  tats[i], grants[i] = tat, g
end
if wait > 0 then return {wait} end
local r = {0}
for i = 1, #KEYS do
  local nxt = tats[i] + grants[i] * tonumber(ARGV[3 * i - 1])
  redis.call('SET', KEYS[i], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1)
  r[i + 1] = grants[i]
end
return r`)

// allowance is the events this instance took from Redis and has not used
// yet, per limit key: a busy key costs a round trip per batch of events
// rather than per event. Events taken are gone from Redis for every
// instance, so the limit stays shared; unused ones lapse after a second (or
// the limit's period, if shorter), so an instance cannot save them up: in
// any period the instances together exceed the limit by at most the
// batches they hold.
type allowance struct {
	mu sync.Mutex
	m  map[string]held
}

type held struct {
	n     int
	until time.Time
}

// maxAllowanceKeys bounds the keys held: every visitor's network has one.
const maxAllowanceKeys = 10000

// batchOf is how many events of l one round trip takes: a fiftieth of the
// burst, at most 64, so that what one instance holds unused changes the
// shared limit by little.
func batchOf(l cache.Limit) int { return min(64, max(1, l.N/50)) }

// interval is l's emission interval in µs, at least 1 (Redis's clock).
func interval(l cache.Limit) int64 { return max(1, (l.Per / time.Duration(l.N)).Microseconds()) }

// take uses one held event of each limit that has one and returns which.
func (a *allowance) take(limits []cache.Limit, now time.Time) (took []bool, rest int) {
	took = make([]bool, len(limits))
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, l := range limits {
		if h, ok := a.m[l.Key]; ok && h.n > 0 && now.Before(h.until) {
			h.n--
			a.m[l.Key] = h
			took[i] = true
			continue
		}
		rest++
	}
	return took, rest
}

// giveBack returns the events take took, for a call that was refused.
func (a *allowance) giveBack(limits []cache.Limit, took []bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, l := range limits {
		if h, ok := a.m[l.Key]; ok && took[i] {
			h.n++
			a.m[l.Key] = h
		}
	}
}

// keep holds n more events of l, taken from Redis at now.
func (a *allowance) keep(l cache.Limit, n int, now time.Time) {
	until := now.Add(min(time.Second, l.Per))
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.m[l.Key]
	if !ok || !now.Before(h.until) {
		if !ok {
			cache.MakeRoom(a.m, maxAllowanceKeys)
		}
		h = held{}
	}
	h.n += n
	if until.After(h.until) {
		h.until = until
	}
	a.m[l.Key] = h
}

// Allow implements cache.Cache: from the events held, and for the limits
// without any in one round trip shared with other calls, taking a batch.
func (c *Cache) Allow(ctx context.Context, limits ...cache.Limit) (time.Duration, error) {
	now := time.Now()
	took, rest := c.local.take(limits, now)
	if rest == 0 {
		return 0, nil
	}
	keys := make([]string, 0, rest)
	args := make([]any, 0, 3*rest)
	for i, l := range limits {
		if !took[i] {
			keys = append(keys, c.prefix+l.Key)
			args = append(args, l.Per.Microseconds(), interval(l), batchOf(l))
		}
	}
	r, err := c.batch.eval(ctx, allow, keys, args...).Int64Slice()
	if err == nil && (len(r) == 0 || (r[0] == 0 && len(r) != len(keys)+1)) {
		err = fmt.Errorf("%d replies for %d limits", len(r), len(keys))
	}
	if err != nil || r[0] > 0 {
		c.local.giveBack(limits, took)
		if err != nil {
			return 0, fmt.Errorf("redis allow: %w", err)
		}
		return time.Duration(r[0]) * time.Microsecond, nil
	}
	j := 1
	for i, l := range limits {
		if !took[i] {
			if n := int(r[j]) - 1; n > 0 { // one is this call's
				c.local.keep(l, n, now)
			}
			j++
		}
	}
	return 0, nil
}

// Ping implements cache.Cache.
func (c *Cache) Ping(ctx context.Context) error { return c.c.Ping(ctx).Err() }
