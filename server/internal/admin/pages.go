package admin

import (
	"bytes"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/banner"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// mountPages adds the dashboard's pages under /admin/. Site pages take the
// same role checks as the API routes they mirror.
func (h *Handler) mountPages(app fiber.Router, read, edit, own, audit fiber.Handler) {
	app.Get("/admin/static/:file", h.getStatic)
	// The preview banner posts its consents here; they are dropped.
	app.Post(banner.PreviewEndpoint, func(c *fiber.Ctx) error { return c.SendStatus(http.StatusNoContent) })

	// One group, so its middleware runs once per request: a second Group
	// on the same prefix would add its handlers to every /admin request again.
	pub := app.Group("/admin", h.securityHeaders, h.htmlErrors)
	pub.Get("/login", h.getLogin)
	pub.Post("/login", h.postLogin)
	pub.Post("/login/code", h.postLoginCode)
	// An invitation link works signed in or not: it offers sign-in or a
	// new account for the invited address.
	pub.Get("/invitations/:secret", h.getInvitation)
	pub.Post("/invitations/:secret/account", h.postInvitationAccount)
	pub.Post("/invitations/:secret", h.signedIn, h.postAcceptInvitation)

	a := pub.Group("", h.signedIn)
	a.Get("/", h.getSites)
	a.Post("/sites", h.postSite)
	a.Post("/logout", h.postLogout)
	a.Post("/logout-everywhere", h.postLogoutEverywhere)
	a.Get("/account", h.person, h.getAccount)
	a.Post("/account/password", h.person, h.postPassword)
	a.Get("/account/two-factor", h.person, h.getTwoFactor)
	a.Post("/account/two-factor", h.person, h.postTwoFactor)
	a.Post("/account/two-factor/remove", h.person, h.postRemoveTwoFactor)
	a.Post("/account/sessions/end", h.person, h.postEndSession)
	a.Post("/sites/:site/policy", own, h.postPolicy)
	a.Get("/sites/:site", read, h.getSite)
	a.Post("/sites/:site/delete", own, h.postDeleteSite)
	a.Post("/sites/:site/rename", own, h.postRenameSite)
	if h.Scans != nil {
		a.Get("/sites/:site/scans", read, h.getScans)
		a.Post("/sites/:site/scans/add", edit, h.postScanAdd)
	}
	a.Get("/sites/:site/edit", read, h.getEditor)
	a.Post("/sites/:site/edit", edit, h.postEditor)
	a.Get("/sites/:site/preview", read, h.getPreview)
	a.Get("/sites/:site/preview.js", read, h.getPreviewScript)
	a.Get("/sites/:site/preview/:which/details.json", read, h.getPreviewDetails)
	a.Get("/sites/:site/publish", read, h.getPublish)
	a.Post("/sites/:site/publish", edit, h.postPublish)
	a.Get("/sites/:site/versions", read, h.getVersions)
	a.Get("/sites/:site/versions/:n", read, h.getVersion)
	a.Post("/sites/:site/versions/:n/rollback", edit, h.postRollback)
	a.Get("/sites/:site/stats", read, h.getStats)
	a.Get("/sites/:site/audit", audit, h.getAudit)
	if h.Records != nil {
		a.Get("/sites/:site/consents", audit, h.getConsents) // issue 15
	}
	a.Get("/sites/:site/members", own, h.getMembers)
	a.Post("/sites/:site/members", own, h.postMember)
	a.Post("/sites/:site/members/remove", own, h.postRemoveMember)
	a.Post("/sites/:site/invitations/withdraw", own, h.postWithdrawInvitation)
	a.Get("/sites/:site/tokens", own, h.getTokens)
	a.Post("/sites/:site/tokens", own, h.postToken)
	a.Post("/sites/:site/tokens/revoke", own, h.postRevokeToken)
}

// securityHeaders: no inline script or style anywhere, no framing (except
// the preview, framed by the editor on this origin), no sniffing, no
// referrer leaving the dashboard.
func (h *Handler) securityHeaders(c *fiber.Ctx) error {
	frame := "'none'"
	if strings.HasSuffix(c.Path(), "/preview") {
		frame = "'self'"
	}
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors "+frame)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	if frame == "'none'" {
		c.Set("X-Frame-Options", "DENY")
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// htmlErrors renders the errors of dashboard pages as pages: sign-in for
// 401, a short explanation otherwise. (API routes keep JSON errors.)
func (h *Handler) htmlErrors(c *fiber.Ctx) error {
	err := c.Next()
	if err == nil {
		return nil
	}
	var ae *apierr.Error
	var fe *fiber.Error
	status, msg := http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
	switch {
	case errors.As(err, &ae):
		status, msg = ae.Status, ae.Message
	case errors.As(err, &fe):
		status, msg = fe.Code, fe.Message
	case manage.IsNotFound(err):
		status, msg = http.StatusNotFound, errNotFound.Message
	default:
		h.Log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	}
	if status == http.StatusUnauthorized {
		next := "/admin/"
		if c.Method() == fiber.MethodGet {
			next = string(c.Request().URI().RequestURI())
		}
		return c.Redirect("/admin/login?next="+url.QueryEscape(next), http.StatusSeeOther)
	}
	heading := map[int]string{403: "Not allowed", 404: "Not found", 429: "Too many requests"}[status]
	if heading == "" {
		heading = "Something went wrong"
		if status < 500 {
			heading = "That did not work"
		}
	}
	v := h.newView(c, heading)
	v.Data = map[string]string{"Heading": heading, "Message": msg}
	return h.render(c.Status(status), "error", v)
}

// newView fills what every page shows.
func (h *Handler) newView(c *fiber.Ctx, title string) *view {
	v := &view{Title: title}
	if s := session(c); s != nil {
		v.User, v.CSRF = s.Email, s.CSRF
	}
	if id := siteOf(c); id != "" {
		if site, err := h.Manager.Site(ctx(c), id); err == nil {
			v.Site, v.Role = site, roleOf(c)
		}
	}
	v.Flash = flash(c)
	return v
}

// flash is a one-line confirmation carried by ?done= after a redirect.
func flash(c *fiber.Ctx) string {
	return map[string]string{
		"saved": "Draft saved.", "published": "Published.", "rolledback": "Rolled back: the old configuration is published as a new version.",
		"member": "Member saved.", "removed": "Member removed.", "withdrawn": "Invitation withdrawn.", "password": "Password changed: your other sessions have ended.", "two-factor-off": "Two-factor authentication is off.", "session-ended": "Session ended.", "policy": "Security policy saved.", "joined": "Invitation accepted: you are a member of this site.", "revoked": "Token revoked.", "created": "Site created.", "renamed": "Site renamed.",
		"unchanged": "Nothing to publish: the draft equals the current version.",
	}[c.Query("done")]
}

func (h *Handler) render(c *fiber.Ctx, page string, v *view) error {
	t, ok := h.pages[page]
	if !ok {
		return errors.New("admin: no page " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "page_"+page+".html", v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// getStatic serves the CSS and scripts; names carry a content hash
// (?v=), so they are cached for a year.
func (h *Handler) getStatic(c *fiber.Ctx) error {
	a, ok := h.static[c.Params("file")]
	if !ok {
		return errNotFound
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	c.Set("X-Content-Type-Options", "nosniff")
	if c.Query("v") == a.Hash {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	return c.Send(a.Body)
}

func (h *Handler) asset(name string) string {
	return "/admin/static/" + name + "?v=" + h.static[name].Hash
}
