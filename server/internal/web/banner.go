package web

import (
	"errors"
	"net/http"

	"github.com/gofiber/fiber/v2"

	"github.com/samtycke/samtycke/server/internal/apierr"
	"github.com/samtycke/samtycke/server/internal/precompressed"
	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// bannerCacheControl lets browsers and CDNs keep the script for five
// minutes, then revalidate with its ETag; a publish reaches every visitor
// within that time.
const bannerCacheControl = "public, max-age=300, stale-while-revalidate=60, stale-if-error=86400"

// getBanner serves the current version's precompressed script.
func (s *server) getBanner(c *fiber.Ctx) error {
	site := c.Params("site") // aliases Fiber's buffer; the provider copies what it keeps
	if !siteconfig.ValidSiteID(site) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "%q is not a site id", site)
	}
	v, err := s.Versions.Current(c.UserContext(), site)
	if errors.Is(err, siteconfig.ErrNotFound) {
		return apierr.New(http.StatusNotFound, "unknown_site", "", "no published configuration for site %q", site)
	}
	if err != nil {
		return unavailable(err)
	}
	a, err := s.Banner.For(v)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, bannerCacheControl)
	c.Set("X-Content-Type-Options", "nosniff")
	// The script is embedded by other sites, so other origins may load it.
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return sendPrecompressed(c, a)
}

// sendPrecompressed answers with the coding of body the client accepts,
// its strong ETag, and 304 when the client has it already. The caller sets
// the content type and caching.
func sendPrecompressed(c *fiber.Ctx, body *precompressed.Body) error {
	raw, etag, enc := body.Pick(c.Get(fiber.HeaderAcceptEncoding))
	c.Vary(fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderETag, etag)
	if precompressed.Matches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(http.StatusNotModified)
	}
	if enc != "" {
		c.Set(fiber.HeaderContentEncoding, enc)
	}
	return c.Send(raw)
}
