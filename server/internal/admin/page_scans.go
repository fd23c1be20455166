package admin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/manage"
	"github.com/samtycke/samtycke/server/internal/notice"
	"github.com/samtycke/samtycke/server/internal/scan"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/store/clickhouse"
)

// ScanReports are the reports `samtycke scan` stored (ClickHouse).
type ScanReports interface {
	Scans(ctx context.Context, site string, limit int) ([]clickhouse.ScanSummary, error)
	ScanReport(ctx context.Context, site string, id uuid.UUID) ([]byte, error)
}

// scanHistory is how many past scans the page lists.
const scanHistory = 50

var errScanNotFound = apierr.New(http.StatusNotFound, "not_found", "scan", "no such scan of this site")

// finding is one row of the scan page: something seen (or declared and
// never seen), what is wrong with it, and the declaration to start from.
type finding struct {
	Kind       string           `json:"kind"`
	Name       string           `json:"name"`
	Domain     string           `json:"domain"`
	Party      string           `json:"party"`
	Category   string           `json:"category"`
	Before     bool             `json:"before_consent"`
	After      bool             `json:"after_consent"`
	Findings   []string         `json:"findings"`
	Suggestion *siteconfig.Item `json:"suggestion"`
	InDraft    bool             `json:"in_draft"` // the suggestion's item is in the draft already
	Lifetime   string           `json:"lifetime"` // the suggestion's duration in words
}

// getScans shows a site's scan report (the latest, or ?scan=ID) and the
// history of its scans.
func (h *Handler) getScans(c *fiber.Ctx) error {
	return h.showScans(c, "")
}

func (h *Handler) showScans(c *fiber.Ctx, msg string) error {
	site := siteOf(c)
	list, err := h.Scans.Scans(ctx(c), site, scanHistory)
	if err != nil {
		return err
	}
	v := h.newView(c, "Scans")
	v.Tab = "scans"
	v.Error = msg
	data := map[string]any{"History": list}
	if len(list) > 0 {
		id := list[0].ID
		if q := c.Query("scan"); q != "" {
			if id, err = uuid.Parse(q); err != nil {
				return apierr.New(http.StatusBadRequest, "invalid_scan", "scan", "the scan id is not a UUID")
			}
		}
		rep, err := h.scanReport(c, id)
		if err != nil {
			return err
		}
		d, err := h.Manager.Draft(ctx(c), site)
		if err != nil {
			return err
		}
		draft, err := manage.LenientConfig(d.Config)
		if err != nil {
			return err
		}
		data["Report"], data["Findings"], data["Latest"] = rep, findings(rep, draft), id == list[0].ID
		data["Lang"] = draft.DefaultLanguage
	}
	if a := c.Query("added"); a != "" {
		v.Flash = "Added " + a + " to the draft. Check its purpose and category in the editor, then publish."
	}
	v.Data = data
	return h.render(c, "scans", v)
}

func (h *Handler) scanReport(c *fiber.Ctx, id uuid.UUID) (*scan.Report, error) {
	js, err := h.Scans.ScanReport(ctx(c), siteOf(c), id)
	if manage.IsNotFound(err) || errors.Is(err, siteconfig.ErrNotFound) {
		return nil, errScanNotFound
	}
	if err != nil {
		return nil, err
	}
	var rep scan.Report
	if err := json.Unmarshal(js, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// declKey identifies a declaration the way the banner matches it.
func declKey(typ, name, domain string) string { return typ + "\x00" + name + "\x00" + domain }

// findings lists what the report found, problems first, each with whether
// its suggested declaration is in the draft already.
func findings(rep *scan.Report, draft *siteconfig.Config) []finding {
	have := map[string]bool{}
	for _, it := range draft.Items {
		have[declKey(it.Type, it.Name, it.Domain)] = true
	}
	var out []finding
	add := func(f finding) {
		if f.Suggestion != nil {
			f.InDraft = have[declKey(f.Suggestion.Type, f.Suggestion.Name, f.Suggestion.Domain)]
			f.Lifetime = notice.Lifetime("en", f.Suggestion.Duration)
		}
		out = append(out, f)
	}
	for _, o := range rep.Items {
		if len(o.Findings) == 0 {
			continue
		}
		f := finding{Kind: o.Type, Name: o.Name, Domain: o.Domain, Party: o.Party, Before: o.BeforeConsent, After: o.AfterConsent,
			Findings: o.Findings, Suggestion: o.Suggestion}
		if o.Declared != nil {
			f.Category = o.Declared.Category
		}
		add(f)
	}
	for _, t := range rep.ThirdParties {
		if len(t.Findings) == 0 {
			continue
		}
		add(finding{Kind: "host", Name: t.Host, Domain: t.Host, Party: "third", Category: t.Category, Before: t.BeforeConsent,
			After: t.AfterConsent, Findings: t.Findings, Suggestion: t.Suggestion})
	}
	for _, d := range rep.Unseen {
		add(finding{Kind: d.Type, Name: d.Name, Domain: d.Domain, Category: d.Category, Findings: []string{scan.Unseen}})
	}
	return out
}

// postScanAdd adds one finding's suggested declaration to the draft.
func (h *Handler) postScanAdd(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.FormValue("scan"))
	if err != nil {
		return apierr.New(http.StatusBadRequest, "invalid_scan", "scan", "the scan id is not a UUID")
	}
	sug, _, err := h.addSuggestion(c, id, c.FormValue("type"), c.FormValue("name"), c.FormValue("domain"))
	if errors.Is(err, errInDraft) {
		return h.showScans(c.Status(http.StatusConflict), manage.ItemLabel(*sug)+" is in the draft already.")
	}
	if err != nil {
		return err
	}
	return c.Redirect("/admin/sites/"+siteOf(c)+"/scans?scan="+id.String()+"&added="+url.QueryEscape(manage.ItemLabel(*sug)), http.StatusSeeOther)
}
