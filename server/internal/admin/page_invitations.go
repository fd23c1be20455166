package admin

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
)

// inviteCSRFCookie protects the new-account form of an invitation, which
// is posted before there is a session (double submit, as at sign-in).
const inviteCSRFCookie = "samtycke_invite"

// getInvitation shows an invitation: accept it when signed in as the
// invited address; otherwise sign in, or create the account.
func (h *Handler) getInvitation(c *fiber.Ctx) error {
	return h.showInvitation(c, http.StatusOK, "")
}

func (h *Handler) showInvitation(c *fiber.Ctx, status int, msg string) error {
	secret := c.Params("secret")
	v := h.newView(c, "Invitation")
	inv, err := h.Manager.Invitation(ctx(c), secret)
	if ae := clientError(err); ae != nil {
		v.Error = ae.Message
		return h.render(c.Status(ae.Status), "invitation", v)
	}
	if err != nil {
		return err
	}
	if sess, err := h.Sessions.Get(ctx(c), c.Cookies(h.cookieName())); err == nil {
		v.User, v.CSRF = sess.Email, sess.CSRF
	} else if !errors.Is(err, auth.ErrNoSession) {
		return err
	}
	name := inv.Site
	if s, err := h.Manager.Site(ctx(c), inv.Site); err == nil {
		name = s.Name
	}
	token := auth.RandomToken(24)
	c.Cookie(&fiber.Cookie{Name: inviteCSRFCookie, Value: token, Path: "/admin/invitations/", HTTPOnly: true,
		Secure: h.secure, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: 3600})
	v.Error = msg
	v.Data = map[string]any{"Invitation": inv, "SiteName": name, "Secret": secret, "FormCSRF": token,
		"Mine": v.User == inv.Email, "Next": "/admin/invitations/" + secret}
	return h.render(c.Status(status), "invitation", v)
}

// postAcceptInvitation makes the signed-in person a member.
func (h *Handler) postAcceptInvitation(c *fiber.Ctx) error {
	mb, err := h.Manager.AcceptInvitation(ctx(c), principal(c), strings.Clone(c.Params("secret")))
	if ae := clientError(err); ae != nil {
		return h.showInvitation(c, ae.Status, ae.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+mb.Site+"?done=joined", http.StatusSeeOther)
}

// postInvitationAccount creates the invited address's account, signs it in
// and accepts.
func (h *Handler) postInvitationAccount(c *fiber.Ctx) error {
	form, cookie := bodyValue(c, "_csrf"), c.Cookies(inviteCSRFCookie)
	if form == "" || subtle.ConstantTimeCompare([]byte(form), []byte(cookie)) != 1 {
		return errCSRF
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		return h.showInvitation(c, http.StatusBadRequest, "The two passwords differ.")
	}
	sess, mb, err := h.Manager.AcceptAsNewAccount(ctx(c), strings.Clone(c.Params("secret")), pw, c.IP())
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return h.showInvitation(c, ae.Status, ae.Message)
	}
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: h.cookieName(), Value: sess.ID, Path: "/", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: inviteCSRFCookie, Value: "", Path: "/admin/invitations/", Expires: time.Unix(0, 0), MaxAge: -1})
	return c.Redirect("/admin/sites/"+mb.Site+"?done=joined", http.StatusSeeOther)
}
