// Package testutil gives tests real services: a fresh, migrated ClickHouse
// database per test, a Redis key prefix per test, and Debian's Chromium.
//
// Services come from SAMTYCKE_CLICKHOUSE_URL and SAMTYCKE_REDIS_URL (as set by
// `make test`). When one is missing the test is skipped, unless
// SAMTYCKE_TEST_SERVICES=required (make test sets it), which makes it fail:
// CI must never pass by skipping.
package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/cache/redis"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

// Logger writes to the test's log, shown only when the test fails or with -v.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func unavailable(t testing.TB, env, what string, err error) {
	t.Helper()
	if os.Getenv(env) == "required" {
		t.Fatalf("%s is required (%s=required) but unavailable: %v", what, env, err)
	}
	t.Skipf("%s unavailable (set it up with `make test`): %v", what, err)
}

// SaveArtifact writes b as name under $SAMTYCKE_ARTIFACTS (make test:
// .data/artifacts), where people look at screenshots, pages and profiles
// after a run; without it, under the test's temporary directory. It returns
// the file's path.
func SaveArtifact(t testing.TB, name string, b []byte) string {
	t.Helper()
	dir := os.Getenv("SAMTYCKE_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// RandomName returns prefix followed by 12 random hex digits.
func RandomName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// ClickHouseURL returns the URL of a new, randomly named database on the test
// server. It is dropped when the test ends, unless KEEPDB=1, and so are the
// keys a server on it wrote to the test Redis (they live up to a day, and
// every later test's cleanup would have to scan past them).
func ClickHouseURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("SAMTYCKE_CLICKHOUSE_URL")
	if raw == "" {
		raw = "clickhouse://127.0.0.1:9000/samtycke"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("SAMTYCKE_CLICKHOUSE_URL: %v", err)
	}
	db := RandomName("samtycke_test_")
	u.Path = "/" + db
	t.Cleanup(func() {
		if os.Getenv("KEEPDB") == "1" {
			t.Logf("kept ClickHouse database %s", db)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := clickhouse.Open(ctx, u.String(), slog.New(slog.DiscardHandler))
		if err != nil {
			t.Logf("drop %s: %v", db, err)
			return
		}
		defer st.Close()
		if err := st.Conn().Exec(ctx, "DROP DATABASE IF EXISTS "+db); err != nil {
			t.Logf("drop %s: %v", db, err)
		}
		// A server's key prefix (service.New): samtycke:<database>:.
		c, err := redis.Open(RedisURL(), "")
		if err != nil {
			t.Logf("redis: %v", err)
			return
		}
		defer c.Close()
		if err := deleteKeys(ctx, c, "samtycke:"+db+":*"); err != nil {
			t.Logf("redis: keys of %s: %v", db, err)
		}
	})
	return u.String()
}

// deleteKeys deletes the keys that match pattern. SCAN, not KEYS: KEYS blocks
// Redis for the whole keyspace, and so every other test.
func deleteKeys(ctx context.Context, c *redis.Cache, pattern string) error {
	var keys []string
	iter := c.Client().Scan(ctx, 0, pattern, 10000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("listing %s: %w", pattern, err)
	}
	if len(keys) == 0 {
		return nil
	}
	return c.Client().Unlink(ctx, keys...).Err()
}

// ClickHouse returns a store on a new, migrated database of its own.
func ClickHouse(t testing.TB) *clickhouse.Store {
	t.Helper()
	// Cancelled only when the test ends: clickhouse-go may close a pooled
	// connection whose last query's context is cancelled just as it returns,
	// and the test's next query would get "use of closed network connection".
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	st, err := clickhouse.Open(ctx, ClickHouseURL(t), Logger(t))
	if err != nil {
		unavailable(t, "SAMTYCKE_TEST_SERVICES", "ClickHouse", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return st
}

// RedisURL is the test Redis server's URL.
func RedisURL() string {
	if u := os.Getenv("SAMTYCKE_REDIS_URL"); u != "" && u != "none" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis returns a cache on the test Redis whose keys carry a random prefix,
// deleted when the test ends.
func Redis(t testing.TB) *redis.Cache {
	t.Helper()
	prefix := RandomName("samtycke_test_") + ":"
	c, err := redis.Open(RedisURL(), prefix)
	if err != nil {
		t.Fatalf("redis: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		c.Close()
		unavailable(t, "SAMTYCKE_TEST_SERVICES", "Redis", err)
	}
	t.Cleanup(func() {
		// SCAN walks the whole keyspace: give it time on a Redis that holds
		// much else (a developer's, say).
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteKeys(ctx, c, prefix+"*"); err != nil {
			t.Errorf("redis: the test's keys: %v", err)
		}
		c.Close()
	})
	return c
}

// Chromium returns the path of Debian's Chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SAMTYCKE_CHROMIUM"), "/usr/bin/chromium"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	unavailable(t, "SAMTYCKE_TEST_BROWSER", "Chromium (/usr/bin/chromium)", os.ErrNotExist)
	return ""
}
