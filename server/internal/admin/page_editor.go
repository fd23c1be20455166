package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// editorData is what the editor shows.
type editorData struct {
	C                            *siteconfig.Config
	Problems                     []siteconfig.Problem
	ReadOnly                     bool
	Langs, LangOptions           []string
	TextKeys                     any
	CategoryIDs, CategoryOptions []string
	ItemTypes, Parties           []string
	Positions, Floating          []string
	Mode                         siteconfig.ConsentMode
	ModeKeys                     []string
	PreviewLang                  string
	UpdatedBy                    string
	UpdatedAt                    time.Time
}

// getEditor shows the draft in the editor (read-only for auditors).
func (h *Handler) getEditor(c *fiber.Ctx) error {
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	cfg, err := manage.LenientConfig(d.Config)
	if err != nil {
		return err
	}
	v := h.newView(c, "Editor")
	v.Tab = "editor"
	v.readOnly = !v.Can("edit")
	v.problems = placeProblems(d.Problems)
	ed := newEditorData(cfg)
	ed.Problems, ed.ReadOnly, ed.UpdatedBy, ed.UpdatedAt = v.problems, v.readOnly, d.UpdatedBy, d.UpdatedAt
	v.langs, v.Data = ed.Langs, ed
	return h.render(c, "editor", v)
}

func newEditorData(c *siteconfig.Config) *editorData {
	// Swedish and English first, always, side by side; then the others.
	langs := []string{"sv", "en"}
	for _, l := range c.Languages {
		if !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	ids := c.CategoryIDs()
	mode := siteconfig.ConsentMode{}
	if c.ConsentMode != nil {
		mode = *c.ConsentMode
	}
	preview := c.DefaultLanguage
	if !slices.Contains(langs, preview) {
		preview = "sv"
	}
	return &editorData{
		C: c, Langs: langs, LangOptions: langs, TextKeys: textLabels,
		CategoryIDs: ids, CategoryOptions: append([]string{""}, ids...),
		ItemTypes: []string{"cookie", "local_storage", "session_storage", "indexeddb", "pixel"},
		Parties:   []string{"first", "third"},
		Positions: []string{"bottom", "bottom-left", "bottom-right", "center"},
		Floating:  []string{"", "bottom-left", "bottom-right", "off"},
		Mode:      mode,
		ModeKeys: []string{"ad_storage", "ad_user_data", "ad_personalization", "analytics_storage",
			"functionality_storage", "personalization_storage"},
		PreviewLang: preview,
	}
}

// postEditor saves the form as the draft. The editor's script posts it as
// the owner types (Accept: application/json) and gets the problems back;
// without script, the page is shown again with them.
func (h *Handler) postEditor(c *fiber.Ctx) error {
	form := map[string]string{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { form[string(k)] = string(v) })
	js, err := configFromForm(form)
	if err != nil {
		return err
	}
	if op := form["op"]; op != "" && op != "save" {
		cfg, err := manage.LenientConfig(js)
		if err != nil {
			return err
		}
		applyOp(cfg, op)
		if js, err = json.Marshal(cfg); err != nil {
			return err
		}
	}
	d, err := h.Manager.SaveDraft(ctx(c), principal(c), siteOf(c), js)
	if err != nil {
		return err
	}
	if strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON) {
		return c.JSON(fiber.Map{"valid": d.Valid, "problems": placeProblems(d.Problems),
			"saved": "Draft saved " + d.UpdatedAt.UTC().Format("15:04:05") + " UTC"})
	}
	anchor := ""
	switch {
	case strings.HasPrefix(form["op"], "add_category"):
		anchor = "#sec-categories"
	case strings.HasPrefix(form["op"], "add_item"):
		anchor = "#sec-items"
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/edit?done=saved"+anchor, http.StatusSeeOther)
}
