package admin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// errInDraft ends a draft update whose item is there already.
var errInDraft = errors.New("in the draft already")

// scanSummary is one scan of GET /v1/sites/{site}/scans.
type scanSummary struct {
	ID            uuid.UUID `json:"id"`
	StartedAt     time.Time `json:"started_at"`
	DurationMS    int64     `json:"duration_ms"`
	ConfigVersion uint32    `json:"config_version"`
	StartURLs     []string  `json:"start_urls"`
	Pages         uint16    `json:"pages"`
	BannerFound   bool      `json:"banner_found"`
	Undeclared    uint32    `json:"undeclared"`
	PreConsent    uint32    `json:"pre_consent"`
	Unseen        uint32    `json:"unseen"`
	Limits        []string  `json:"limits_reached"`
}

// apiScans: GET /v1/sites/{site}/scans — the stored scans, newest first.
func (h *Handler) apiScans(c *fiber.Ctx) error {
	list, err := h.Scans.Scans(ctx(c), siteOf(c), scanHistory)
	if err != nil {
		return err
	}
	out := make([]scanSummary, 0, len(list))
	for _, s := range list {
		out = append(out, scanSummary{ID: s.ID, StartedAt: s.StartedAt, DurationMS: s.Duration.Milliseconds(), ConfigVersion: s.ConfigVersion,
			StartURLs: nonNil(s.StartURLs), Pages: s.Pages, BannerFound: s.BannerFound, Undeclared: s.Undeclared, PreConsent: s.PreConsent,
			Unseen: s.Unseen, Limits: nonNil(s.Limits)})
	}
	return c.JSON(fiber.Map{"scans": out})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// scanParam is :id, where "latest" is the newest scan of the site.
func (h *Handler) scanParam(c *fiber.Ctx) (uuid.UUID, error) {
	raw := c.Params("id")
	if raw == "latest" {
		list, err := h.Scans.Scans(ctx(c), siteOf(c), 1)
		if err != nil {
			return uuid.Nil, err
		}
		if len(list) == 0 {
			return uuid.Nil, apierr.New(http.StatusNotFound, "no_scans", "scan", "this site has no stored scan yet")
		}
		return list[0].ID, nil
	}
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, apierr.New(http.StatusBadRequest, "invalid_scan", "id", "a scan id is a UUID or \"latest\"")
	}
	return id, nil
}

// apiScan: GET /v1/sites/{site}/scans/{id} (or latest) — the report and
// its findings, problems first, each with its suggested declaration and
// whether that is in the draft already.
func (h *Handler) apiScan(c *fiber.Ctx) error {
	id, err := h.scanParam(c)
	if err != nil {
		return err
	}
	js, err := h.Scans.ScanReport(ctx(c), siteOf(c), id)
	if manage.IsNotFound(err) || errors.Is(err, siteconfig.ErrNotFound) {
		return errScanNotFound
	}
	if err != nil {
		return err
	}
	var rep scan.Report
	if err := json.Unmarshal(js, &rep); err != nil {
		return err
	}
	d, err := h.Manager.Draft(ctx(c), siteOf(c))
	if err != nil {
		return err
	}
	draft, err := manage.LenientConfig(d.Config)
	if err != nil {
		return err
	}
	fs := findings(&rep, draft)
	if fs == nil {
		fs = []finding{}
	}
	return c.JSON(fiber.Map{"id": id, "started_at": rep.StartedAt, "findings": fs, "report": rawJSON(js)})
}

type addSuggestionRequest struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Domain string `json:"domain"`
}

// apiScanAdd: POST /v1/sites/{site}/scans/{id}/add — adds the declaration
// the scan suggested for {type, name, domain} to the draft.
func (h *Handler) apiScanAdd(c *fiber.Ctx) error {
	id, err := h.scanParam(c)
	if err != nil {
		return err
	}
	var req addSuggestionRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if strings.TrimSpace(req.Type) == "" {
		return apierr.New(http.StatusBadRequest, "invalid_field", "type", "type is required (cookie, local_storage, pixel…, as in the finding's suggestion)")
	}
	if strings.TrimSpace(req.Name) == "" {
		return apierr.New(http.StatusBadRequest, "invalid_field", "name", "name is required (the suggestion's name)")
	}
	item, v, err := h.addSuggestion(c, id, req.Type, req.Name, req.Domain)
	if errors.Is(err, errInDraft) {
		return apierr.New(http.StatusConflict, "in_draft", "name", "%s is in the draft already", manage.ItemLabel(*item))
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, `"`+v.Revision+`"`)
	return c.Status(http.StatusCreated).JSON(fiber.Map{"added": item, "revision": v.Revision})
}

// addSuggestion adds one suggested declaration of scan id to the draft: a
// read-modify-write done again if someone saves in between, so the click
// never undoes an edit it did not see. errInDraft (with the item) when the
// draft declares it already.
func (h *Handler) addSuggestion(c *fiber.Ctx, id uuid.UUID, typ, name, domain string) (*siteconfig.Item, *manage.DraftView, error) {
	rep, err := h.scanReport(c, id)
	if err != nil {
		return nil, nil, err
	}
	key := declKey(typ, name, domain)
	var sug *siteconfig.Item
	for i := range rep.Suggestions {
		if it := &rep.Suggestions[i]; declKey(it.Type, it.Name, it.Domain) == key {
			sug = it
			break
		}
	}
	if sug == nil {
		return nil, nil, apierr.New(http.StatusNotFound, "no_suggestion", "name", "this scan suggests no such declaration")
	}
	v, err := h.Manager.UpdateDraft(ctx(c), principal(c), siteOf(c), func(js []byte) ([]byte, error) {
		draft, err := manage.LenientConfig(js)
		if err != nil {
			return nil, err
		}
		for _, it := range draft.Items {
			if declKey(it.Type, it.Name, it.Domain) == key {
				return nil, errInDraft
			}
		}
		draft.Items = append(draft.Items, *sug)
		return json.Marshal(draft)
	})
	return sug, v, err
}
