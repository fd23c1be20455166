package redis_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// scripts counts the scripts run, alone or in pipelines.
type scripts struct{ n atomic.Int32 }

func (s *scripts) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (s *scripts) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		s.count(cmd)
		return next(ctx, cmd)
	}
}

func (s *scripts) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, cmd := range cmds {
			s.count(cmd)
		}
		return next(ctx, cmds)
	}
}

func (s *scripts) count(cmd goredis.Cmder) {
	if n := cmd.Name(); n == "evalsha" || n == "eval" {
		s.n.Add(1)
	}
}

// Two instances on one Redis share a limit: together they are allowed its
// N events, not N each, although each takes events in batches and uses
// them without asking Redis.
func TestLimitSharedAcrossInstances(t *testing.T) {
	a := testutil.Redis(t)
	b, err := redis.Open(testutil.RedisURL(), redis.Prefix(a))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var runs scripts
	a.Client().AddHook(&runs)
	b.Client().AddHook(&runs)
	ctx := context.Background()
	const n = 500
	l := cache.Limit{Key: "rl:shared", N: n, Per: time.Hour}
	allowed := map[string]int{}
	var refills int32
	for i := range 2 * n {
		if i == n {
			refills = runs.n.Load()
		}
		c, name := a, "a"
		if i%2 == 1 {
			c, name = b, "b"
		}
		d, err := c.Allow(ctx, l)
		if err != nil {
			t.Fatal(err)
		}
		if d == 0 {
			allowed[name]++
		}
	}
	total := allowed["a"] + allowed["b"]
	// Held events lapse after a second, so a slow run may use fewer.
	if total > n || total < n-40 || allowed["a"] == 0 || allowed["b"] == 0 {
		t.Fatalf("allowed %v of a limit of %d shared by two instances, want %d together", allowed, n, n)
	}
	// The first 500 calls took the events in batches of 10.
	if refills > n/10+10 {
		t.Errorf("%d scripts run for the first %d calls, want about %d", refills, n, n/10)
	}
}

// Claims racing on two instances: exactly one stores its value, and every
// other learns that one.
func TestSetNXAcrossInstances(t *testing.T) {
	a := testutil.Redis(t)
	b, err := redis.Open(testutil.RedisURL(), redis.Prefix(a))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const n = 40
	type answer struct {
		mine string
		old  []byte
		err  error
	}
	answers := make(chan answer, n)
	for i := range n {
		c := a
		if i%2 == 1 {
			c = b
		}
		go func() {
			mine := fmt.Sprint("by", i)
			old, err := c.SetNX(context.Background(), "event:race", []byte(mine), time.Minute)
			answers <- answer{mine, old, err}
		}()
	}
	var winners []string
	var learnt []string
	for range n {
		a := <-answers
		switch {
		case a.err != nil:
			t.Fatal(a.err)
		case a.old == nil:
			winners = append(winners, a.mine)
		default:
			learnt = append(learnt, string(a.old))
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d callers stored their claim, want 1: %v", len(winners), winners)
	}
	for _, v := range learnt {
		if v != winners[0] {
			t.Fatalf("a caller learnt %q, the stored claim is %q", v, winners[0])
		}
	}
}

// redis62 answers SET … NX GET as a Redis before 7.0 does.
type redis62 struct{ refused atomic.Int32 }

type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func (h *redis62) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (h *redis62) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h *redis62) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		var rest []goredis.Cmder
		for _, cmd := range cmds {
			if cmd.Name() == "set" && slices.Contains(cmd.Args(), any("get")) {
				cmd.SetErr(redisError("ERR syntax error"))
				h.refused.Add(1)
				continue
			}
			rest = append(rest, cmd)
		}
		if len(rest) == 0 {
			return nil
		}
		return next(ctx, rest)
	}
}

// SetNX claims with one SET NX GET; on a Redis that refuses it, with a
// transaction, and the answers are the same.
func TestSetNXWithAndWithoutSetGet(t *testing.T) {
	for _, old := range []bool{false, true} {
		c := testutil.Redis(t)
		h := &redis62{}
		if old {
			c.Client().AddHook(h)
		}
		ctx := context.Background()
		for i, want := range []string{"", "first", "first"} {
			got, err := c.SetNX(ctx, "claim", []byte(fmt.Sprint([]string{"first", "second", "third"}[i])), time.Minute)
			if err != nil {
				t.Fatalf("Redis before 7.0 %v: SetNX %d: %v", old, i, err)
			}
			if string(got) != want {
				t.Errorf("Redis before 7.0 %v: SetNX %d found %q, want %q", old, i, got, want)
			}
		}
		if redis.OldSet(c) != old || (old && h.refused.Load() != 1) {
			t.Errorf("Redis before 7.0 %v: transactions %v after %d refusals; want one refusal, then transactions", old, redis.OldSet(c), h.refused.Load())
		}
		ttl, err := c.Client().PTTL(ctx, redis.Prefix(c)+"claim").Result()
		if err != nil || ttl <= 0 || ttl > time.Minute {
			t.Errorf("Redis before 7.0 %v: the claim's TTL is %v (%v), want at most a minute", old, ttl, err)
		}
	}
}
