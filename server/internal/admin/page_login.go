package admin

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/auth"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// loginCSRFCookie protects the login form itself (login CSRF) before there
// is a session: the form's token must equal this cookie's (double submit).
const loginCSRFCookie = "samtycke_login"

// getLogin shows the sign-in form.
func (h *Handler) getLogin(c *fiber.Ctx) error {
	return h.showLogin(c, http.StatusOK, "", "")
}

func (h *Handler) showLogin(c *fiber.Ctx, status int, email, msg string) error {
	token := auth.RandomToken(24)
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Value: token, Path: "/admin/login", HTTPOnly: true,
		Secure: h.secure, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: 3600})
	v := h.newView(c, "Sign in")
	v.Error = msg
	v.Data = map[string]string{"CSRF": token, "Next": safeNext(c.Query("next", c.FormValue("next"))), "Email": email}
	return h.render(c.Status(status), "login", v)
}

// safeNext keeps redirects after sign-in inside the dashboard.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/admin/"
}

// postLogin checks the password (rate limited per account and address),
// then starts a new session: a new id on every sign-in, and the old
// session, if any, ends.
func (h *Handler) postLogin(c *fiber.Ctx) error {
	form, cookie := bodyValue(c, "_csrf"), c.Cookies(loginCSRFCookie)
	if form == "" || subtle.ConstantTimeCompare([]byte(form), []byte(cookie)) != 1 {
		return errCSRF
	}
	email := strings.Clone(c.FormValue("email"))
	sess, err := h.Manager.LoginFrom(ctx(c), email, c.FormValue("password"), c.IP(), strings.Clone(c.Get(fiber.HeaderUserAgent)))
	var need *manage.NeedSecondFactor
	if errors.As(err, &need) {
		c.Cookie(&fiber.Cookie{Name: challengeCookie, Value: need.Challenge, Path: "/admin/login", HTTPOnly: true,
			Secure: h.secure, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: int(auth.ChallengeTTL.Seconds())})
		return h.showCode(c, http.StatusOK, "")
	}
	if ae := loginError(c, err); ae != nil {
		return h.showLogin(c, ae.Status, email, ae.Message)
	}
	if err != nil {
		return err
	}
	return h.startSession(c, sess)
}

// challengeCookie carries a login that waits for its second factor.
const challengeCookie = "samtycke_2fa"

// loginError is a refusal to show on the sign-in form (a wrong password or
// code, a wait); it sets Retry-After for a wait.
func loginError(c *fiber.Ctx, err error) *apierr.Error {
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status >= 500 {
		return nil
	}
	if ae.RetryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(ae.RetryAfter.Seconds())))
	}
	return ae
}

// showCode asks for the second factor.
func (h *Handler) showCode(c *fiber.Ctx, status int, msg string) error {
	token := auth.RandomToken(24)
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Value: token, Path: "/admin/login", HTTPOnly: true,
		Secure: h.secure, SameSite: fiber.CookieSameSiteStrictMode, MaxAge: 3600})
	v := h.newView(c, "Two-factor sign-in")
	v.Error = msg
	v.Data = map[string]string{"CSRF": token, "Next": safeNext(c.FormValue("next"))}
	return h.render(c.Status(status), "login_code", v)
}

// postLoginCode checks the second factor and starts the session.
func (h *Handler) postLoginCode(c *fiber.Ctx) error {
	form, cookie := bodyValue(c, "_csrf"), c.Cookies(loginCSRFCookie)
	if form == "" || subtle.ConstantTimeCompare([]byte(form), []byte(cookie)) != 1 {
		return errCSRF
	}
	sess, err := h.Manager.LoginSecondFactor(ctx(c), c.Cookies(challengeCookie), c.FormValue("code"), c.IP(),
		strings.Clone(c.Get(fiber.HeaderUserAgent)))
	if ae := loginError(c, err); ae != nil {
		if ae.Code == "login_expired" {
			c.Cookie(&fiber.Cookie{Name: challengeCookie, Value: "", Path: "/admin/login", Expires: time.Unix(0, 0), MaxAge: -1})
			return h.showLogin(c, ae.Status, "", ae.Message)
		}
		return h.showCode(c, ae.Status, ae.Message)
	}
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: challengeCookie, Value: "", Path: "/admin/login", Expires: time.Unix(0, 0), MaxAge: -1})
	return h.startSession(c, sess)
}

// startSession sets the new session's cookie (a new id on every sign-in;
// the old session, if any, ends) and goes on to where the person was going.
func (h *Handler) startSession(c *fiber.Ctx, sess *auth.Session) error {
	if old := c.Cookies(h.cookieName()); old != "" {
		_ = h.Sessions.Delete(ctx(c), old)
	}
	c.Cookie(&fiber.Cookie{Name: h.cookieName(), Value: sess.ID, Path: "/", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode})
	c.Cookie(&fiber.Cookie{Name: loginCSRFCookie, Value: "", Path: "/admin/login", Expires: time.Unix(0, 0), MaxAge: -1})
	return c.Redirect(safeNext(c.FormValue("next")), http.StatusSeeOther)
}

// postLogout ends this session.
func (h *Handler) postLogout(c *fiber.Ctx) error {
	if s := session(c); s != nil {
		if err := h.Sessions.Delete(ctx(c), s.ID); err != nil {
			return err
		}
	}
	h.clearSession(c)
	return c.Redirect("/admin/login", http.StatusSeeOther)
}

// postLogoutEverywhere ends every session of this account.
func (h *Handler) postLogoutEverywhere(c *fiber.Ctx) error {
	if err := h.Manager.LogoutEverywhere(ctx(c), principal(c)); err != nil {
		return err
	}
	h.clearSession(c)
	return c.Redirect("/admin/login", http.StatusSeeOther)
}

func (h *Handler) clearSession(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: h.cookieName(), Value: "", Path: "/", HTTPOnly: true, Secure: h.secure,
		SameSite: fiber.CookieSameSiteLaxMode, Expires: time.Unix(0, 0), MaxAge: -1})
}

// bodyValue is a form field from the request body only. Fiber's FormValue
// also reads the query string, where a secret such as a CSRF token leaks
// into logs, history and Referer headers.
func bodyValue(c *fiber.Ctx, key string) string {
	if v := c.Request().PostArgs().Peek(key); v != nil {
		return string(v)
	}
	if f, err := c.MultipartForm(); err == nil && len(f.Value[key]) > 0 {
		return f.Value[key][0]
	}
	return ""
}
