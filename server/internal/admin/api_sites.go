package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
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

// apiDeleteSite: DELETE /v1/sites/{site}?confirm_site={site} — the log
// stays until its retention ends, but nobody can read it here any more.
func (h *Handler) apiDeleteSite(c *fiber.Ctx) error {
	if err := h.confirmDeletion(c, c.Query("confirm_site")); err != nil {
		return err
	}
	if err := h.Manager.DeleteSite(ctx(c), principal(c), siteOf(c)); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

type renameSiteRequest struct {
	Name string `json:"name"`
}

// apiRenameSite: PATCH /v1/sites/{site} — owners change the site's name.
func (h *Handler) apiRenameSite(c *fiber.Ctx) error {
	var req renameSiteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	site, err := h.Manager.RenameSite(ctx(c), principal(c), siteOf(c), req.Name)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"id": site.ID, "name": site.Name, "created_at": site.CreatedAt, "role": roleOf(c)})
}

func (h *Handler) snippet(site string) string {
	return `<script src="` + h.PublicBase + `/b/` + site + `.js" async></script>`
}

// apiGetDraft: GET /v1/sites/{site}/draft — with the draft's revision as
// its ETag, which a PUT sends back in If-Match.
func (h *Handler) apiGetDraft(c *fiber.Ctx) error {
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(d.Revision))
	return c.JSON(d)
}

// apiPutDraft: PUT /v1/sites/{site}/draft — the body is the configuration,
// If-Match the ETag of the draft it was made from (or * to replace the
// draft whatever it is). A draft may be invalid; the answer lists its
// problems.
func (h *Handler) apiPutDraft(c *fiber.Ctx) error {
	if err := decodeJSON(c, new(map[string]any)); err != nil {
		return err
	}
	// A body that is not a configuration is refused as such, If-Match or not.
	if _, err := manage.LenientConfig(c.Body()); err != nil {
		return err
	}
	base, err := ifMatch(c.Get(fiber.HeaderIfMatch))
	if err != nil {
		return err
	}
	d, err := h.Manager.SaveDraftAt(ctx(c), principal(c), siteOf(c), base, c.Body())
	var stale *manage.StaleDraftError
	if errors.As(err, &stale) {
		return staleDraft(c, stale, c.Body())
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag(d.Revision))
	return c.JSON(d)
}

func etag(rev string) string { return `"` + rev + `"` }

// ifMatch reads the revision a draft save is based on. Without it a save
// could undo one it never saw, so it is required (428), and it names one
// strong ETag or *.
func ifMatch(h string) (string, error) {
	h = strings.TrimSpace(h)
	switch {
	case h == "":
		return "", apierr.New(http.StatusPreconditionRequired, "precondition_required", "If-Match",
			"saving the draft needs If-Match: the ETag of GET /v1/sites/{site}/draft when you read it, so that the save cannot overwrite a change you have not seen; If-Match: * replaces the draft whatever it is")
	case h == manage.AnyRevision:
		return h, nil
	case len(h) > 2 && h[0] == '"' && h[len(h)-1] == '"' && !strings.ContainsAny(h[1:len(h)-1], `",`):
		return h[1 : len(h)-1], nil
	}
	return "", apierr.New(http.StatusBadRequest, "invalid_if_match", "If-Match",
		"If-Match is one ETag of the draft, in quotes as GET /v1/sites/{site}/draft sent it, or *")
}

// staleDraft is 412: the save was based on an older revision and nothing
// was saved. The answer carries the draft as it is now (who saved it, when,
// the configuration) and, when mine is a configuration, how it differs
// from the one refused.
func staleDraft(c *fiber.Ctx, e *manage.StaleDraftError, mine []byte) error {
	cur := e.Current
	c.Set(fiber.HeaderETag, etag(cur.Revision))
	differs := []manage.Change{}
	if mine != nil {
		if ch := manage.Diff(cur.Config, mine); ch != nil {
			differs = ch
		}
	}
	return c.Status(http.StatusPreconditionFailed).JSON(fiber.Map{
		"error": fiber.Map{"code": "draft_changed", "message": e.Error(), "field": "If-Match"},
		"current": fiber.Map{"revision": cur.Revision, "updated_by": cur.UpdatedBy, "updated_at": cur.UpdatedAt,
			"config": cur.Config, "valid": cur.Valid},
		"based_on": e.Base,
		// old: the saved draft's value, new: the refused save's.
		"differs": differs,
	})
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
	// ConfirmSite is the site's id, needed to shorten retention.
	ConfirmSite string `json:"confirm_site"`
	// ReplaceDraft lets a rollback replace unpublished changes in the draft.
	ReplaceDraft bool `json:"replace_draft"`
}

// apiPublish: POST /v1/sites/{site}/publish — the draft becomes a version.
func (h *Handler) apiPublish(c *fiber.Ctx) error {
	var req publishRequest
	if len(c.Body()) > 0 {
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
	}
	v, changed, err := h.Manager.PublishWith(ctx(c), principal(c), siteOf(c), manage.PublishOptions{Note: req.Note, ConfirmSite: req.ConfirmSite})
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
	v, changed, err := h.Manager.RollbackWith(ctx(c), principal(c), siteOf(c), n,
		manage.PublishOptions{Note: req.Note, ConfirmSite: req.ConfirmSite, ReplaceDraft: req.ReplaceDraft})
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
