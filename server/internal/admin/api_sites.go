package admin

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
)

// apiListSites: GET /v1/sites — the sites the caller may see.
func (h *Handler) apiListSites(c *fiber.Ctx) error {
	sites, err := h.Manager.Sites(ctx(c), principal(c))
	if err != nil {
		return err
	}
	if sites == nil {
		sites = []manage.SiteRole{}
	}
	return c.JSON(fiber.Map{"sites": sites})
}

type createSiteRequest struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	AllowedOrigins []string `json:"allowed_origins"`
}

// apiCreateSite: POST /v1/sites — a signed-in user creates a site and owns it.
func (h *Handler) apiCreateSite(c *fiber.Ctx) error {
	var req createSiteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	site, err := h.Manager.CreateSite(ctx(c), principal(c), req.ID, req.Name, req.AllowedOrigins)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(manage.SiteRole{Site: *site, Role: manage.Owner})
}

// apiGetSite: GET /v1/sites/{site}.
func (h *Handler) apiGetSite(c *fiber.Ctx) error {
	site, err := h.Manager.Site(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": site.ID, "name": site.Name, "created_at": site.CreatedAt, "role": roleOf(c),
		"snippet": h.snippet(site.ID)})
}

// apiDeleteSite: DELETE /v1/sites/{site} — the log stays until its retention ends.
func (h *Handler) apiDeleteSite(c *fiber.Ctx) error {
	if err := h.Manager.DeleteSite(ctx(c), principal(c), siteOf(c)); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (h *Handler) snippet(site string) string {
	return `<script src="` + h.PublicBase + `/b/` + site + `.js" async></script>`
}

// apiGetDraft: GET /v1/sites/{site}/draft.
func (h *Handler) apiGetDraft(c *fiber.Ctx) error {
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// apiPutDraft: PUT /v1/sites/{site}/draft — the body is the configuration.
// A draft may be invalid; the answer lists its problems.
func (h *Handler) apiPutDraft(c *fiber.Ctx) error {
	if err := decodeJSON(c, new(map[string]any)); err != nil {
		return err
	}
	d, err := h.Manager.SaveDraft(ctx(c), principal(c), siteOf(c), c.Body())
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// apiValidate: POST /v1/sites/{site}/validate — checks the body (a
// configuration) without saving it.
func (h *Handler) apiValidate(c *fiber.Ctx) error {
	if err := decodeJSON(c, new(map[string]any)); err != nil {
		return err
	}
	ps := manage.Problems(c.Body())
	return c.JSON(fiber.Map{"valid": len(ps) == 0, "problems": ps})
}

// apiPublishPreview: GET /v1/sites/{site}/publish — what publishing the draft would change.
func (h *Handler) apiPublishPreview(c *fiber.Ctx) error {
	pv, err := h.Manager.PublishPreview(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	return c.JSON(pv)
}

type publishRequest struct {
	Note string `json:"note"`
}

// apiPublish: POST /v1/sites/{site}/publish — the draft becomes a version.
func (h *Handler) apiPublish(c *fiber.Ctx) error {
	var req publishRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	v, changed, err := h.Manager.Publish(ctx(c), principal(c), siteOf(c), req.Note)
	var ie *manage.InvalidDraftError
	if errors.As(err, &ie) {
		return problemsError(c, ie)
	}
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !changed {
		status = http.StatusOK
	}
	return c.Status(status).JSON(fiber.Map{"version": v.Number, "sha256": v.Hash, "published_at": v.PublishedAt,
		"published_by": v.PublishedBy, "note": v.Note, "changed": changed})
}

// apiVersions: GET /v1/sites/{site}/versions.
func (h *Handler) apiVersions(c *fiber.Ctx) error {
	vs, err := h.Manager.Versions(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	if vs == nil {
		vs = []manage.VersionInfo{}
	}
	return c.JSON(fiber.Map{"versions": vs})
}

// apiVersion: GET /v1/sites/{site}/versions/{n} — exactly as published.
func (h *Handler) apiVersion(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	v, err := h.Manager.Version(ctx(c), siteOf(c), n)
	if manage.IsNotFound(err) {
		return errVersionNotFound
	}
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"version": v.Number, "sha256": v.Hash, "published_at": v.PublishedAt,
		"published_by": v.PublishedBy, "note": v.Note, "fingerprint": v.Config.Fingerprint(), "config": rawJSON(v.JSON)})
}

// apiRollback: POST /v1/sites/{site}/versions/{n}/rollback.
func (h *Handler) apiRollback(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	var req publishRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	v, changed, err := h.Manager.Rollback(ctx(c), principal(c), siteOf(c), n, req.Note)
	if manage.IsNotFound(err) {
		return errVersionNotFound
	}
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"version": v.Number, "sha256": v.Hash, "changed": changed})
}

// apiStats: GET /v1/sites/{site}/stats?from=&to=[&format=csv].
func (h *Handler) apiStats(c *fiber.Ctx) error {
	from, to, err := period(c, h.Now())
	if err != nil {
		return err
	}
	st, err := h.Manager.Stats(ctx(c), siteOf(c), from, to)
	if err != nil {
		return err
	}
	switch c.Query("format", "json") {
	case "json":
		return c.JSON(st)
	case "csv":
		return sendStatsCSV(c, siteOf(c), st)
	}
	return apiBadFormat
}
