package admin

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gofiber/fiber/v2"

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
	v := h.newView(c, fmt.Sprintf("Version %d", n))
	v.Tab = "versions"
	v.Data = map[string]any{"Version": ver, "Pretty": pretty, "Fingerprint": ver.Config.Fingerprint()}
	return h.render(c, "version", v)
}

// postRollback publishes an old version again, as a new one.
func (h *Handler) postRollback(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	if _, _, err := h.Manager.Rollback(ctx(c), principal(c), siteOf(c), n, ""); err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/versions?done=rolledback", http.StatusSeeOther)
}
