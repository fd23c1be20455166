package admin

import (
	"bytes"
	"html/template"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/banner"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// getPreview is the page the editor frames: a sketch of a website with the
// real banner built from the draft, in the chosen language and layer.
func (h *Handler) getPreview(c *fiber.Ctx) error {
	lang := c.Query("lang", "sv")
	if len(lang) > 8 {
		lang = "sv"
	}
	layer := "1"
	if c.Query("layer") == "2" {
		layer = "2"
	}
	// ?version=n previews a published version as it was shown, else the draft.
	script := "/admin/sites/" + siteOf(c) + "/preview.js?draft=" + strconv.FormatInt(h.Now().UnixNano(), 36)
	if n, err := strconv.ParseUint(c.Query("version"), 10, 32); err == nil && n > 0 {
		script = "/admin/sites/" + siteOf(c) + "/preview.js?version=" + strconv.FormatUint(n, 10)
	}
	var buf bytes.Buffer
	err := h.pages["preview"].ExecuteTemplate(&buf, "page_preview.html", map[string]any{
		"Lang": lang, "Layer": layer, "Site": siteOf(c), "CSS": template.URL(h.asset("dashboard.css")),
		"Helper": template.URL(h.asset("preview.js")), "Script": template.URL(script),
	})
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// previewConfig is the configuration a preview shows: published version
// which ("1", "2", …) or, for "draft", the draft.
func (h *Handler) previewConfig(c *fiber.Ctx, which string) (*siteconfig.Config, error) {
	if which != "draft" {
		n, err := strconv.ParseUint(which, 10, 32)
		if err != nil || n == 0 {
			return nil, errVersionNotFound
		}
		v, err := h.Manager.Version(ctx(c), siteOf(c), uint32(n))
		if err != nil {
			return nil, errVersionNotFound
		}
		return v.Config, nil
	}
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return nil, err
	}
	cfg, err := manage.LenientConfig(d.Config)
	if err != nil {
		return nil, err
	}
	// A language the draft lacks would leave the banner without texts.
	if !slices.Contains(cfg.Languages, cfg.DefaultLanguage) && len(cfg.Languages) > 0 {
		c2 := *cfg
		c2.DefaultLanguage = cfg.Languages[0]
		cfg = &c2
	}
	return cfg, nil
}

// getPreviewScript is the banner script for the draft, or for published
// version ?version=n. Its second layer loads the items from
// getPreviewDetails, for the same configuration.
func (h *Handler) getPreviewScript(c *fiber.Ctx) error {
	which := "draft"
	if c.Query("version") != "" {
		which = c.Query("version")
	}
	cfg, err := h.previewConfig(c, which)
	if err != nil {
		return err
	}
	// Relative: the frame is on the dashboard's origin, whatever the
	// public base, and preview.js sends the session cookie with it.
	details := "/admin/sites/" + siteOf(c) + "/preview/" + which + "/details.json"
	js, err := h.Preview.Preview(siteOf(c), cfg, details)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(js)
}

// getPreviewDetails is what the preview's second layer loads when it opens:
// the items of the draft (which = "draft") or of published version which,
// worded in ?lang=, as /b/SITE/N/details.json words a published version's.
// Only the site's members read it (a draft is not public).
func (h *Handler) getPreviewDetails(c *fiber.Ctx) error {
	cfg, err := h.previewConfig(c, c.Params("which"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(banner.DetailsOf(cfg, c.Query("lang")))
}
