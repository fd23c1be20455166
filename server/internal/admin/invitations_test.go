package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// body reads a response whole.
func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var panelRe = regexp.MustCompile(`(?s)<div class="panel notice-ok".*?</div>`)

var linkRe = regexp.MustCompile(`/admin/invitations/(smi_[A-Za-z0-9_-]+)`)

// An owner invites through the page and the API: an email with an account
// and one without get the same answer, and neither gets a role until they
// accept through the link.
func TestInvitationsThroughPagesAndAPI(t *testing.T) {
	app, m := handlerApp(t, "https://consent.example.se")
	ctx := context.Background()
	admin := manage.Principal{Email: adminEmail}
	if _, err := m.CreateSite(ctx, admin, "shop", "Shop", nil); err != nil {
		t.Fatal(err)
	}
	const known = "known@example.se"
	if err := m.AddUser(ctx, admin, known, "a long enough passphrase"); err != nil {
		t.Fatal(err)
	}
	owner := jar{}
	if res := owner.login(t, app, adminEmail, adminPassword); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	page := body(t, owner.req(t, app, "GET", "/admin/sites/shop/members", nil, nil))
	csrf := csrfRe.FindStringSubmatch(page)[1]

	// The page: the same words for both, the link shown once.
	links := map[string]string{}
	var shown []string
	for _, email := range []string{known, "unknown@example.se"} {
		res := owner.req(t, app, "POST", "/admin/sites/shop/members", url.Values{"_csrf": {csrf}, "email": {email}, "role": {"editor"}}, nil)
		b := body(t, res)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("invite %s: %d %s", email, res.StatusCode, b)
		}
		l := linkRe.FindStringSubmatch(b)
		if l == nil {
			t.Fatalf("no link shown for %s", email)
		}
		links[email] = l[1]
		// What the page says of it is the same but for the address and link.
		said := panelRe.FindString(b)
		if said == "" {
			t.Fatalf("no invitation panel:\n%s", b)
		}
		shown = append(shown, linkRe.ReplaceAllString(strings.ReplaceAll(said, email, "EMAIL"), "LINK"))
	}
	if shown[0] != shown[1] {
		t.Error("the members page answers differently for an email with an account and one without")
	}
	// The API: 202 and the same fields for both.
	var keys [][]string
	for _, email := range []string{known, "another@example.se"} {
		res := owner.reqBody(t, app, "PUT", "/v1/sites/shop/members/"+email, `{"role":"auditor"}`,
			map[string]string{"Content-Type": "application/json", "X-CSRF-Token": csrf})
		b := body(t, res)
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("API invite %s: %d %s", email, res.StatusCode, b)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			t.Fatal(err)
		}
		var k []string
		for key := range v {
			k = append(k, key)
		}
		slices.Sort(k)
		keys = append(keys, k)
		links[email] = linkRe.FindStringSubmatch(b)[1]
	}
	if !slices.Equal(keys[0], keys[1]) {
		t.Errorf("API answers differ: %v vs %v", keys[0], keys[1])
	}
	if role, err := m.RoleOn(ctx, manage.Principal{Email: known}, "shop"); !manage.IsNotFound(err) {
		t.Fatalf("invited, not accepted, yet role %q (%v)", role, err)
	}

	// The known person signs in and accepts (the API re-invite replaced the
	// page's invitation: only the newest link works).
	p := jar{}
	if res := p.login(t, app, known, "a long enough passphrase"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	inv := body(t, p.req(t, app, "GET", "/admin/invitations/"+links[known], nil, nil))
	if !strings.Contains(inv, "Accept and join") {
		t.Fatalf("no accept button:\n%s", inv)
	}
	pcsrf := csrfRe.FindStringSubmatch(inv)[1]
	res := p.req(t, app, "POST", "/admin/invitations/"+links[known], url.Values{"_csrf": {pcsrf}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/admin/sites/shop?done=joined" {
		t.Fatalf("accept: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if role, err := m.RoleOn(ctx, manage.Principal{Email: known}, "shop"); err != nil || role != manage.Auditor {
		t.Fatalf("after accepting: %q %v", role, err)
	}

	// Someone new makes their account through the link, not signed in.
	n := jar{}
	inv = body(t, n.req(t, app, "GET", "/admin/invitations/"+links["another@example.se"], nil, nil))
	if !strings.Contains(inv, "Sign in to accept") || !strings.Contains(inv, "Create account and join") {
		t.Fatalf("the invitation page offers neither sign-in nor an account:\n%s", inv)
	}
	fcsrf := csrfRe.FindStringSubmatch(inv)[1]
	res = n.req(t, app, "POST", "/admin/invitations/"+links["another@example.se"]+"/account",
		url.Values{"_csrf": {fcsrf}, "password": {"my very own passphrase"}, "password2": {"my very own passphrase"}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("new account: %d %s", res.StatusCode, body(t, res))
	}
	if res := n.req(t, app, "GET", "/admin/sites/shop", nil, nil); res.StatusCode != http.StatusOK {
		t.Errorf("the new member cannot open the site: %d", res.StatusCode)
	}
	// A used link says so, in words.
	if b := body(t, n.req(t, app, "GET", "/admin/invitations/"+links["another@example.se"], nil, nil)); !strings.Contains(b, "not valid") {
		t.Errorf("a used link:\n%s", b)
	}
}
