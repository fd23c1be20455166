package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// getPublish shows what publishing the draft would change, and whether
// visitors will be asked again.
func (h *Handler) getPublish(c *fiber.Ctx) error {
	return h.showPublish(c, "")
}

func (h *Handler) showPublish(c *fiber.Ctx, msg string) error {
	pv, err := h.Manager.PublishPreview(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "Publish")
	v.Error = msg
	v.Tab = "publish"
	v.Data = map[string]any{"Preview": pv}
	return h.render(c, "publish", v)
}

// postPublish publishes the draft; an invalid draft shows its problems.
func (h *Handler) postPublish(c *fiber.Ctx) error {
	_, changed, err := h.Manager.PublishWith(ctx(c), principal(c), siteOf(c),
		manage.PublishOptions{Note: c.FormValue("note"), ConfirmSite: strings.TrimSpace(c.FormValue("confirm_site"))})
	var ie *manage.InvalidDraftError
	if errors.As(err, &ie) {
		return h.getPublish(c.Status(http.StatusUnprocessableEntity))
	}
	// A missing confirmation shows the page again with what to type.
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Code == "confirm_site" {
		return h.showPublish(c.Status(ae.Status), ae.Message)
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
	return h.showVersion(c, ver, pretty, "")
}

// showVersion renders a version with what a rollback would do to the
// draft, and whether the draft holds work that is not published (then the
// rollback asks first).
func (h *Handler) showVersion(c *fiber.Ctx, ver *siteconfig.Version, pretty, msg string) error {
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	unpublished, err := h.Manager.DraftUnpublished(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	shortened, err := h.Manager.RetentionShortenedBy(ctx(c), siteOf(c), ver.Config)
	if err != nil {
		return err
	}
	v := h.newView(c, fmt.Sprintf("Version %d", ver.Number))
	v.Tab = "versions"
	v.Error = msg
	v.Data = map[string]any{"Version": ver, "Pretty": pretty, "Fingerprint": ver.Config.Fingerprint(),
		"Rollback": manage.ReadDiff(d.Config, ver.JSON), "Unpublished": unpublished, "Shortened": shortened}
	return h.render(c, "version", v)
}

// postRollback publishes an old version again, as a new one.
func (h *Handler) postRollback(c *fiber.Ctx) error {
	n, err := versionParam(c)
	if err != nil {
		return err
	}
	_, _, err = h.Manager.RollbackWith(ctx(c), principal(c), siteOf(c), n, manage.PublishOptions{
		ReplaceDraft: c.FormValue("replace_draft") == "yes", ConfirmSite: strings.TrimSpace(c.FormValue("confirm_site"))})
	var ae *apierr.Error
	if errors.As(err, &ae) && (ae.Code == "confirm_site" || ae.Code == "draft_not_published") {
		ver, verr := h.Manager.Version(ctx(c), siteOf(c), n)
		if verr != nil {
			return verr
		}
		pretty, perr := indentJSON(ver.JSON)
		if perr != nil {
			return perr
		}
		return h.showVersion(c.Status(ae.Status), ver, pretty, ae.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/versions?done=rolledback", http.StatusSeeOther)
}
