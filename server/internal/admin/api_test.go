package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// apiRoute is one site route of the API and the roles that may use it.
type apiRoute struct {
	method, path string // path with {site}
	roles        []manage.Role
	// body returns the request body (nil: none); prepare may create what the
	// call consumes and returns the path to use.
	body    func(s *stack, site string) any
	prepare func(t *testing.T, s *stack, site string) string
}

func draftBody(s *stack, site string) any {
	d, err := s.svc.Manager.Draft(context.Background(), site)
	if err != nil {
		panic(err)
	}
	return withIfMatch{`"` + d.Revision + `"`, d.Config}
}

// siteRoutes is every /v1/sites/{site}… route (DELETE of the site itself is
// tested on its own, at the end: it would end the table).
func siteRoutes() []apiRoute {
	all := manage.CanRead
	return []apiRoute{
		{method: "GET", path: "/v1/sites/{site}", roles: all},
		{method: "PATCH", path: "/v1/sites/{site}", roles: manage.CanManage, body: func(*stack, string) any { return map[string]string{"name": "Renamed"} }},
		{method: "GET", path: "/v1/sites/{site}/draft", roles: all},
		{method: "PUT", path: "/v1/sites/{site}/draft", roles: manage.CanEdit, body: draftBody},
		{method: "POST", path: "/v1/sites/{site}/validate", roles: manage.CanEdit, body: draftBody},
		{method: "GET", path: "/v1/sites/{site}/publish", roles: all},
		{method: "POST", path: "/v1/sites/{site}/publish", roles: manage.CanEdit, body: func(*stack, string) any { return map[string]string{"note": "test"} }},
		{method: "GET", path: "/v1/sites/{site}/versions", roles: all},
		{method: "GET", path: "/v1/sites/{site}/versions/1", roles: all},
		{method: "POST", path: "/v1/sites/{site}/versions/1/rollback", roles: manage.CanEdit},
		{method: "GET", path: "/v1/sites/{site}/stats?from=2026-01-01&to=2026-01-31", roles: all},
		{method: "GET", path: "/v1/sites/{site}/audit", roles: manage.CanAudit},
		{method: "GET", path: "/v1/sites/{site}/scans", roles: all},
		// Auditors (issue 15): exports and lookups of full records.
		{method: "GET", path: "/v1/sites/{site}/consents/export?from=2026-01-01&to=2026-01-31&format=csv", roles: manage.CanAudit},
		{method: "GET", path: "/v1/sites/{site}/consents/export?from=2026-01-01&to=2026-01-31&format=ndjson&method=custom&category=statistics=granted&lang=sv", roles: manage.CanAudit},
		{method: "GET", path: "/v1/sites/{site}/consents/{consent_id}", roles: manage.CanAudit,
			prepare: func(_ *testing.T, _ *stack, site string) string {
				return "/v1/sites/" + site + "/consents/0b6f5d2e-8a4b-4c1e-9d3f-2a7c6e5b4d10"
			}},
		{method: "GET", path: "/v1/sites/{site}/members", roles: manage.CanManage},
		{method: "PUT", path: "/v1/sites/{site}/members/new-member@example.se", roles: manage.CanManage,
			body: func(*stack, string) any { return map[string]string{"role": "auditor"} }},
		{method: "DELETE", path: "/v1/sites/{site}/members/{email}", roles: manage.CanManage,
			prepare: func(t *testing.T, s *stack, site string) string {
				email := fmt.Sprintf("leaving-%d@example.se", len(t.Name()))
				if _, err := s.svc.Manager.PutMember(context.Background(), manage.Principal{Email: adminEmail}, site, email, manage.Auditor, adminPassword); err != nil {
					t.Fatal(err)
				}
				return "/v1/sites/" + site + "/members/" + email
			}},
		{method: "GET", path: "/v1/sites/{site}/tokens", roles: manage.CanManage},
		{method: "POST", path: "/v1/sites/{site}/tokens", roles: manage.CanManage,
			body: func(*stack, string) any { return map[string]string{"name": "ci", "role": "editor"} }},
		{method: "DELETE", path: "/v1/sites/{site}/tokens/{id}", roles: manage.CanManage,
			prepare: func(t *testing.T, s *stack, site string) string {
				tok, _, err := s.svc.Manager.CreateToken(context.Background(), manage.Principal{Email: adminEmail}, site, "doomed", manage.Auditor)
				if err != nil {
					t.Fatal(err)
				}
				return "/v1/sites/" + site + "/tokens/" + tok.ID
			}},
	}
}

func allows(roles []manage.Role, r manage.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// TestEveryRouteEveryRole calls every site route as every role, by session
// and by token, on its own site (allowed: 2xx; not allowed: 403) and as an
// owner of another site (404, as for a site that does not exist), and
// without credentials (401). This is R5.
func TestEveryRouteEveryRole(t *testing.T) {
	s := newStack(t, nil)
	ctx := context.Background()
	admin := s.login(t, adminEmail, adminPassword)
	for _, id := range []string{"site-a", "site-b"} {
		r := s.do(t, admin, "POST", "/v1/sites", map[string]any{"id": id, "name": "Site " + id, "allowed_origins": []string{"https://" + id + ".example"}})
		if r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", id, r.status, r.body)
		}
		// Make the draft valid and publish version 1, so every route has something to read.
		d := decode[struct {
			Config   map[string]any
			Revision string
		}](t, s.do(t, admin, "GET", "/v1/sites/"+id+"/draft", nil))
		d.Config["controller"] = map[string]any{"name": "Site AB", "email": "privacy@" + id + ".example"}
		if r := s.do(t, admin, "PUT", "/v1/sites/"+id+"/draft", withIfMatch{`"` + d.Revision + `"`, d.Config}); r.status != 200 {
			t.Fatalf("draft: %d %s", r.status, r.body)
		}
		if r := s.do(t, admin, "POST", "/v1/sites/"+id+"/publish", nil); r.status != http.StatusCreated {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
	}

	type caller struct {
		client
		role manage.Role
	}
	var own []caller
	for _, role := range manage.Roles {
		own = append(own,
			caller{s.user(t, string(role)+"-a@example.se", "site-a", role), role},
			caller{s.token(t, "site-a", role), role})
	}
	strangers := []client{s.user(t, "owner-b@example.se", "site-b", manage.Owner), s.token(t, "site-b", manage.Owner)}

	for _, rt := range siteRoutes() {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			path := func(site string) string {
				if rt.prepare != nil {
					return rt.prepare(t, s, site)
				}
				return strings.ReplaceAll(rt.path, "{site}", site)
			}
			body := func(site string) any {
				if rt.body == nil {
					return nil
				}
				return rt.body(s, site)
			}
			for _, c := range own {
				r := s.do(t, c.client, rt.method, path("site-a"), body("site-a"))
				if allows(rt.roles, c.role) {
					if r.status < 200 || r.status > 299 {
						t.Errorf("%s: %d, want 2xx: %s", c.name, r.status, r.body)
					}
				} else if r.status != http.StatusForbidden {
					t.Errorf("%s: %d, want 403: %s", c.name, r.status, r.body)
				}
			}
			for _, c := range strangers {
				r := s.do(t, c, rt.method, path("site-a"), body("site-a"))
				if r.status != http.StatusNotFound {
					t.Errorf("%s on site-a: %d, want 404: %s", c.name, r.status, r.body)
				}
				if strings.Contains(string(r.body), "Site site-a") {
					t.Errorf("%s on site-a: the answer leaks site-a: %s", c.name, r.body)
				}
				// The same answer as for a site that does not exist.
				if r2 := s.do(t, c, rt.method, path("no-such-site"), body("site-b")); r2.status != r.status || string(r2.body) != string(r.body) {
					t.Errorf("%s: another site %d %s, a missing site %d %s", c.name, r.status, r.body, r2.status, r2.body)
				}
			}
			if r := s.do(t, client{}, rt.method, path("site-a"), body("site-a")); r.status != http.StatusUnauthorized {
				t.Errorf("anonymous: %d, want 401", r.status)
			}
			if !strings.HasPrefix(rt.method, "G") {
				c := own[0].client // an owner's session…
				c.noCSRF = true    // …without its CSRF token
				if r := s.do(t, c, rt.method, path("site-a"), body("site-a")); r.status != http.StatusForbidden || !strings.Contains(string(r.body), `"csrf"`) {
					t.Errorf("no CSRF token: %d %s", r.status, r.body)
				}
			}
		})
	}

	t.Run("DELETE /v1/sites/{site}", func(t *testing.T) {
		for _, c := range append(own[2:], caller{strangers[0], ""}, caller{strangers[1], ""}) {
			r := s.do(t, c.client, "DELETE", "/v1/sites/site-a", nil)
			want := http.StatusForbidden
			if c.role == "" {
				want = http.StatusNotFound
			}
			if r.status != want {
				t.Errorf("%s: %d, want %d", c.name, r.status, want)
			}
		}
		if r := s.do(t, own[0].client, "DELETE", "/v1/sites/site-a", nil); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "not_confirmed") {
			t.Errorf("owner without confirm_site: %d %s", r.status, r.body)
		}
		if r := s.do(t, own[0].client, "DELETE", "/v1/sites/site-a?confirm_site=site-a", nil); r.status != http.StatusNoContent {
			t.Fatalf("owner: %d %s", r.status, r.body)
		}
		if r := s.do(t, own[0].client, "GET", "/v1/sites/site-a", nil); r.status != http.StatusNotFound {
			t.Errorf("deleted site: %d", r.status)
		}
		if _, err := s.svc.Manager.CreateSite(ctx, manage.Principal{Email: adminEmail}, "site-a", "Again", nil); err == nil {
			t.Error("a deleted site's id was given out again")
		}
	})

	t.Run("list", func(t *testing.T) {
		got := decode[struct{ Sites []manage.SiteRole }](t, s.do(t, strangers[1], "GET", "/v1/sites", nil))
		if len(got.Sites) != 1 || got.Sites[0].ID != "site-b" {
			t.Errorf("a site-b token lists %+v", got.Sites)
		}
		if r := s.do(t, strangers[1], "POST", "/v1/sites", map[string]any{"id": "x", "name": "x"}); r.status != http.StatusForbidden {
			t.Errorf("a token created a site: %d", r.status)
		}
	})
}
