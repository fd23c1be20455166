package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
)

// getSites lists the viewer's sites, with the form to create one.
func (h *Handler) getSites(c *fiber.Ctx) error {
	return h.showSites(c, http.StatusOK, nil, "")
}

func (h *Handler) showSites(c *fiber.Ctx, status int, form map[string]string, msg string) error {
	sites, err := h.Manager.Sites(ctx(c), principal(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "Sites")
	v.Error = msg
	v.Data = map[string]any{"Sites": sites, "Form": form}
	return h.render(c.Status(status), "sites", v)
}

// postSite creates a site; the creator owns it.
func (h *Handler) postSite(c *fiber.Ctx) error {
	form := map[string]string{"id": strings.Clone(c.FormValue("id")), "name": strings.Clone(c.FormValue("name")),
		"allowed_origins": strings.Clone(c.FormValue("allowed_origins"))}
	site, err := h.Manager.CreateSite(ctx(c), principal(c), strings.TrimSpace(form["id"]), form["name"], splitList(form["allowed_origins"]))
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return h.showSites(c, ae.Status, form, ae.Message)
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+site.ID+"/edit?done=created", http.StatusSeeOther)
}

// getSite is a site's overview: the embed snippet and its state.
func (h *Handler) getSite(c *fiber.Ctx) error {
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	// "Ready to publish" only when publishing would change something.
	pv, err := h.Manager.PublishPreview(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	v := h.newView(c, "Overview")
	v.Tab = "overview"
	v.Data = map[string]any{"Snippet": h.snippet(siteOf(c)), "Draft": d, "Changes": len(pv.Changes),
		"Notice": h.PublicBase + "/s/" + siteOf(c) + "/cookies"}
	return h.render(c, "site", v)
}

// postDeleteSite deletes a site once its id is typed to confirm.
func (h *Handler) postDeleteSite(c *fiber.Ctx) error {
	if c.FormValue("confirm") != siteOf(c) {
		return apierr.New(http.StatusBadRequest, "not_confirmed", "confirm", "type the site's id to confirm the deletion")
	}
	if err := h.Manager.DeleteSite(ctx(c), principal(c), siteOf(c)); err != nil {
		return err
	}
	return c.Redirect("/admin/", http.StatusSeeOther)
}
