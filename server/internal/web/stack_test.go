package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/config"
	"github.com/samtycke/samtycke/server/internal/service"
	"github.com/samtycke/samtycke/server/internal/testutil"
)

// stack is a whole Samtycke on a random port, with its own ClickHouse
// database, Redis key space and data directory, and the demo site seeded.
type stack struct {
	base string
	svc  *service.Service
	env  map[string]string // what it was started with
	stop func(t testing.TB)
}

func newStack(t testing.TB, env map[string]string) *stack {
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
	return newStackOn(t, vars)
}

// newStackOn starts a stack on the services and data directory of env: a
// second start of the same deployment, as after a restart.
func newStackOn(t testing.TB, env map[string]string) *stack {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	vars := map[string]string{"SAMTYCKE_PUBLIC_URL": base, "SAMTYCKE_LISTEN": ln.Addr().String()}
	for k, v := range env {
		if k != "SAMTYCKE_LISTEN" {
			vars[k] = v // a public URL given stays: links must not change with the port
		}
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := service.New(ctx, cfg, testutil.Logger(t), "test", 5*time.Second)
	if err != nil {
		cancel()
		ln.Close()
		if vars["SAMTYCKE_REDIS_URL"] == testutil.RedisURL() {
			testutil.ClickHouse(t) // skips or fails with the reason when ClickHouse is missing
		}
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	var once sync.Once
	stop := func(t testing.TB) {
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
	t.Cleanup(func() { stop(t) })
	return &stack{base: base, svc: svc, env: vars, stop: stop}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (s *stack) do(t *testing.T, method, path string, body []byte, header map[string]string) response {
	t.Helper()
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	// A bare transport: no transparent gzip, so encodings can be checked.
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// apiError decodes {"error":{…}}; it fails the test if the body is not one.
func apiError(t *testing.T, r response) (code, field string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("status %d: body is not a JSON error: %s", r.status, r.body)
	}
	return e.Error.Code, e.Error.Field
}
