package admin

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
)

var errNotAPerson = apierr.New(http.StatusForbidden, "forbidden", "", "these are a signed-in person's own pages; an API token has none")

// person admits a signed-in session only: the account pages (a password, a
// second factor, sessions) are a person's, not a token's.
func (h *Handler) person(c *fiber.Ctx) error {
	if session(c) == nil {
		return errNotAPerson
	}
	return c.Next()
}

// getAccount shows the signed-in person's own account: password, second
// factor and sessions.
func (h *Handler) getAccount(c *fiber.Ctx) error { return h.showAccount(c, http.StatusOK, "", nil) }

func (h *Handler) showAccount(c *fiber.Ctx, status int, msg string, extra map[string]any) error {
	p := principal(c)
	has, err := h.Manager.HasSecondFactor(ctx(c), p.Email)
	if err != nil {
		return err
	}
	list, err := h.Sessions.List(ctx(c), p.Email)
	if err != nil {
		return err
	}
	v := h.newView(c, "Your account")
	v.Error = msg
	data := map[string]any{"TwoFactor": has, "Sessions": list, "Current": auth.Handle(session(c).ID),
		"ThisFactor": session(c).SecondFactor}
	for k, x := range extra {
		data[k] = x
	}
	v.Data = data
	return h.render(c.Status(status), "account", v)
}

// postPassword changes the password; the other sessions end, this browser
// gets a new one.
func (h *Handler) postPassword(c *fiber.Ctx) error {
	next := c.FormValue("password")
	if next != c.FormValue("password2") {
		return h.showAccount(c, http.StatusBadRequest, "The two new passwords differ.", nil)
	}
	if err := h.Manager.ChangePassword(ctx(c), principal(c), c.FormValue("current"), next); err != nil {
		if ae := clientError(err); ae != nil {
			return h.showAccount(c, ae.Status, ae.Message, nil)
		}
		return err
	}
	old := session(c)
	sess, err := h.Sessions.Start(ctx(c), auth.Session{Email: old.Email, SecondFactor: old.SecondFactor, IP: c.IP(),
		UserAgent: strings.Clone(c.Get(fiber.HeaderUserAgent))})
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: h.cookieName(), Value: sess.ID, Path: "/", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode})
	return c.Redirect("/admin/account?done=password", http.StatusSeeOther)
}

// getTwoFactor shows a new secret to scan, with the form for its first code.
func (h *Handler) getTwoFactor(c *fiber.Ctx) error {
	setup, err := h.Manager.NewTOTP(principal(c))
	if err != nil {
		return err
	}
	return h.showTwoFactor(c, http.StatusOK, "", setup)
}

func (h *Handler) showTwoFactor(c *fiber.Ctx, status int, msg string, setup *auth.TOTPSetup) error {
	v := h.newView(c, "Set up two-factor authentication")
	v.Error = msg
	// A data: URI the template would not trust as a link; it is our own PNG.
	v.Data = map[string]any{"Setup": setup, "QR": template.URL(setup.QR)}
	return h.render(c.Status(status), "two_factor", v)
}

// postTwoFactor turns the second factor on with its first code and shows
// the recovery codes, this once. This session counts as confirmed by it.
func (h *Handler) postTwoFactor(c *fiber.Ctx) error {
	secret := strings.Clone(c.FormValue("secret"))
	codes, err := h.Manager.EnableTOTP(ctx(c), principal(c), secret, c.FormValue("code"))
	if ae := clientError(err); ae != nil {
		setup, serr := h.Manager.NewTOTP(principal(c))
		if serr != nil {
			return serr
		}
		if ae.Code == "bad_code" || ae.Code == "code_used" {
			// The same secret again: the app has it already.
			if again, err := auth.TOTPSetupFor(setup, secret); err == nil {
				setup = again
			}
		}
		return h.showTwoFactor(c, ae.Status, ae.Message, setup)
	}
	if err != nil {
		return err
	}
	if err := h.Sessions.ConfirmSecondFactor(ctx(c), session(c), "totp"); err != nil {
		return err
	}
	return h.showAccount(c, http.StatusCreated, "", map[string]any{"RecoveryCodes": codes, "TwoFactor": true, "ThisFactor": "totp"})
}

// postRemoveTwoFactor turns the second factor off (password and a code).
func (h *Handler) postRemoveTwoFactor(c *fiber.Ctx) error {
	err := h.Manager.DisableTOTP(ctx(c), principal(c), c.FormValue("password"), c.FormValue("code"))
	if ae := clientError(err); ae != nil {
		return h.showAccount(c, ae.Status, ae.Message, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/account?done=two-factor-off", http.StatusSeeOther)
}

// postEndSession ends one of the person's sessions.
func (h *Handler) postEndSession(c *fiber.Ctx) error {
	if err := h.Sessions.End(ctx(c), principal(c).Email, strings.Clone(c.FormValue("session"))); err != nil {
		return h.showAccount(c, http.StatusNotFound, "That session has ended already.", nil)
	}
	return c.Redirect("/admin/account?done=session-ended", http.StatusSeeOther)
}
