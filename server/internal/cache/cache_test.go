package cache_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// One contract, every implementation.
func TestContract(t *testing.T) {
	impls := map[string]func(t *testing.T) cache.Cache{
		"memory": func(*testing.T) cache.Cache { return memory.New(100) },
		"redis":  func(t *testing.T) cache.Cache { return testutil.Redis(t) },
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
			time.Sleep(120 * time.Millisecond)
			if _, err := c.Get(ctx, "short"); !errors.Is(err, cache.ErrMiss) {
				t.Fatalf("expired key: %v", err)
			}
			if err := c.Delete(ctx, "k", "never-set"); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Get(ctx, "k"); !errors.Is(err, cache.ErrMiss) {
				t.Fatalf("deleted key: %v", err)
			}
			if err := c.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestMemoryStaysBounded(t *testing.T) {
	c := memory.New(10)
	ctx := context.Background()
	for i := range 100 {
		c.Set(ctx, string(rune('a'+i%26))+string(rune('0'+i/26)), []byte("v"), time.Minute)
	}
	n := 0
	for i := range 100 {
		if _, err := c.Get(ctx, string(rune('a'+i%26))+string(rune('0'+i/26))); err == nil {
			n++
		}
	}
	if n > 10 {
		t.Fatalf("%d entries kept, max 10", n)
	}
}
