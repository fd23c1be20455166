package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// History reads one visitor's decisions: the consent log by consent ID.
type History interface {
	ConsentHistory(ctx context.Context, site string, consentID uuid.UUID) ([]ledger.Row, error)
}

// Decision is one of a visitor's own decisions as shown to them: nothing
// about their network, browser or anyone else.
type Decision struct {
	RecordedAt    string          `json:"recorded_at"`
	ConfigVersion uint32          `json:"config_version"`
	Method        string          `json:"method"`
	Source        string          `json:"source"`
	Lang          string          `json:"lang"`
	Choices       map[string]bool `json:"choices"`
	GPC           bool            `json:"gpc"`
}

// getConsentHistory: GET /v1/consents/{consent_id}?site=S, the visitor's
// own history, linked from the banner's second layer. The consent ID is
// the visitor's random secret; pages of the site's allowed origins may
// read it (CORS), and nothing is cached.
func (s *server) getConsentHistory(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	c.Set(fiber.HeaderCacheControl, "no-store")
	site := c.Query("site")
	if !siteconfig.ValidSiteID(site) {
		return apierr.New(http.StatusBadRequest, "invalid_site", "site", "site must be a site ID")
	}
	id, err := uuid.Parse(c.Params("consent_id"))
	if err != nil {
		return apierr.New(http.StatusBadRequest, "invalid_consent_id", "consent_id", "the consent ID is not a UUID")
	}
	ctx := c.UserContext()
	cur, err := s.Versions.Current(ctx, site)
	if errors.Is(err, siteconfig.ErrNotFound) {
		return apierr.New(http.StatusNotFound, "unknown_site", "site", "no published configuration for site %q", site)
	}
	if err != nil {
		return unavailable(err)
	}
	if origin := c.Get(fiber.HeaderOrigin); origin != "" {
		if !cur.Config.AllowsOrigin(origin) {
			return apierr.New(http.StatusForbidden, "origin_not_allowed", "", "origin %s may not read consents of site %q", origin, site)
		}
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	}
	ip, _ := netip.ParseAddr(c.IP())
	if err := s.rateLimit(ctx, site, consent.TruncateIP(ip)); err != nil {
		return err
	}
	rows, err := s.History.ConsentHistory(ctx, site, id)
	if err != nil {
		return unavailable(err)
	}
	out := make([]Decision, len(rows))
	for i, r := range rows {
		d := Decision{RecordedAt: r.RecordedAt, ConfigVersion: r.ConfigVersion, Method: r.Method, Source: r.Source, Lang: r.Lang,
			Choices: map[string]bool{}, GPC: r.GPC}
		for j, cat := range r.Categories {
			d.Choices[cat] = j < len(r.Granted) && r.Granted[j]
		}
		out[i] = d
	}
	return c.JSON(map[string]any{"consent_id": id.String(), "site": site, "decisions": out})
}
