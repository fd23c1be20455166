package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/service"
	teststack "github.com/samtycke/samtycke/server/internal/testutil/stack"
)

// stack is a whole Samtycke on a random port with its own ClickHouse
// database and Redis key space, the demo site, and the bootstrap owner.
type stack struct {
	base string
	svc  *service.Service
}

const (
	adminEmail    = "admin@example.se"
	adminPassword = "correct horse battery"
)

func newStack(t *testing.T, env map[string]string) *stack {
	t.Helper()
	vars := map[string]string{"SAMTYCKE_ADMIN_EMAIL": adminEmail, "SAMTYCKE_ADMIN_PASSWORD": adminPassword}
	for k, v := range env {
		vars[k] = v
	}
	s := teststack.Start(t, vars)
	return &stack{base: s.Base, svc: s.Svc}
}

// anotherInstance is a second server of s's deployment: the same
// ClickHouse database and Redis, a data directory of its own.
func anotherInstance(t *testing.T, s *stack) *stack {
	t.Helper()
	b := teststack.StartOn(t, map[string]string{
		"SAMTYCKE_CLICKHOUSE_URL": s.svc.Config.ClickHouseURL,
		"SAMTYCKE_REDIS_URL":      s.svc.Config.RedisURL,
		"SAMTYCKE_DATA_DIR":       t.TempDir(),
		"SAMTYCKE_DEMO":           "on",
	})
	return &stack{base: b.Base, svc: b.Svc}
}

// client is one caller: a session (cookie + CSRF token) or an API token.
type client struct {
	name   string
	cookie string // session cookie value
	csrf   string
	bearer string
	noCSRF bool // send the session without its CSRF token
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// withIfMatch is a request body sent with If-Match (a draft's ETag, or *).
type withIfMatch struct {
	etag string
	body any
}

func (s *stack) do(t *testing.T, cl client, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	ifMatch := ""
	if w, ok := body.(withIfMatch); ok {
		ifMatch, body = w.etag, w.body
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if ifMatch != "" {
		req.Header.Set("If-Match", ifMatch)
	}
	if cl.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "samtycke_session", Value: cl.cookie})
		if !cl.noCSRF {
			req.Header.Set("X-CSRF-Token", cl.csrf)
		}
	}
	if cl.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+cl.bearer)
	}
	res, err := http.DefaultTransport.RoundTrip(req)
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

// login starts a session for email directly through the Manager.
func (s *stack) login(t *testing.T, email, password string) client {
	t.Helper()
	sess, err := s.svc.Manager.Login(context.Background(), email, password, "127.0.0.1")
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	return client{name: email, cookie: sess.ID, csrf: sess.CSRF}
}

// user creates an account with a role on site and signs it in.
func (s *stack) user(t *testing.T, email, site string, role manage.Role) client {
	t.Helper()
	ctx := context.Background()
	by := manage.Principal{Email: adminEmail}
	if _, err := s.svc.Manager.PutMember(ctx, by, site, email, role, adminPassword); err != nil {
		t.Fatalf("member %s: %v", email, err)
	}
	return s.login(t, email, adminPassword)
}

// token creates an API token of site with role.
func (s *stack) token(t *testing.T, site string, role manage.Role) client {
	t.Helper()
	tok, secret, err := s.svc.Manager.CreateToken(context.Background(), manage.Principal{Email: adminEmail}, site, "test "+string(role), role)
	if err != nil {
		t.Fatal(err)
	}
	return client{name: "token " + tok.ID + " " + string(role) + "@" + site, bearer: secret}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("status %d: %v: %s", r.status, err, r.body)
	}
	return v
}
