// Package stack runs a whole Samtycke inside a test: service.New and Serve
// on a random loopback port, on the test's ClickHouse database and the
// shared Redis (or what env names), with the demo site seeded. The web,
// admin and command tests start theirs here.
package stack

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/service"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// Stack is one running server.
type Stack struct {
	Base string // http://127.0.0.1:PORT
	Svc  *service.Service
	Env  map[string]string // what it was started with
	stop func(t testing.TB)
}

// Start runs a server with a ClickHouse database of the test's own, the
// shared Redis, a fresh data directory and the demo on; env overrides any
// of these and adds settings.
func Start(t testing.TB, env map[string]string) *Stack {
	t.Helper()
	vars := map[string]string{
		"SAMTYCKE_CLICKHOUSE_URL": testutil.ClickHouseURL(t),
		"SAMTYCKE_REDIS_URL":      testutil.RedisURL(),
		"SAMTYCKE_DATA_DIR":       t.TempDir(),
		"SAMTYCKE_DEMO":           "on",
	}
	for k, v := range env {
		vars[k] = v
	}
	return StartOn(t, vars)
}

// StartOn runs a server on exactly env's services and data directory (a
// restart of the same deployment, or a second instance of it), on a new
// port. A SAMTYCKE_PUBLIC_URL in env stays, so links do not change with
// the port; without one it is the new address.
func StartOn(t testing.TB, env map[string]string) *Stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	vars := map[string]string{"SAMTYCKE_PUBLIC_URL": base, "SAMTYCKE_LISTEN": ln.Addr().String()}
	for k, v := range env {
		if k != "SAMTYCKE_LISTEN" {
			vars[k] = v
		}
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg, testutil.Logger(t), "test", 5*time.Second)
	if err != nil {
		cancel()
		ln.Close()
		testutil.ClickHouse(t) // skips or fails with the reason when ClickHouse is missing
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	var once sync.Once
	s := &Stack{Base: base, Svc: svc, Env: vars}
	s.stop = func(t testing.TB) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			if err := svc.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
	}
	t.Cleanup(func() { s.stop(t) })
	return s
}

// Stop shuts the server down (once; the test's cleanup does it otherwise).
func (s *Stack) Stop(t testing.TB) { s.stop(t) }
