package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
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
	data := map[string]any{"Snippet": h.snippet(siteOf(c)), "Draft": d, "Changes": pv.Diff.Count(),
		"Notice": h.PublicBase + "/s/" + siteOf(c) + "/cookies", "Scans": h.Scans != nil}
	// An owner sees what deleting the site concerns before typing its id.
	if roleOf(c) == manage.Owner {
		if data["Records"], err = h.Manager.Records(ctx(c), siteOf(c)); err != nil {
			return err
		}
	}
	v.Data = data
	return h.render(c, "site", v)
}

// confirmDeletion checks the typed site id, and says what the consent log
// holds when it is missing or wrong.
func (h *Handler) confirmDeletion(c *fiber.Ctx, typed string) error {
	if strings.TrimSpace(typed) == siteOf(c) {
		return nil
	}
	span, err := h.Manager.Records(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	what := ""
	switch {
	case span == nil:
	case span.Records == 0:
		what = " The consent log holds no records."
	default:
		what = fmt.Sprintf(" Its %d consent records (%s to %s) stay in the database until their retention ends (the last on %s), but nobody can look them up or export them here any more.",
			span.Records, span.First.Format(time.DateOnly), span.Last.Format(time.DateOnly), span.KeptUntil.Format(time.DateOnly))
	}
	return apierr.New(http.StatusBadRequest, "not_confirmed", "confirm_site", "type the site's id (%s) to confirm the deletion.%s", siteOf(c), what)
}

// postDeleteSite deletes a site once its id is typed to confirm.
func (h *Handler) postDeleteSite(c *fiber.Ctx) error {
	if err := h.confirmDeletion(c, c.FormValue("confirm")); err != nil {
		return err
	}
	if err := h.Manager.DeleteSite(ctx(c), principal(c), siteOf(c)); err != nil {
		return err
	}
	return c.Redirect("/admin/", http.StatusSeeOther)
}

// postRenameSite changes the site's name (owners).
func (h *Handler) postRenameSite(c *fiber.Ctx) error {
	if _, err := h.Manager.RenameSite(ctx(c), principal(c), siteOf(c), c.FormValue("name")); err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"?done=renamed", http.StatusSeeOther)
}
