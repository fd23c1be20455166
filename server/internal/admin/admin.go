// Package admin is the HTTP face of package manage: the dashboard under
// /admin/ (server-rendered pages, session cookie, CSRF tokens) and the JSON
// API under /v1/sites (bearer API tokens, or the dashboard's session).
// routes.go lists every route with the roles that may use it; each other
// file holds one handler or one group of small ones.
package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/dashboard"
	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// Previewer builds the banner script for a configuration that is not
// published (the draft), for the editor's live preview.
type Previewer interface {
	Preview(site string, cfg *siteconfig.Config, details string) ([]byte, error)
}

// Deps is what the handlers use.
type Deps struct {
	Manager    *manage.Manager
	Sessions   *auth.Sessions
	Preview    Previewer
	PublicBase string // e.g. https://consent.example.se
	Log        *slog.Logger
	Now        func() time.Time

	// Records reads the consent log back for lookups and exports (issue
	// 15); nil leaves those routes out.
	Records Records
	// OwnHeads gives this instance's newest heads (the ledger's state):
	// exports must extend them, so a log ClickHouse has cut short is
	// refused rather than exported as complete. Nil: none.
	OwnHeads func() []ledger.Head
	// Scans reads the scanner's stored reports; nil leaves the scans
	// page out.
	Scans ScanReports
}

// Handler serves the dashboard and the management API.
type Handler struct {
	Deps
	pages  map[string]*template.Template
	static map[string]dashboard.Asset
	secure bool // cookies get Secure: the public URL is https
}

// New parses every dashboard template and compiles the dashboard's script;
// a broken template fails here, not on a request.
func New(d Deps) (*Handler, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	static, err := dashboard.Static()
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	h := &Handler{Deps: d, static: static, secure: strings.HasPrefix(d.PublicBase, "https://")}
	if h.pages, err = dashboard.Pages(templateFuncs(h.asset)); err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	return h, nil
}

// The session cookie. __Host- (on https) binds it to this host and path /.
func (h *Handler) cookieName() string {
	if h.secure {
		return "__Host-samtycke_session"
	}
	return "samtycke_session"
}

// Locals keys.
const (
	localPrincipal = "admin.principal"
	localSession   = "admin.session"
	localRole      = "admin.role"
	localSite      = "admin.site"
)

var (
	errUnauthenticated = apierr.New(http.StatusUnauthorized, "unauthenticated", "", "sign in, or send an API token as Authorization: Bearer smt_…")
	errCSRF            = apierr.New(http.StatusForbidden, "csrf", "", "missing or wrong CSRF token: reload the page and try again")
	errForbidden       = apierr.New(http.StatusForbidden, "forbidden", "", "your role on this site does not allow this")
	errNotFound        = apierr.New(http.StatusNotFound, "not_found", "", "no such site, or not yours")
)

// authenticate finds who is calling: an API token (Authorization: Bearer)
// or a session cookie. A session must prove every state-changing request
// with its CSRF token (header X-CSRF-Token or form field _csrf in the body,
// never the query string, which ends up in logs and Referer headers); a bearer
// token cannot be sent by a browser on its own, so it needs none.
func (h *Handler) authenticate(c *fiber.Ctx) (manage.Principal, error) {
	ctx := c.UserContext()
	if authz := c.Get(fiber.HeaderAuthorization); authz != "" {
		secret, ok := strings.CutPrefix(authz, "Bearer ")
		if !ok {
			return manage.Principal{}, errUnauthenticated
		}
		t, err := h.Manager.Authenticate(ctx, strings.TrimSpace(secret))
		if manage.IsNotFound(err) {
			return manage.Principal{}, apierr.New(http.StatusUnauthorized, "bad_token", "", "unknown or revoked API token")
		}
		if err != nil {
			return manage.Principal{}, err
		}
		return manage.Principal{Token: t}, nil
	}
	sess, err := h.Sessions.Get(ctx, c.Cookies(h.cookieName()))
	if errors.Is(err, auth.ErrNoSession) {
		return manage.Principal{}, errUnauthenticated
	}
	if err != nil {
		return manage.Principal{}, err
	}
	if !safeMethod(c.Method()) {
		token := c.Get("X-CSRF-Token")
		if token == "" {
			token = bodyValue(c, "_csrf")
		}
		if !sess.CheckCSRF(token) {
			return manage.Principal{}, errCSRF
		}
	}
	c.Locals(localSession, sess)
	return manage.Principal{Email: sess.Email}, nil
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// signedIn requires a principal and stores it for the handlers.
func (h *Handler) signedIn(c *fiber.Ctx) error {
	p, err := h.authenticate(c)
	if err != nil {
		return err
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

// RequireRole admits a principal whose role on the site named by the route's
// :site is one of roles. Someone with no role there gets 404, the same as
// for a site that does not exist, so nothing leaks; a role that is not
// enough gets 403. The exports and lookups (the auditors' routes) use it too.
func (h *Handler) RequireRole(roles ...manage.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p, ok := c.Locals(localPrincipal).(manage.Principal)
		if !ok {
			return errUnauthenticated
		}
		site := c.Params("site")
		if !siteconfig.ValidSiteID(site) {
			return errNotFound
		}
		role, err := h.Manager.RoleOn(c.UserContext(), p, site)
		if manage.IsNotFound(err) {
			return errNotFound
		}
		if err != nil {
			return err
		}
		if !hasRole(roles, role) {
			return errForbidden
		}
		if sess := session(c); sess != nil && sess.SecondFactor == "" {
			// People only: a token is not signed in by anyone.
			pol, err := h.Manager.SitePolicy(c.UserContext(), site)
			if err != nil {
				return err
			}
			if pol.RequireTwoFactor {
				return manage.ErrTwoFactorRequired
			}
		}
		c.Locals(localRole, role)
		c.Locals(localSite, strings.Clone(site))
		return c.Next()
	}
}

func hasRole(roles []manage.Role, r manage.Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

func principal(c *fiber.Ctx) manage.Principal {
	p, _ := c.Locals(localPrincipal).(manage.Principal)
	return p
}

func siteOf(c *fiber.Ctx) string { s, _ := c.Locals(localSite).(string); return s }

func roleOf(c *fiber.Ctx) manage.Role { r, _ := c.Locals(localRole).(manage.Role); return r }

func session(c *fiber.Ctx) *auth.Session { s, _ := c.Locals(localSession).(*auth.Session); return s }

// Principal returns who is calling, for handlers mounted behind RequireRole
// elsewhere (the auditors' exports).
func Principal(c *fiber.Ctx) manage.Principal { return principal(c) }

// ctx is the request's context.
func ctx(c *fiber.Ctx) context.Context { return c.UserContext() }
