package admin

import (
	"bytes"
	"html/template"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

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

// getPreviewScript is the banner script for the draft, or for published
// version ?version=n.
func (h *Handler) getPreviewScript(c *fiber.Ctx) error {
	var cfg *siteconfig.Config
	if c.Query("version") != "" {
		n, err := strconv.ParseUint(c.Query("version"), 10, 32)
		if err != nil {
			return errVersionNotFound
		}
		v, err := h.Manager.Version(ctx(c), siteOf(c), uint32(n))
		if err != nil {
			return errVersionNotFound
		}
		cfg = v.Config
	} else {
		d, err := h.Manager.Draft(ctx(c), siteOf(c))
		if err != nil {
			return err
		}
		if cfg, err = manage.LenientConfig(d.Config); err != nil {
			return err
		}
	}
	// A language the draft lacks would leave the banner without texts.
	if !slices.Contains(cfg.Languages, cfg.DefaultLanguage) && len(cfg.Languages) > 0 {
		c2 := *cfg
		c2.DefaultLanguage = cfg.Languages[0]
		cfg = &c2
	}
	js, err := h.Preview.Preview(siteOf(c), cfg)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(js)
}
