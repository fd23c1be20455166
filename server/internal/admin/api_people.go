package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
)

var (
	errVersionNotFound = apierr.New(http.StatusNotFound, "unknown_version", "n", "no such version")
	apiBadFormat       = apierr.New(http.StatusBadRequest, "invalid_format", "format", "format must be json or csv")
)

// apiMembers: GET /v1/sites/{site}/members.
func (h *Handler) apiMembers(c *fiber.Ctx) error {
	ms, err := h.Manager.Members(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []manage.Member{}
	}
	return c.JSON(fiber.Map{"members": ms})
}

type memberRequest struct {
	Role manage.Role `json:"role"`
	// Password is refused with a clear error: people are invited and
	// choose their own (an API that set it once did).
	Password string `json:"password"`
}

// apiPutMember: PUT /v1/sites/{site}/members/{email} — changes a member's
// role (200), or invites anyone else (202, with the link to pass on). The
// answer does not say whether the email has an account.
func (h *Handler) apiPutMember(c *fiber.Ctx) error {
	var req memberRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Password != "" {
		return apierr.New(http.StatusBadRequest, "password_not_accepted", "password",
			"members are invited: the answer carries a link, and the person chooses their own password when they accept")
	}
	inv, err := h.Manager.Invite(ctx(c), principal(c), siteOf(c), emailParam(c), req.Role)
	if err != nil {
		return err
	}
	if inv.Member != nil {
		return c.JSON(inv.Member)
	}
	return c.Status(http.StatusAccepted).JSON(inv)
}

// apiInvitations: GET /v1/sites/{site}/invitations — the open ones.
func (h *Handler) apiInvitations(c *fiber.Ctx) error {
	invs, err := h.Manager.Invitations(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	if invs == nil {
		invs = []manage.Invitation{}
	}
	return c.JSON(fiber.Map{"invitations": invs})
}

// apiWithdrawInvitation: DELETE /v1/sites/{site}/invitations/{id}.
func (h *Handler) apiWithdrawInvitation(c *fiber.Ctx) error {
	if err := h.Manager.WithdrawInvitation(ctx(c), principal(c), siteOf(c), strings.Clone(c.Params("id"))); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// apiDeleteMember: DELETE /v1/sites/{site}/members/{email}.
func (h *Handler) apiDeleteMember(c *fiber.Ctx) error {
	if err := h.Manager.RemoveMember(ctx(c), principal(c), siteOf(c), emailParam(c)); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// apiTokens: GET /v1/sites/{site}/tokens.
func (h *Handler) apiTokens(c *fiber.Ctx) error {
	ts, err := h.Manager.Tokens(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []manage.Token{}
	}
	return c.JSON(fiber.Map{"tokens": ts})
}

type tokenRequest struct {
	Name string      `json:"name"`
	Role manage.Role `json:"role"`
	// ExpiresInDays is the token's lifetime, 1 to 366 days (0: 90).
	ExpiresInDays int `json:"expires_in_days"`
}

// apiCreateToken: POST /v1/sites/{site}/tokens — the secret is in this
// answer only.
func (h *Handler) apiCreateToken(c *fiber.Ctx) error {
	var req tokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	t, secret, err := h.Manager.CreateToken(ctx(c), principal(c), siteOf(c), req.Name, req.Role, time.Duration(req.ExpiresInDays)*24*time.Hour)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"id": t.ID, "name": t.Name, "role": t.Role,
		"created_at": t.CreatedAt, "expires_at": t.ExpiresAt, "secret": secret})
}

// apiRevokeToken: DELETE /v1/sites/{site}/tokens/{id}.
func (h *Handler) apiRevokeToken(c *fiber.Ctx) error {
	if err := h.Manager.RevokeToken(ctx(c), principal(c), siteOf(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

// apiAudit: GET /v1/sites/{site}/audit?actor=&action=&from=&to=&limit=.
func (h *Handler) apiAudit(c *fiber.Ctx) error {
	q, err := auditQuery(c)
	if err != nil {
		return err
	}
	evs, err := h.Manager.AuditTrail(ctx(c), q)
	if err != nil {
		return err
	}
	if evs == nil {
		evs = []manage.Event{}
	}
	return c.JSON(fiber.Map{"events": evs})
}

func auditQuery(c *fiber.Ctx) (manage.AuditQuery, error) {
	q := manage.AuditQuery{Site: siteOf(c), Actor: c.Query("actor"), Action: c.Query("action"), Limit: 200}
	for _, f := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"from", &q.From, 0}, {"to", &q.To, 1}} {
		if s := c.Query(f.name); s != "" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return q, apierr.New(http.StatusBadRequest, "invalid_date", f.name, "%s must be a date like 2026-01-31", f.name)
			}
			*f.dst = t.AddDate(0, 0, f.add) // to is inclusive
		}
	}
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return q, apierr.New(http.StatusBadRequest, "invalid_limit", "limit", "limit is 1 to 1000")
		}
		q.Limit = n
	}
	return q, nil
}
