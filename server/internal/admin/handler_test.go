package admin_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/admin"
	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/cache/memory"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

type noPreview struct{}

func (noPreview) Preview(string, *siteconfig.Config, string) ([]byte, error) {
	return []byte("/* preview */"), nil
}

// handlerApp is the dashboard and API on an in-memory store: no ClickHouse,
// no Redis (web's error handler is stood in for by a few lines).
func handlerApp(t *testing.T, publicBase string) (*fiber.App, *manage.Manager) {
	t.Helper()
	kv := memory.New(10000)
	st := newMemStore()
	sessions := auth.NewSessions(kv, time.Hour, 12*time.Hour)
	m := manage.New(st, st, sessions, auth.NewLoginLimit(kv), slog.New(slog.DiscardHandler))
	h, err := admin.New(admin.Deps{Manager: m, Sessions: sessions, Preview: noPreview{}, PublicBase: publicBase, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return c.Status(ae.Status).JSON(fiber.Map{"error": ae})
		}
		t.Errorf("%s %s: unexpected error %v", c.Method(), c.Path(), err)
		return c.SendStatus(500)
	}})
	h.Mount(app)
	if _, err := m.Bootstrap(context.Background(), adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	return app, m
}

// jar is one browser's cookies.
type jar map[string]string

func (j jar) req(t *testing.T, app *fiber.App, method, path string, form url.Values, header map[string]string) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for k, v := range j {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j, c.Name)
		} else {
			j[c.Name] = c.Value
		}
	}
	return res
}

// reqBody sends a raw body (JSON) with this browser's cookies.
func (j jar) reqBody(t *testing.T, app *fiber.App, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	for k, v := range j {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (j jar) login(t *testing.T, app *fiber.App, email, password string) *http.Response {
	t.Helper()
	res := j.req(t, app, "GET", "/admin/login", nil, nil)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRe.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no login form token: %s", b)
	}
	return j.req(t, app, "POST", "/admin/login", url.Values{"_csrf": {string(m[1])}, "email": {email}, "password": {password}}, nil)
}

// Wrong passwords slow the next try, saying for how long (Retry-After);
// the right password is refused while the wait lasts.
func TestLoginSlowsGuessing(t *testing.T) {
	app, _ := handlerApp(t, "http://consent.example")
	for i := range 3 {
		if res := (jar{}).login(t, app, adminEmail, "wrong password "+string(rune('a'+i))); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, res.StatusCode)
		}
	}
	res := (jar{}).login(t, app, adminEmail, adminPassword)
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "try again in") {
		t.Errorf("right after 3 failures: %d Retry-After %q, want 429 with a wait", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

func TestLoginNeedsItsFormToken(t *testing.T) {
	app, _ := handlerApp(t, "http://consent.example")
	j := jar{}
	j.req(t, app, "GET", "/admin/login", nil, nil)
	res := j.req(t, app, "POST", "/admin/login", url.Values{"_csrf": {"guess"}, "email": {adminEmail}, "password": {adminPassword}}, nil)
	if res.StatusCode != http.StatusForbidden || j["samtycke_session"] != "" {
		t.Errorf("login with a forged form token: %d, session %q", res.StatusCode, j["samtycke_session"])
	}
}

// A new session id on every sign-in; the one before ends.
func TestSessionRotatesOnLogin(t *testing.T) {
	app, _ := handlerApp(t, "http://consent.example")
	j := jar{}
	if res := j.login(t, app, adminEmail, adminPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	first := j["samtycke_session"]
	j.login(t, app, adminEmail, adminPassword)
	second := j["samtycke_session"]
	if first == "" || second == "" || first == second {
		t.Fatalf("sessions %q %q", first, second)
	}
	if res := (jar{"samtycke_session": first}).req(t, app, "GET", "/v1/sites", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session before the second sign-in: %d", res.StatusCode)
	}
	if res := j.req(t, app, "GET", "/v1/sites", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("the new session: %d", res.StatusCode)
	}
}

func TestSecureCookieOnHTTPS(t *testing.T) {
	app, _ := handlerApp(t, "https://consent.example")
	res := (jar{}).login(t, app, adminEmail, adminPassword)
	var set string
	for _, h := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "__Host-samtycke_session=") {
			set = strings.ToLower(h)
		}
	}
	for _, want := range []string{"path=/", "httponly", "secure", "samesite=lax"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "domain=") || strings.Contains(set, "max-age") || strings.Contains(set, "expires") {
		t.Errorf("session cookie %q: want a host-only session cookie", set)
	}
}

func TestLogoutEverywhere(t *testing.T) {
	app, _ := handlerApp(t, "http://consent.example")
	a, b := jar{}, jar{}
	a.login(t, app, adminEmail, adminPassword)
	b.login(t, app, adminEmail, adminPassword)
	res := a.req(t, app, "GET", "/admin/", nil, nil)
	page, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	tok := csrfRe.FindSubmatch(page)
	if tok == nil {
		t.Fatalf("no token on the sites page: %s", page)
	}
	if res := a.req(t, app, "POST", "/admin/logout-everywhere", url.Values{"_csrf": {string(tok[1])}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout everywhere: %d", res.StatusCode)
	}
	if res := b.req(t, app, "GET", "/v1/sites", nil, nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the other browser's session: %d", res.StatusCode)
	}
}

// Bad input to the API is a precise 4xx, never a 500.
func TestAPIRefusesBadInput(t *testing.T) {
	app, m := handlerApp(t, "http://consent.example")
	if _, err := m.CreateSite(context.Background(), manage.Principal{Email: adminEmail}, "shop", "Shop", []string{"https://shop.example"}); err != nil {
		t.Fatal(err)
	}
	_, secret, err := m.CreateToken(context.Background(), manage.Principal{Email: adminEmail}, "shop", "ci", manage.Owner)
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + secret, "Content-Type": "application/json"}
	for _, c := range []struct {
		method, path, body, ctype string
		status                    int
		code                      string
	}{
		{"PUT", "/v1/sites/shop/draft", `{"name":`, "", 400, "invalid_json"},
		{"PUT", "/v1/sites/shop/draft", `{"name":"x","bogus":1}`, "", 400, "invalid_json"},
		{"PUT", "/v1/sites/shop/draft", `{"name":1}`, "", 400, "invalid_json"},
		{"PUT", "/v1/sites/shop/draft", `{}`, "text/plain", 415, "unsupported_media_type"},
		{"PUT", "/v1/sites/shop/draft", `{} {}`, "", 400, "invalid_json"},
		{"POST", "/v1/sites/shop/publish", `{"note":"x"}`, "", 422, "invalid_configuration"}, // the starter draft lacks the controller's email
		{"GET", "/v1/sites/shop/versions/0", "", "", 400, "invalid_version"},
		{"GET", "/v1/sites/shop/versions/abc", "", "", 400, "invalid_version"},
		{"GET", "/v1/sites/shop/versions/7", "", "", 404, "unknown_version"},
		{"GET", "/v1/sites/shop/stats?from=yesterday", "", "", 400, "invalid_date"},
		{"GET", "/v1/sites/shop/stats?from=2026-02-01&to=2026-01-01", "", "", 400, "invalid_period"},
		{"GET", "/v1/sites/shop/stats?format=xml", "", "", 400, "invalid_format"},
		{"PUT", "/v1/sites/shop/members/not-an-email", `{"role":"owner"}`, "", 400, "invalid_email"},
		{"PUT", "/v1/sites/shop/members/x@example.se", `{"role":"king"}`, "", 400, "invalid_role"},
		{"PUT", "/v1/sites/shop/members/x@example.se", `{"role":"editor","password":"a long password"}`, "", 400, "password_not_accepted"},
		{"PUT", "/v1/sites/shop/members/" + adminEmail, `{"role":"editor"}`, "", 409, "last_owner"},
		{"DELETE", "/v1/sites/shop/members/" + adminEmail, "", "", 409, "last_owner"},
		{"POST", "/v1/sites/shop/tokens", `{"name":"","role":"owner"}`, "", 400, "invalid_name"},
		{"DELETE", "/v1/sites/shop/tokens/nope", "", "", 404, "not_found"},
		{"GET", "/v1/sites/SHOP", "", "", 404, "not_found"},
		{"GET", "/v1/sites/shop/audit?limit=0", "", "", 400, "invalid_limit"},
	} {
		// If-Match: * so that draft saves reach the body checks (a missing
		// If-Match is its own error, tested with the revisions).
		h := map[string]string{"Authorization": bearer["Authorization"], "If-Match": "*"}
		if c.body != "" {
			h["Content-Type"] = "application/json"
			if c.ctype != "" {
				h["Content-Type"] = c.ctype
			}
		}
		req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != c.status || !strings.Contains(string(b), `"code":"`+c.code+`"`) {
			t.Errorf("%s %s %s: %d %s, want %d %s", c.method, c.path, c.body, res.StatusCode, b, c.status, c.code)
		}
	}
	// A revoked token is refused.
	ts, err := m.Tokens(context.Background(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeToken(context.Background(), manage.Principal{Email: adminEmail}, "shop", ts[0].ID); err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/sites/shop", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", res.StatusCode)
	}
}
