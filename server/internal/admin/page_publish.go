package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
)

// getPublish shows what publishing the draft would change, and whether
// visitors will be asked again.
func (h *Handler) getPublish(c *fiber.Ctx) error {
	pv, err := h.Manager.PublishPreview(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "Publish")
	v.Tab = "publish"
	v.Data = map[string]any{"Preview": pv}
	return h.render(c, "publish", v)
}

// postPublish publishes the draft; an invalid draft shows its problems.
func (h *Handler) postPublish(c *fiber.Ctx) error {
	_, changed, err := h.Manager.Publish(ctx(c), principal(c), siteOf(c), c.FormValue("note"))
	var ie *manage.InvalidDraftError
	if errors.As(err, &ie) {
		return h.getPublish(c.Status(http.StatusUnprocessableEntity))
	}
	if err != nil {
		return err
	}
	done := "published"
	if !changed {
		done = "unchanged"
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/versions?done="+done, http.StatusSeeOther)
}

// getVersions lists the published versions.
func (h *Handler) getVersions(c *fiber.Ctx) error {
	vs, err := h.Manager.Versions(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "Versions")
	v.Tab = "versions"
	v.Data = map[string]any{"Versions": vs}
	return h.render(c, "versions", v)
}

// getVersion shows one version exactly as published.
func (h *Handler) getVersion(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	ver, err := h.Manager.Version(ctx(c), siteOf(c), n)
	if err != nil {
		return err
	}
	pretty, err := indentJSON(ver.JSON)
	if err != nil {
		return err
	}
	// What a rollback would do to the draft, and whether it holds work
	// that is not published (then the rollback asks first).
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, fmt.Sprintf("Version %d", n))
	v.Tab = "versions"
	v.Data = map[string]any{"Version": ver, "Pretty": pretty, "Fingerprint": ver.Config.Fingerprint(),
		"Rollback": manage.Diff(d.Config, ver.JSON), "Unpublished": h.draftUnpublished(c, d)}
	return h.render(c, "version", v)
}

// draftUnpublished reports whether the draft differs from the current
// version (work a rollback would replace).
func (h *Handler) draftUnpublished(c *fiber.Ctx, d *manage.DraftView) bool {
	cur, err := h.Manager.Version(ctx(c), siteOf(c), d.Published)
	return d.Published == 0 || err != nil || len(manage.Diff(cur.JSON, d.Config)) > 0
}

// postRollback publishes an old version again, as a new one.
func (h *Handler) postRollback(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	if h.draftUnpublished(c, d) && c.FormValue("replace_draft") != "yes" {
		return apierr.New(http.StatusConflict, "draft_not_published", "replace_draft",
			"the draft has changes that are not published; a rollback replaces them. Review them on the version's page and tick the box to go on")
	}
	if _, _, err := h.Manager.Rollback(ctx(c), principal(c), siteOf(c), n, ""); err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/versions?done=rolledback", http.StatusSeeOther)
}
