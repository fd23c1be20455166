package web

import (
	"errors"
	"mime"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// preflightConsent answers CORS preflights. A preflight carries no body, so
// it cannot know the site; the POST itself enforces the site's origins.
func (s *server) preflightConsent(c *fiber.Ctx) error {
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		c.Set(fiber.HeaderAccessControlAllowOrigin, o)
		c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
		c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type")
		c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	}
	c.Vary(fiber.HeaderOrigin)
	return c.SendStatus(http.StatusNoContent)
}

// postConsent records one decision: decode → check against the version
// shown → append to the log → 201. The 201 is sent only after the Sink has
// made the record durable.
func (s *server) postConsent(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationJSON {
		return apierr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "send the decision as Content-Type: application/json")
	}
	req, err := consent.Decode(c.Body())
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	// The current version holds the site's origin policy today; the
	// requested version is what the visitor saw.
	cur, err := s.Versions.Current(ctx, req.Site)
	if errors.Is(err, siteconfig.ErrNotFound) {
		return apierr.New(http.StatusNotFound, "unknown_site", "site", "no published configuration for site %q", req.Site)
	}
	if err != nil {
		return unavailable(err)
	}
	origin := c.Get(fiber.HeaderOrigin)
	// Browsers always send Origin on a POST; its absence means a server-side
	// client, which origin checks could not stop anyway.
	if origin != "" {
		if !cur.Config.AllowsOrigin(origin) {
			return apierr.New(http.StatusForbidden, "origin_not_allowed", "", "origin %s may not record consents for site %q", origin, req.Site)
		}
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	}
	v := cur
	if req.ConfigVersion != cur.Number {
		v, err = s.Versions.Get(ctx, req.Site, req.ConfigVersion)
		if errors.Is(err, siteconfig.ErrNotFound) {
			return apierr.New(http.StatusNotFound, "unknown_version", "config_version", "site %q has no published version %d", req.Site, req.ConfigVersion)
		}
		if err != nil {
			return unavailable(err)
		}
	}
	if err := req.Check(v); err != nil {
		return err
	}
	ip, _ := netip.ParseAddr(c.IP())
	client := consent.Client{IP: ip, UserAgent: c.Get(fiber.HeaderUserAgent), GPC: c.Get("Sec-GPC") == "1"}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	rec := consent.NewRecord(req, v, client, id, s.Now())
	if err := s.Sink.Append(ctx, []consent.Record{rec}); err != nil {
		return unavailable(err)
	}
	s.metrics.consents.WithLabelValues(rec.Method).Inc()
	return c.Status(http.StatusCreated).JSON(fiber.Map{
		"record_id":   rec.RecordID,
		"consent_id":  rec.ConsentID,
		"recorded_at": rec.RecordedAt.Format(time.RFC3339Nano),
	})
}

// unavailable reports a failing dependency as 503, so clients retry.
func unavailable(err error) error {
	return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "the consent log is temporarily unavailable; retry shortly", Cause: err}
}
