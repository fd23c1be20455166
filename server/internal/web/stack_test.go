package web_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/samtycke/samtycke/server/internal/service"
	teststack "github.com/samtycke/samtycke/server/internal/testutil/stack"
)

// stack is a whole Samtycke (testutil/stack) with this package's helpers.
type stack struct {
	base string
	svc  *service.Service
	env  map[string]string // what it was started with
	stop func(t testing.TB)
}

func newStack(t testing.TB, env map[string]string) *stack {
	t.Helper()
	return fromShared(teststack.Start(t, env))
}

// newStackOn starts a stack on the services and data directory of env: a
// second start of the same deployment, as after a restart.
func newStackOn(t testing.TB, env map[string]string) *stack {
	t.Helper()
	return fromShared(teststack.StartOn(t, env))
}

func fromShared(s *teststack.Stack) *stack {
	return &stack{base: s.Base, svc: s.Svc, env: s.Env, stop: s.Stop}
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
