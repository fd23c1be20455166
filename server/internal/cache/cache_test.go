package cache_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// One contract, every implementation.
func TestContract(t *testing.T) {
	impls := map[string]func(t *testing.T) cache.Cache{
		"memory": func(*testing.T) cache.Cache { return memory.New(100) },
		"redis":  func(t *testing.T) cache.Cache { return testutil.Redis(t) },
		"fallback to memory": func(t *testing.T) cache.Cache {
			dead, err := redis.Open("redis://127.0.0.1:1/0", "x:") // nothing listens on port 1
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { dead.Close() })
			return &pingless{cache.NewFallback(dead, memory.New(100), slog.New(slog.DiscardHandler))}
		},
		"fallback, redis up": func(t *testing.T) cache.Cache {
			return cache.NewFallback(testutil.Redis(t), memory.New(100), slog.New(slog.DiscardHandler))
		},
	}
	for name, mk := range impls {
		t.Run(name, func(t *testing.T) {
			c := mk(t)
			ctx := context.Background()
			if _, err := c.Get(ctx, "absent"); !errors.Is(err, cache.ErrMiss) {
				t.Fatalf("absent key: %v", err)
			}
			if err := c.Set(ctx, "k", []byte("v1"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if v, err := c.Get(ctx, "k"); err != nil || string(v) != "v1" {
				t.Fatalf("get: %q %v", v, err)
			}
			if err := c.Set(ctx, "short", []byte("x"), 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			waitMiss(t, c, "short")
			if err := c.Delete(ctx, "k", "never-set"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
				t.Fatalf("deleted key: %v", err)
			}
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}

			if err := c.SetMany(ctx, map[string][]byte{"m1": []byte("a"), "m2": []byte("b")}, time.Minute); err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{"m1": "a", "m2": "b"} {
				if v, err := c.Get(ctx, k); err != nil || string(v) != want {
					t.Fatalf("set many, get %s: %q %v", k, v, err)
				}
			}

			// SetNX: the first writer wins and later ones learn its value.
			if old, err := c.SetNX(ctx, "nx", []byte("first"), time.Minute); err != nil || old != nil {
				t.Fatalf("setnx on an absent key: %q %v", old, err)
			}
			if old, err := c.SetNX(ctx, "nx", []byte("second"), time.Minute); err != nil || string(old) != "first" {
				t.Fatalf("setnx on a present key: %q %v, want first", old, err)
			}
			if old, err := c.SetNX(ctx, "nxshort", []byte("a"), 50*time.Millisecond); err != nil || old != nil {
				t.Fatalf("setnx: %q %v", old, err)
			}
			waitMiss(t, c, "nxshort")
			if old, err := c.SetNX(ctx, "nxshort", []byte("b"), time.Minute); err != nil || old != nil {
				t.Fatalf("setnx after expiry: %q %v", old, err)
			}

			// Allow: a burst of N, then a wait of about Per/N; a refused call
			// consumes nothing, in any of the limits. Periods are long so that
			// the test's own run time frees no event.
			tight := cache.Limit{Key: "rl:tight", N: 3, Per: time.Minute}
			loose := cache.Limit{Key: "rl:loose", N: 1000, Per: time.Hour}
			for i := range 3 {
				if d, err := c.Allow(ctx, tight, loose); err != nil || d != 0 {
					t.Fatalf("event %d of a burst of 3: wait %v, %v", i+1, d, err)
				}
			}
			d, err := c.Allow(ctx, tight, loose)
			if err != nil || d < 15*time.Second || d > 20*time.Second {
				t.Fatalf("4th event: wait %v, %v; want about 20s", d, err)
			}
			for i := range 997 {
				if d, err := c.Allow(ctx, loose); err != nil || d != 0 {
					t.Fatalf("loose limit, event %d: wait %v, %v (a refusal of both must not consume from loose)", i+4, d, err)
				}
			}
			if d, err := c.Allow(ctx, loose); err != nil || d == 0 {
				t.Fatalf("loose limit past 1000: wait %v, %v", d, err)
			}
		})
	}
}

// pingless hides the dead primary's failing Ping: the contract is about data.
type pingless struct{ *cache.Fallback }

func (pingless) Ping(context.Context) error { return nil }

// waitMiss polls until key has expired; a key that never expires fails.
func waitMiss(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Get(context.Background(), key)
		if errors.Is(err, cache.ErrMiss) {
			return
		}
		if err != nil {
			t.Fatalf("get %s: %v", key, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has not expired after 5 s", key)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFallbackLogsOnceAndRecovers(t *testing.T) {
	var buf testutil.LogBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	dead, err := redis.Open("redis://127.0.0.1:1/0", "x:")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	f := cache.NewFallback(dead, memory.New(10), log)
	ctx := context.Background()
	for range 50 {
		if err := f.Set(ctx, "k", []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if v, err := f.Get(ctx, "k"); err != nil || string(v) != "v" {
		t.Fatalf("get from memory: %q %v", v, err)
	}
	if n := strings.Count(buf.String(), "shared cache unreachable"); n != 1 {
		t.Fatalf("logged the outage %d times, want once:\n%s", n, buf.String())
	}
	if err := f.Ping(ctx); err == nil {
		t.Fatal("Ping must report the dead primary")
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	c := memory.New(10)
	ctx := context.Background()
	key := func(i int) string { return string(rune('a'+i%26)) + string(rune('0'+i/26)) }
	for i := range 100 {
		if err := c.Set(ctx, key(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for i := range 100 {
		if _, err := c.Get(ctx, key(i)); err == nil {
			n++
		}
	}
	if n > 10 {
		t.Fatalf("%d entries kept, max 10", n)
	}
}
