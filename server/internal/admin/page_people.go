package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// getMembers lists the site's members and open invitations, with the form
// to invite someone.
func (h *Handler) getMembers(c *fiber.Ctx) error { return h.showMembers(c, http.StatusOK, "", nil) }

func (h *Handler) showMembers(c *fiber.Ctx, status int, msg string, invited *manage.Invited) error {
	ms, err := h.Manager.Members(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	invs, err := h.Manager.Invitations(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	pol, err := h.Manager.SitePolicy(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	emails := make([]string, len(ms))
	for i, mb := range ms {
		emails[i] = mb.Email
	}
	factors, err := h.Manager.WithSecondFactor(ctx(c), emails)
	if err != nil {
		return err
	}
	v := h.newView(c, "Members")
	v.Tab, v.Error = "members", msg
	v.Data = map[string]any{"Members": ms, "Invitations": invs, "Roles": manage.Roles, "Invited": invited,
		"Policy": pol, "TwoFactor": factors}
	return h.render(c.Status(status), "members", v)
}

// postMember invites someone, or changes a member's role. The page says the
// same for an email with an account and one without.
func (h *Handler) postMember(c *fiber.Ctx) error {
	inv, err := h.Manager.Invite(ctx(c), principal(c), siteOf(c), strings.Clone(c.FormValue("email")),
		manage.Role(c.FormValue("role")))
	if ae := clientError(err); ae != nil {
		return h.showMembers(c, ae.Status, ae.Message, nil)
	}
	if err != nil {
		return err
	}
	if inv.Member != nil {
		return c.Redirect("/admin/sites/"+siteOf(c)+"/members?done=member", http.StatusSeeOther)
	}
	// The link is shown this once, so no redirect.
	return h.showMembers(c, http.StatusCreated, "", inv)
}

// postWithdrawInvitation closes an open invitation.
func (h *Handler) postWithdrawInvitation(c *fiber.Ctx) error {
	err := h.Manager.WithdrawInvitation(ctx(c), principal(c), siteOf(c), strings.Clone(c.FormValue("id")))
	if ae := clientError(err); ae != nil {
		return h.showMembers(c, ae.Status, ae.Message, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/members?done=withdrawn", http.StatusSeeOther)
}

// postPolicy sets what the site requires of its members.
func (h *Handler) postPolicy(c *fiber.Ctx) error {
	factor := "" // a token has no session; RequireTwoFactor lets it
	if s := session(c); s != nil {
		factor = s.SecondFactor
	}
	err := h.Manager.RequireTwoFactor(ctx(c), principal(c), factor, siteOf(c), c.FormValue("require_two_factor") == "on")
	if ae := clientError(err); ae != nil {
		return h.showMembers(c, ae.Status, ae.Message, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/members?done=policy", http.StatusSeeOther)
}

// postRemoveMember takes a member's role away.
func (h *Handler) postRemoveMember(c *fiber.Ctx) error {
	err := h.Manager.RemoveMember(ctx(c), principal(c), siteOf(c), strings.Clone(c.FormValue("email")))
	if ae := clientError(err); ae != nil {
		return h.showMembers(c, ae.Status, ae.Message, nil)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/members?done=removed", http.StatusSeeOther)
}

func clientError(err error) *apierr.Error {
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return ae
	}
	return nil
}

// getTokens lists the site's API tokens.
func (h *Handler) getTokens(c *fiber.Ctx) error { return h.showTokens(c, http.StatusOK, nil, "") }

func (h *Handler) showTokens(c *fiber.Ctx, status int, created map[string]string, msg string) error {
	ts, err := h.Manager.Tokens(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "API tokens")
	v.Tab, v.Error = "tokens", msg
	data := map[string]any{"Tokens": ts, "Roles": manage.Roles}
	for k, val := range created {
		data[k] = val
	}
	v.Data = data
	return h.render(c.Status(status), "tokens", v)
}

// postToken creates a token and shows its secret, this once.
func (h *Handler) postToken(c *fiber.Ctx) error {
	t, secret, err := h.Manager.CreateToken(ctx(c), principal(c), siteOf(c), strings.Clone(c.FormValue("name")), manage.Role(c.FormValue("role")))
	if ae := clientError(err); ae != nil {
		return h.showTokens(c, ae.Status, nil, ae.Message)
	}
	if err != nil {
		return err
	}
	return h.showTokens(c.Status(http.StatusCreated), http.StatusCreated, map[string]string{"Secret": secret, "NewName": t.Name}, "")
}

// postRevokeToken revokes a token.
func (h *Handler) postRevokeToken(c *fiber.Ctx) error {
	err := h.Manager.RevokeToken(ctx(c), principal(c), siteOf(c), strings.Clone(c.FormValue("id")))
	if ae := clientError(err); ae != nil {
		return h.showTokens(c, ae.Status, nil, ae.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/tokens?done=revoked", http.StatusSeeOther)
}

// getAudit shows the site's audit trail, filtered.
func (h *Handler) getAudit(c *fiber.Ctx) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	evs, err := h.Manager.AuditTrail(ctx(c), q)
	if err != nil {
		return err
	}
	v := h.newView(c, "Audit trail")
	v.Tab = "audit"
	v.Data = map[string]any{"Events": evs, "Q": q, "From": c.Query("from"), "To": c.Query("to"),
		"Actions": []string{"", "login", "login.failed", "login.limited", "logout.everywhere", "site.create", "site.delete", "draft.save", "publish", "rollback", "member.put",
			"member.remove", "member.invite", "member.invite_withdrawn", "member.join", "token.create", "token.revoke", "export", "lookup",
			"site.rename", "site.require_two_factor", "retention_shortened", "two_factor.enable", "two_factor.disable", "user.password"}}
	return h.render(c, "audit", v)
}
