package web

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/cache"
	"github.com/samtycke/samtycke/server/internal/consent"
	"github.com/samtycke/samtycke/server/internal/dedup"
	"github.com/samtycke/samtycke/server/internal/ledger"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
	"github.com/samtycke/samtycke/server/internal/spool"
)

// preflightConsent answers CORS preflights. A preflight carries no body, so
// it cannot know the site; the POST itself enforces the site's origins.
func (s *server) preflightConsent(c *fiber.Ctx) error {
	if o := c.Get(fiber.HeaderOrigin); o != "" {
		c.Set(fiber.HeaderAccessControlAllowOrigin, o)
		c.Set(fiber.HeaderAccessControlAllowMethods, "POST")
		c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type, Idempotency-Key")
		c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	}
	c.Vary(fiber.HeaderOrigin)
	return c.SendStatus(http.StatusNoContent)
}

// postConsent records one decision: decode → check against the version
// shown → minimise → append to the spool → 201. The 201 is sent only once the
// record is fsynced in the spool; the shipper moves it to ClickHouse.
func (s *server) postConsent(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err != nil || mt != fiber.MIMEApplicationJSON {
		return apierr.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "", "send the decision as Content-Type: application/json")
	}
	req, err := consent.Decode(c.Body()) // at most 4 KiB were read (bodyLimit)
	if err != nil {
		return err
	}
	// From here to the spool lie round trips to Redis: announced, this
	// decision shares the fsync of those just ahead of it.
	s.Spool.Expect()
	announced := true
	defer func() {
		if announced {
			s.Spool.Withdraw()
		}
	}()
	if key := c.Get("Idempotency-Key"); key != "" {
		switch {
		case !consent.ValidEventID(key):
			return apierr.New(http.StatusBadRequest, "invalid_header", "Idempotency-Key", "Idempotency-Key must be a UUID, new for each decision")
		case req.EventID != "" && !strings.EqualFold(req.EventID, key):
			return apierr.New(http.StatusBadRequest, "invalid_header", "Idempotency-Key", "Idempotency-Key and event_id differ; send one of them")
		}
		req.EventID = key
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
		// The banner waits as long as a 409, 429 or 503 asks before it retries.
		c.Set(fiber.HeaderAccessControlExposeHeaders, fiber.HeaderRetryAfter)
	}
	ip, _ := netip.ParseAddr(c.IP())
	prefix := consent.TruncateIP(ip)
	if err := s.rateLimit(ctx, req.Site, prefix); err != nil {
		return err
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
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	if req.EventID != "" {
		switch st, e := s.Events.Claim(ctx, req.Site, req.EventID, id); st {
		case dedup.Done:
			c.Set("Idempotent-Replayed", "true")
			var r *ledger.Receipt
			if s.Notary != nil && !e.RetainUntil.IsZero() {
				rc := s.Notary.Sign(ledger.Promise{RecordID: e.RecordID, RecordHash: e.RecordHash, RetainUntil: e.RetainUntil, Site: req.Site})
				r = &rc
			}
			return created(c, e.RecordID, req.ConsentID, e.RecordedAt, r)
		case dedup.Pending:
			return &apierr.Error{Status: http.StatusConflict, Code: "in_progress", Field: "event_id",
				Message: "this decision is being recorded by another request; retry in a second to get its record"}
		}
	}
	client := consent.Client{IP: ip, UserAgent: c.Get(fiber.HeaderUserAgent), GPC: c.Get("Sec-GPC") == "1"}
	rec := consent.NewRecord(req, v, client, id, s.Now())
	// The receipt is signed with the others of the same fsync, before
	// AppendExpected returns: a promise to log a record that is durable.
	var tag any
	var pending *ledger.Pending
	if s.Notary != nil || req.EventID != "" {
		pending = &ledger.Pending{Promise: ledger.PromiseOf(&rec)}
	}
	if s.Notary != nil {
		tag = pending
	}
	announced = false
	if _, err := s.Spool.AppendExpected(tag, rec.Encode()); err != nil {
		if req.EventID != "" {
			s.Events.Abandon(ctx, req.Site, req.EventID)
		}
		if errors.Is(err, spool.ErrFull) {
			s.metrics.spoolFull.Inc()
			return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "backlog_full",
				Message: "too many decisions wait to be written to the consent log; retry shortly", Cause: err}
		}
		return unavailable(err)
	}
	var r *ledger.Receipt
	if s.Notary != nil && pending.Receipt.Signature != "" {
		r = &pending.Receipt
	}
	if req.EventID != "" {
		s.Events.Done(ctx, req.Site, req.EventID, dedup.Entry{RecordID: rec.RecordID, RecordedAt: rec.RecordedAt,
			RecordHash: pending.Promise.RecordHash, RetainUntil: pending.Promise.RetainUntil})
	}
	s.metrics.consents.WithLabelValues(rec.Method).Inc()
	return created(c, rec.RecordID, req.ConsentID, rec.RecordedAt, r)
}

// created answers 201. The body is built by hand: every value is a
// validated UUID or a timestamp, so nothing needs escaping, and reflection
// was a measurable part of each consent's cost.
func created(c *fiber.Ctx, recordID uuid.UUID, consentID string, at time.Time, r *ledger.Receipt) error {
	b := make([]byte, 0, 1024)
	b = append(b, `{"record_id":"`...)
	b = append(b, recordID.String()...)
	b = append(b, `","consent_id":"`...)
	b = append(b, strings.ToLower(consentID)...)
	b = append(b, `","recorded_at":"`...)
	b = at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if r != nil {
		b = append(b, `,"receipt":`...)
		b = r.AppendJSON(b)
	}
	b = append(b, '}')
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(http.StatusCreated).Send(b)
}

// rateLimit applies SAMTYCKE_RATELIMIT_PER_IP (per minute, per truncated IP
// prefix) and SAMTYCKE_RATELIMIT_PER_SITE (per second) in one cache round
// trip. A failing cache is never a reason to refuse a decision.
func (s *server) rateLimit(ctx context.Context, site, prefix string) error {
	limits := make([]cache.Limit, 0, 2)
	if n := s.Config.RateLimitPerIP; n > 0 && prefix != "" {
		limits = append(limits, cache.Limit{Key: "rl:ip:" + prefix, N: n, Per: time.Minute})
	}
	if n := s.Config.RateLimitPerSite; n > 0 {
		limits = append(limits, cache.Limit{Key: "rl:site:" + site, N: n, Per: time.Second})
	}
	if len(limits) == 0 {
		return nil
	}
	wait, err := s.Cache.Allow(ctx, limits...)
	if err != nil {
		s.Log.Warn("rate limits unavailable; letting the decision through", "err", err)
		return nil
	}
	if wait == 0 {
		return nil
	}
	s.metrics.rateLimited.Inc()
	return &apierr.Error{Status: http.StatusTooManyRequests, Code: "rate_limited", RetryAfter: wait,
		Message: "too many decisions from this network or for this site; retry later"}
}

// unavailable reports a failing dependency as 503, so clients retry.
func unavailable(err error) error {
	return &apierr.Error{Status: http.StatusServiceUnavailable, Code: "unavailable",
		Message: "the service is temporarily unavailable; retry shortly", Cause: err}
}
