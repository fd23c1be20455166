package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
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
	// Revision is the draft's the form was made from; a save sends it back.
	Revision string
	// Conflict: the save was refused, someone saved in between; the form
	// shows the refused values.
	Conflict *editConflict
}

// editConflict is a save refused because the draft changed after the form
// was made from it.
type editConflict struct {
	By      string
	At      time.Time
	Differs []manage.Change
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
	ed.Revision = d.Revision
	v.langs, v.Data = ed.Langs, ed
	return h.render(c, "editor", v)
}

// editorConflict shows the refused form again, with who saved in between
// and what differs; saving it again (now based on their revision) replaces
// their change deliberately.
func (h *Handler) editorConflict(c *fiber.Ctx, e *manage.StaleDraftError, mine []byte) error {
	cfg, err := manage.LenientConfig(mine)
	if err != nil {
		return err
	}
	v := h.newView(c, "Editor")
	v.Tab = "editor"
	v.readOnly = !v.Can("edit")
	ps := manage.Problems(mine)
	v.problems = placeProblems(ps)
	ed := newEditorData(cfg)
	ed.Problems, ed.ReadOnly, ed.UpdatedBy, ed.UpdatedAt = v.problems, v.readOnly, e.Current.UpdatedBy, e.Current.UpdatedAt
	ed.Revision = e.Current.Revision
	ed.Conflict = &editConflict{By: e.Current.UpdatedBy, At: e.Current.UpdatedAt, Differs: manage.Diff(e.Current.Config, mine)}
	v.langs, v.Data = ed.Langs, ed
	c.Status(http.StatusConflict)
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
	asJSON := strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMEApplicationJSON)
	// The form carries the revision it was made from: a save over a newer
	// draft would undo a change this page never showed.
	base := form["_rev"]
	if base == "" || base == manage.AnyRevision {
		return apierr.New(http.StatusBadRequest, "invalid_revision", "_rev",
			"the form does not say which draft it was made from; open the editor again")
	}
	d, err := h.Manager.SaveDraftAt(ctx(c), principal(c), siteOf(c), base, js)
	var stale *manage.StaleDraftError
	if errors.As(err, &stale) {
		if asJSON {
			return staleDraft(c, stale, js)
		}
		return h.editorConflict(c, stale, js)
	}
	if err != nil {
		return err
	}
	if asJSON {
		return c.JSON(fiber.Map{"valid": d.Valid, "problems": placeProblems(d.Problems), "revision": d.Revision,
			"languages": draftLanguages(d.Config),
			"saved":     "Draft saved " + d.UpdatedAt.UTC().Format("15:04:05") + " UTC"})
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

// draftLanguages are the languages the editor lays out for a draft: the
// script compares them with the page's to add a language's fields.
func draftLanguages(js []byte) []string {
	cfg, err := manage.LenientConfig(js)
	if err != nil {
		return nil
	}
	return newEditorData(cfg).Langs
}
