package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/manage"
)

var secretRe = regexp.MustCompile(`name="secret" value="([A-Z2-7]+)"`)

// Through the pages: set up a second factor, sign in with it, and an owner's
// requirement keeps a member without one out of the site, not out of their
// account.
func TestTwoFactorThroughPages(t *testing.T) {
	app, m := handlerApp(t, "https://consent.example.se")
	ctx := context.Background()
	admin := manage.Principal{Email: adminEmail}
	if _, err := m.CreateSite(ctx, admin, "shop", "Shop", nil); err != nil {
		t.Fatal(err)
	}
	const editor = "ed@example.se"
	if _, err := m.PutMember(ctx, admin, "shop", editor, manage.Editor, "an editor's passphrase"); err != nil {
		t.Fatal(err)
	}
	owner := jar{}
	owner.login(t, app, adminEmail, adminPassword)
	page := body(t, owner.req(t, app, "GET", "/admin/sites/shop/members", nil, nil))
	csrf := csrfRe.FindStringSubmatch(page)[1]
	// Not from a password-only session.
	res := owner.req(t, app, "POST", "/admin/sites/shop/policy", url.Values{"_csrf": {csrf}, "require_two_factor": {"on"}}, nil)
	if b := body(t, res); res.StatusCode != http.StatusConflict || !strings.Contains(b, "set up two-factor authentication for yourself") {
		t.Fatalf("requiring 2FA without it: %d", res.StatusCode)
	}
	// Set up: scan, type the code.
	setup := body(t, owner.req(t, app, "GET", "/admin/account/two-factor", nil, nil))
	sm := secretRe.FindStringSubmatch(setup)
	if sm == nil || !strings.Contains(setup, `src="data:image/png;base64,`) {
		t.Fatalf("no secret or QR code on the set-up page:\n%s", setup)
	}
	code, err := auth.TOTPCode(sm[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res = owner.req(t, app, "POST", "/admin/account/two-factor", url.Values{"_csrf": {csrf}, "secret": {sm[1]}, "code": {"000000"}}, nil)
	if b := body(t, res); res.StatusCode != http.StatusUnauthorized || !strings.Contains(b, sm[1]) {
		t.Fatalf("a wrong first code: %d (the same secret shown again? %v)", res.StatusCode, strings.Contains(b, sm[1]))
	}
	res = owner.req(t, app, "POST", "/admin/account/two-factor", url.Values{"_csrf": {csrf}, "secret": {sm[1]}, "code": {code}}, nil)
	b := body(t, res)
	if res.StatusCode != http.StatusCreated || strings.Count(b, "<li><code>") != manage.RecoveryCodeCount {
		t.Fatalf("enable: %d, %d recovery codes shown", res.StatusCode, strings.Count(b, "<li><code>"))
	}
	// This session counts as confirmed: the requirement can be set now.
	res = owner.req(t, app, "POST", "/admin/sites/shop/policy", url.Values{"_csrf": {csrf}, "require_two_factor": {"on"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("requiring 2FA with it: %d %s", res.StatusCode, body(t, res))
	}
	// The editor, password only: kept out of the site, with the reason; the
	// account page still opens.
	ed := jar{}
	ed.login(t, app, editor, "an editor's passphrase")
	res = ed.req(t, app, "GET", "/admin/sites/shop/edit", nil, nil)
	if b := body(t, res); res.StatusCode != http.StatusForbidden || !strings.Contains(b, "require two-factor authentication") {
		t.Errorf("a member without 2FA on a site that requires it: %d", res.StatusCode)
	}
	if res := ed.req(t, app, "GET", "/admin/account", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("account page: %d", res.StatusCode)
	}
	// Signing in again takes a code.
	again := jar{}
	res = again.login(t, app, adminEmail, adminPassword)
	b = body(t, res)
	if res.StatusCode != http.StatusOK || !strings.Contains(b, "Two-factor sign-in") {
		t.Fatalf("password of a 2FA account: %d, want the code form", res.StatusCode)
	}
	ccsrf := csrfRe.FindStringSubmatch(b)[1]
	res = again.req(t, app, "POST", "/admin/login/code", url.Values{"_csrf": {ccsrf}, "code": {"123456"}}, nil)
	b = body(t, res)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(b, "not right") {
		t.Fatalf("wrong code: %d", res.StatusCode)
	}
	ccsrf = csrfRe.FindStringSubmatch(b)[1]
	next, err := auth.TOTPCode(sm[1], time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	res = again.req(t, app, "POST", "/admin/login/code", url.Values{"_csrf": {ccsrf}, "code": {next}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("right code: %d %s", res.StatusCode, body(t, res))
	}
	if res := again.req(t, app, "GET", "/admin/sites/shop/members", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("the owner, signed in with 2FA, on the site: %d", res.StatusCode)
	}
	// The session list names both of the owner's sessions.
	acct := body(t, again.req(t, app, "GET", "/admin/account", nil, nil))
	if n := strings.Count(acct, "/admin/account/sessions/end"); n != 1 || !strings.Contains(acct, "this browser") {
		t.Errorf("session list: %d other sessions, want 1 (and this browser)", n)
	}
}

// A password change takes the current password, ends the other sessions
// and keeps this browser signed in.
func TestPasswordChange(t *testing.T) {
	app, _ := handlerApp(t, "https://consent.example.se")
	first, second := jar{}, jar{}
	first.login(t, app, adminEmail, adminPassword)
	second.login(t, app, adminEmail, adminPassword)
	page := body(t, first.req(t, app, "GET", "/admin/account", nil, nil))
	csrf := csrfRe.FindStringSubmatch(page)[1]
	res := first.req(t, app, "POST", "/admin/account/password", url.Values{"_csrf": {csrf}, "current": {"not it at all!"},
		"password": {"a new long passphrase"}, "password2": {"a new long passphrase"}}, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong current password: %d", res.StatusCode)
	}
	res = first.req(t, app, "POST", "/admin/account/password", url.Values{"_csrf": {csrf}, "current": {adminPassword},
		"password": {"password1234"}, "password2": {"password1234"}}, nil)
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a common password: %d", res.StatusCode)
	}
	res = first.req(t, app, "POST", "/admin/account/password", url.Values{"_csrf": {csrf}, "current": {adminPassword},
		"password": {"a new long passphrase"}, "password2": {"a new long passphrase"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.StatusCode, body(t, res))
	}
	if res := first.req(t, app, "GET", "/admin/account", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("this browser after the change: %d", res.StatusCode)
	}
	if res := second.req(t, app, "GET", "/admin/account", nil, nil); res.StatusCode == http.StatusOK {
		t.Error("another session survived the password change")
	}
	if res := (jar{}).login(t, app, adminEmail, "a new long passphrase"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password: %d", res.StatusCode)
	}
}

// The account pages belong to a signed-in person: an API token gets a
// clear 403, never a crash, and cannot set a site's two-factor policy past
// the check a person's session gets.
func TestAccountPagesRefuseTokens(t *testing.T) {
	app, m := handlerApp(t, "https://consent.example.se")
	ctx := context.Background()
	admin := manage.Principal{Email: adminEmail}
	if _, err := m.CreateSite(ctx, admin, "shop", "Shop", nil); err != nil {
		t.Fatal(err)
	}
	_, secret, err := m.CreateToken(ctx, admin, "shop", "ci", manage.Owner)
	if err != nil {
		t.Fatal(err)
	}
	bearer := map[string]string{"Authorization": "Bearer " + secret}
	for _, r := range []struct{ method, path string }{
		{"GET", "/admin/account"}, {"POST", "/admin/account/password"}, {"GET", "/admin/account/two-factor"},
		{"POST", "/admin/account/two-factor"}, {"POST", "/admin/account/two-factor/remove"}, {"POST", "/admin/account/sessions/end"},
	} {
		res := (jar{}).req(t, app, r.method, r.path, url.Values{"code": {"123456"}}, bearer)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s %s with a token: %d, want 403", r.method, r.path, res.StatusCode)
		}
	}
	// A token (an owner's) may set the policy: it has no session to check.
	res := (jar{}).req(t, app, "POST", "/admin/sites/shop/policy", url.Values{"require_two_factor": {"on"}}, bearer)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("policy by an owner's token: %d", res.StatusCode)
	}
}
